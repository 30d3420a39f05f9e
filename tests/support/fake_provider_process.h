// Runs tests/fake_provider as a child process on a free port for the duration of a test.
//
//   on::test::FakeProviderProcess fake;               // throws std::runtime_error when it cannot start
//   config.base_url = fake.BaseUrl();                 // "http://127.0.0.1:<port>"
//   fake.Script("/v1/chat/completions", {"server_error", "server_error"});
//   EXPECT_EQ(fake.RequestCount("/v1/chat/completions"), 3);
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace on::test {

class FakeProviderProcess {
 public:
  // Starts the fake with `--port 0` and `args`, and reads the port from its first output line.
  explicit FakeProviderProcess(std::vector<std::string> args = {});
  // Kills the child by its PID and reaps it.
  ~FakeProviderProcess();
  FakeProviderProcess(const FakeProviderProcess&) = delete;
  FakeProviderProcess& operator=(const FakeProviderProcess&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  // Returns "http://127.0.0.1:<port>" followed by `path`.
  std::string BaseUrl(std::string_view path = "") const;

  // Appends `faults` (spellings as in tests/fake_provider/README.md) for the next requests to
  // `path`. Throws std::runtime_error when the fake rejects the script.
  void Script(const std::string& path, const std::vector<std::string>& faults) const;

  // The body of GET /control/requests: {"total", "by_path", "log"}.
  nlohmann::json Requests() const;

  // Number of provider requests received for `path` so far.
  int RequestCount(const std::string& path) const;

  // Clears scripts and the request log.
  void Reset() const;

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace on::test
