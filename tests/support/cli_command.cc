#include "support/cli_command.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "support/test_backend.h"

namespace on::test {

CliResult RunCli(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                 const std::filesystem::path& log_dir) {
  static std::atomic<int> next_log{0};
  const std::filesystem::path log =
      log_dir / ("cli-" + std::to_string(getpid()) + "-" + std::to_string(next_log++) + ".log");
  std::vector<std::string> env_strings = {"PATH=/usr/bin:/bin", "HOME=" + log_dir.string()};
  auto data_dir = env.find("OPEN_NOTEBOOK_DATA_DIR");
  if (TestBackendIsPostgres() && data_dir != env.end() && env.count("OPEN_NOTEBOOK_DATABASE_URL") == 0) {
    std::string error;
    env_strings.push_back("OPEN_NOTEBOOK_DATABASE_URL=" + PostgresUrlForDataDir(data_dir->second, &error));
    EXPECT_EQ(error, "");
  }
  for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = {ON_BINARY_PATH};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid == 0) {
    FILE* out = std::fopen(log.c_str(), "w");
    dup2(fileno(out), 1);
    dup2(fileno(out), 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  result.output = text.str();
  std::error_code ignored;
  std::filesystem::remove(log, ignored);
  return result;
}

}  // namespace on::test
