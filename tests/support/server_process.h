// Runs the open-notebook binary as a child process for integration tests.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/http_client.h"

namespace on::test {

class ServerProcess {
 public:
  // `data_dir` contains the database; `env` adds or overrides environment variables (the child
  // gets only PATH, HOME and these, plus API_PORT, FRONTEND_PORT and OPEN_NOTEBOOK_DATA_DIR, each
  // port free when the object was made, so parallel tests never meet on the default ports).
  ServerProcess(std::filesystem::path data_dir, std::map<std::string, std::string> env = {},
                std::vector<std::string> args = {"serve"});
  ~ServerProcess();  // kills the child if it still runs

  // Starts the child and waits until GET /health returns 200. Returns false (with the log in
  // `log()`) when the process exits or the wait times out. When a port chosen here was taken in
  // the meantime, starts again on new ports, three attempts in all, so `port()` may change.
  bool Start(std::chrono::seconds timeout = std::chrono::seconds(20));
  // Starts without waiting for health.
  void Spawn();

  // SIGTERM and wait; returns the exit code (or 128 + signal).
  int Stop(std::chrono::seconds timeout = std::chrono::seconds(30));
  // SIGKILL and reap.
  void Kill();
  // Waits for the child to exit by itself; returns the exit code, or -1 on timeout.
  int WaitExit(std::chrono::seconds timeout);
  bool Running();

  uint16_t port() const { return port_; }
  uint16_t ui_port() const { return ui_port_; }  // the web UI's port (serve, frontend)
  pid_t pid() const { return pid_; }
  HttpClient Client() const { return HttpClient(port_); }
  std::string log() const;  // what the child wrote to stdout and stderr

 private:
  void ChoosePorts();

  std::filesystem::path data_dir_;
  std::map<std::string, std::string> env_;
  std::vector<std::string> args_;
  uint16_t port_ = 0;
  uint16_t ui_port_ = 0;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::filesystem::path log_path_;
};

}  // namespace on::test
