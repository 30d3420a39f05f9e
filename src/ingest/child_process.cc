#include "ingest/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

namespace on::ingest {
namespace {

using Clock = std::chrono::steady_clock;

// Highest descriptor closed in the child when close_range is not available.
constexpr int kMaxInheritedDescriptor = 65536;

// Owns a file descriptor and closes it on destruction or Close().
class Descriptor {
 public:
  Descriptor() = default;
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(Descriptor&& other) noexcept : fd_(other.Release()) {}
  Descriptor& operator=(Descriptor&& other) noexcept {
    Close();
    fd_ = other.Release();
    return *this;
  }
  ~Descriptor() { Close(); }

  int get() const { return fd_; }
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Descriptor read_end;
  Descriptor write_end;
};

bool MakePipe(Pipe& pipe) {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) return false;
  pipe.read_end = Descriptor(fds[0]);
  pipe.write_end = Descriptor(fds[1]);
  return true;
}

bool IsExecutableFile(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

// Resolves a program name through PATH in the parent: execvp would do it in the child, where
// only async-signal-safe functions may run.
std::string ResolveProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path_variable = std::getenv("PATH");
  std::string_view path = path_variable != nullptr ? path_variable : "/usr/local/bin:/usr/bin:/bin";
  while (!path.empty()) {
    const size_t colon = path.find(':');
    const std::string_view directory = path.substr(0, colon);
    path = colon == std::string_view::npos ? std::string_view() : path.substr(colon + 1);
    std::string candidate(directory.empty() ? std::string_view(".") : directory);
    candidate += '/';
    candidate += name;
    if (IsExecutableFile(candidate)) return candidate;
  }
  return "";
}

struct ChildSetup {
  const char* program;
  char* const* argv;
  char* const* envp;
  int stdin_fd;
  int stdout_fd;
  int stderr_fd;
  int exec_error_fd;
  rlim_t memory_bytes;
  rlim_t cpu_seconds;
};

// Runs in the child between fork and exec, so it calls only async-signal-safe functions.
[[noreturn]] void RunChild(const ChildSetup& setup) {
  ::setpgid(0, 0);

  sigset_t no_signals;
  sigemptyset(&no_signals);
  ::sigprocmask(SIG_SETMASK, &no_signals, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::signal(SIGXCPU, SIG_DFL);

  if (setup.memory_bytes > 0) {
    const rlimit memory{setup.memory_bytes, setup.memory_bytes};
    ::setrlimit(RLIMIT_AS, &memory);
  }
  if (setup.cpu_seconds > 0) {
    // SIGXCPU at the soft limit, SIGKILL one second later for a child that ignores it.
    const rlimit cpu{setup.cpu_seconds, setup.cpu_seconds + 1};
    ::setrlimit(RLIMIT_CPU, &cpu);
  }

  ::dup2(setup.stdin_fd, STDIN_FILENO);
  ::dup2(setup.stdout_fd, STDOUT_FILENO);
  ::dup2(setup.stderr_fd, STDERR_FILENO);
  // Descriptors that the server opened without O_CLOEXEC must not leak into the child. Marking
  // them close-on-exec keeps exec_error_fd usable until exec succeeds.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < kMaxInheritedDescriptor; ++fd) {
      if (fd != setup.exec_error_fd) ::close(fd);
    }
  }

  ::execve(setup.program, setup.argv, setup.envp);
  const int error = errno;
  [[maybe_unused]] const ssize_t written = ::write(setup.exec_error_fd, &error, sizeof(error));
  ::_exit(127);
}

// Returns the errno of a failed exec reported through the exec-error pipe, 0 after a successful
// exec (the pipe's write end is close-on-exec, so the read returns end of file).
int ReadExecError(int fd) {
  int error = 0;
  while (true) {
    const ssize_t n = ::read(fd, &error, sizeof(error));
    if (n < 0 && errno == EINTR) continue;
    return n == static_cast<ssize_t>(sizeof(error)) ? error : 0;
  }
}

void KillGroup(pid_t pid) {
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
}

// A wait status that is neither "exited" nor "signalled", for a child that could not be waited
// for; the result then reports exit code -1.
constexpr int kUnknownStatus = -1;

int WaitBlocking(pid_t pid) {
  int status = 0;
  while (true) {
    if (::waitpid(pid, &status, 0) == pid) return status;
    if (errno != EINTR) return kUnknownStatus;
  }
}

