// The signal thread of the long-running commands. main() blocks SIGTERM, SIGINT and SIGHUP in
// every thread before any starts, so they reach this thread only.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "core/runtime_config.h"

namespace on::ops {

class SignalWatcher {
 public:
  // Takes SIGTERM and SIGINT, and SIGHUP when `config` is given (it re-reads the environment
  // file). The first SIGTERM or SIGINT logs "received SIGTERM; <stop_action>", sets stopping() and
  // calls `on_stop` on the watcher's thread.
  SignalWatcher(RuntimeConfig* config, std::string stop_action, std::function<void()> on_stop = {});
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // True once a stop signal came or the owner set it; start-up steps and waits watch it.
  std::atomic<bool>& stopping() { return stopping_; }

  // Ends the thread and waits for it, after which `on_stop` is not called again. Idempotent.
  void Join();

 private:
  void Run();

  RuntimeConfig* config_;
  std::string stop_action_;
  std::function<void()> on_stop_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace on::ops
