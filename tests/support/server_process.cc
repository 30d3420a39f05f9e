#include "support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/test_backend.h"

namespace on::test {

ServerProcess::ServerProcess(std::filesystem::path data_dir, std::map<std::string, std::string> env,
                             std::vector<std::string> args)
    : data_dir_(std::move(data_dir)),
      env_(std::move(env)),
      args_(std::move(args)) {
  ChoosePorts();
  std::filesystem::create_directories(data_dir_);
  log_path_ = data_dir_ / ("server-" + std::to_string(port_) + ".log");
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && Running()) Kill();
}

void ServerProcess::ChoosePorts() {
  const std::vector<uint16_t> ports = FreePorts(2);
  port_ = ports[0];
  ui_port_ = ports[1];
}

void ServerProcess::Spawn() {
  std::map<std::string, std::string> env = {
      {"PATH", getenv("PATH") != nullptr ? getenv("PATH") : "/usr/bin:/bin"},
      {"HOME", data_dir_.string()},
      {"API_PORT", std::to_string(port_)},
      {"FRONTEND_PORT", std::to_string(ui_port_)},
      {"OPEN_NOTEBOOK_DATA_DIR", data_dir_.string()},
  };
  if (TestBackendIsPostgres()) {
    std::string error;
    env["OPEN_NOTEBOOK_DATABASE_URL"] = PostgresUrlForDataDir(data_dir_, &error);
    if (!error.empty()) ADD_FAILURE() << "no PostgreSQL database for " << data_dir_ << ": " << error;
  }
  for (const auto& [key, value] : env_) env[key] = value;

  std::vector<std::string> env_strings;
  for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  std::vector<std::string> argv_strings = {ON_BINARY_PATH};
  argv_strings.insert(argv_strings.end(), args_.begin(), args_.end());
  std::vector<char*> argv;
  for (auto& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(log_fd);
  if (pid_ < 0) std::fprintf(stderr, "fork failed: %s\n", std::strerror(errno));
  exit_code_ = -1;
}

bool ServerProcess::Start(std::chrono::seconds timeout) {
  // Another test or an outgoing connection can take a chosen port before the child binds it. The
  // child then exits with "Address already in use" and, unless the test chose the ports, starts
  // again on new ones.
  const bool ports_chosen_here = !env_.contains("API_PORT") && !env_.contains("FRONTEND_PORT");
  constexpr int kAttempts = 3;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    std::error_code no_log_yet;
    std::uintmax_t log_size_before = std::filesystem::file_size(log_path_, no_log_yet);
    if (no_log_yet) log_size_before = 0;
    Spawn();
    HttpClient client(port_);
    while (std::chrono::steady_clock::now() < deadline && Running()) {
      if (client.Send("GET", "/health").status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (Running()) return false;  // timed out
    std::fprintf(stderr, "server pid %d stopped early (exit code %d)\n", static_cast<int>(pid_), exit_code_);
    const std::string this_attempt = log().substr(log_size_before);
    if (!ports_chosen_here || this_attempt.find("Address already in use") == std::string::npos) return false;
    std::fprintf(stderr, "a chosen port was taken before the server bound it; trying again on new ports\n");
    ChoosePorts();
  }
  return false;
}

bool ServerProcess::Running() {
  if (pid_ <= 0 || exit_code_ >= 0) return false;
  int status = 0;
  const pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done == 0) return true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

int ServerProcess::WaitExit(std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!Running()) return exit_code_;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

int ServerProcess::Stop(std::chrono::seconds timeout) {
  if (!Running()) return exit_code_;
  kill(pid_, SIGTERM);
  const int code = WaitExit(timeout);
  if (code < 0) Kill();
  return code;
}

void ServerProcess::Kill() {
  if (!Running()) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_code_ = 128 + SIGKILL;
}

std::string ServerProcess::log() const {
  std::ifstream file(log_path_);
  std::stringstream text;
  text << file.rdbuf();
  if (exit_code_ >= 0) text << "[process exited with code " << exit_code_ << " on port " << port_ << "]\n";
  return text.str();
}

}  // namespace on::test