// Reads stdout and stderr until both reach end of file, the deadline passes or stdout grows
// beyond its limit.
void CollectOutput(int stdout_fd, int stderr_fd, Clock::time_point deadline,
                   const ChildProcessLimits& limits, ChildProcessResult& result) {
  std::array<pollfd, 2> fds{{{stdout_fd, POLLIN, 0}, {stderr_fd, POLLIN, 0}}};
  std::array<char, 65536> buffer{};
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    const auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (remaining.count() <= 0) {
      result.timed_out = true;
      return;
    }
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(remaining.count()) + 1);
    if (ready < 0 && errno != EINTR) return;
    if (ready <= 0) continue;

    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer.data(), buffer.size());
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        fds[i].fd = -1;
        continue;
      }
      std::string& sink = i == 0 ? result.stdout_data : result.stderr_data;
      const size_t cap = i == 0 ? limits.max_stdout_bytes : limits.max_stderr_bytes;
      const size_t room = cap - std::min(cap, sink.size());
      sink.append(buffer.data(), std::min(room, static_cast<size_t>(n)));
      if (i == 0 && static_cast<size_t>(n) > room) {
        result.output_truncated = true;
        return;
      }
    }
  }
}

// Reaps the child, killing it first when it outlives the deadline. Returns the wait status.
int ReapChild(pid_t pid, Clock::time_point deadline, ChildProcessResult& result) {
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return kUnknownStatus;
    if (Clock::now() >= deadline) {
      result.timed_out = true;
      KillGroup(pid);
      return WaitBlocking(pid);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

Result<ChildProcessResult> RunChildProcess(const std::vector<std::string>& argv,
                                           const ChildProcessLimits& limits,
                                           const std::vector<std::string>& environment) {
  const std::string program = ResolveProgram(argv.at(0));
  if (program.empty()) {
    return Status(ErrorCode::kConfiguration,
                  "the program \"" + argv[0] + "\" was not found in PATH; install it or configure "
                  "its full path");
  }

  // Everything the child needs is allocated before fork.
  std::vector<char*> child_argv;
  for (const std::string& argument : argv) child_argv.push_back(const_cast<char*>(argument.c_str()));
  child_argv.push_back(nullptr);
  std::vector<char*> child_envp;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view inherited(*entry);
    const std::string_view name = inherited.substr(0, inherited.find('='));
    const bool replaced = std::any_of(environment.begin(), environment.end(), [&](const std::string& added) {
      return added.size() > name.size() && added.compare(0, name.size(), name) == 0 && added[name.size()] == '=';
    });
    if (!replaced) child_envp.push_back(*entry);
  }
  for (const std::string& added : environment) child_envp.push_back(const_cast<char*>(added.c_str()));
  child_envp.push_back(nullptr);

  Pipe out;
  Pipe err;
  Pipe exec_error;
  Descriptor null_input(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!MakePipe(out) || !MakePipe(err) || !MakePipe(exec_error) || null_input.get() < 0) {
    return InternalError(std::string("could not create pipes for a child process: ") +
                         std::strerror(errno));
  }

  const ChildSetup setup{program.c_str(),
                         child_argv.data(),
                         child_envp.data(),
                         null_input.get(),
                         out.write_end.get(),
                         err.write_end.get(),
                         exec_error.write_end.get(),
                         static_cast<rlim_t>(limits.memory_bytes),
                         static_cast<rlim_t>(limits.cpu_time.count())};
  const Clock::time_point deadline = Clock::now() + limits.timeout;
  const pid_t pid = ::fork();
  if (pid < 0) {
    return InternalError(std::string("could not start a child process: ") + std::strerror(errno));
  }
  if (pid == 0) RunChild(setup);

  // Set the group from the parent as well, so that KillGroup works even before the child runs.
  ::setpgid(pid, pid);
  out.write_end.Close();
  err.write_end.Close();
  exec_error.write_end.Close();
  null_input.Close();

  if (const int error = ReadExecError(exec_error.read_end.get()); error != 0) {
    WaitBlocking(pid);
    return Status(ErrorCode::kConfiguration,
                  "could not start \"" + program + "\": " + std::strerror(error));
  }

  ChildProcessResult result;
  CollectOutput(out.read_end.get(), err.read_end.get(), deadline, limits, result);
  out.read_end.Close();
  err.read_end.Close();

  int status = kUnknownStatus;
  if (result.timed_out || result.output_truncated) {
    KillGroup(pid);
    status = WaitBlocking(pid);
  } else {
    status = ReapChild(pid, deadline, result);
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  return result;
}

}  // namespace on::ingest
