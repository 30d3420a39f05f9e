#include "support/fake_provider_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "support/http_client.h"

namespace on::test {
namespace {

// Reads one line from `fd`, waiting at most `timeout` in all.
std::string ReadLine(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string line;
  while (line.empty() || line.back() != '\n') {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd descriptor{fd, POLLIN, 0};
    if (poll(&descriptor, 1, static_cast<int>(left.count())) <= 0) break;
    char c = 0;
    if (read(fd, &c, 1) != 1) break;
    line.push_back(c);
  }
  return line;
}

}  // namespace

FakeProviderProcess::FakeProviderProcess(std::vector<std::string> args) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");

  std::vector<std::string> argv_strings = {ON_FAKE_PROVIDER_PATH, "--port", "0"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  pid_ = fork();
  if (pid_ == 0) {
    dup2(pipe_fds[1], 1);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  stdout_fd_ = pipe_fds[0];
  if (pid_ < 0) throw std::runtime_error("fork failed for the fake provider");

  const std::string line = ReadLine(stdout_fd_, std::chrono::seconds(20));
  const std::string prefix = "listening 127.0.0.1:";
  if (line.rfind(prefix, 0) != 0) {
    throw std::runtime_error("the fake provider " + std::string(ON_FAKE_PROVIDER_PATH) +
                             " did not report its port; first line: '" + line + "'");
  }
  port_ = static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size())));
}

FakeProviderProcess::~FakeProviderProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

std::string FakeProviderProcess::BaseUrl(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void FakeProviderProcess::Script(const std::string& path, const std::vector<std::string>& faults) const {
  const HttpResult result =
      HttpClient(port_).Send("POST", "/control/script", nlohmann::json{{"path", path}, {"faults", faults}}.dump(),
                             {{"Content-Type", "application/json"}});
  if (result.status != 200) throw std::runtime_error("the fake provider rejected the script: " + result.body);
}

nlohmann::json FakeProviderProcess::Requests() const {
  return HttpClient(port_).Send("GET", "/control/requests").Json();
}

int FakeProviderProcess::RequestCount(const std::string& path) const {
  const nlohmann::json requests = Requests();
  if (!requests.is_object() || !requests["by_path"].contains(path)) return 0;
  return requests["by_path"][path].get<int>();
}

void FakeProviderProcess::Reset() const { HttpClient(port_).Send("POST", "/control/reset"); }

}  // namespace on::test
