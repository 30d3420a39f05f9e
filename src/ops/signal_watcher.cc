#include "ops/signal_watcher.h"

#include <csignal>
#include <ctime>

#include <spdlog/spdlog.h>

namespace on::ops {

SignalWatcher::SignalWatcher(RuntimeConfig* config, std::string stop_action, std::function<void()> on_stop)
    : config_(config), stop_action_(std::move(stop_action)), on_stop_(std::move(on_stop)) {
  thread_ = std::thread([this] { Run(); });
}

SignalWatcher::~SignalWatcher() { Join(); }

void SignalWatcher::Join() {
  done_ = true;
  if (thread_.joinable()) thread_.join();
}

void SignalWatcher::Run() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  if (config_ != nullptr) sigaddset(&signals, SIGHUP);
  // Polls, so Join() ends the thread within this time without sending it a signal.
  const timespec poll{0, 200'000'000};
  bool stop_handled = false;
  while (!done_) {
    const int signal = sigtimedwait(&signals, nullptr, &poll);
    if (signal == SIGHUP) {
      spdlog::info("received SIGHUP; re-reading the environment file");
      (void)config_->ReloadEnvFile();  // logs what changed, or why nothing did
    } else if ((signal == SIGTERM || signal == SIGINT) && !stop_handled) {
      spdlog::info("received {}; {}", signal == SIGTERM ? "SIGTERM" : "SIGINT", stop_action_);
      stop_handled = true;
      stopping_ = true;
      if (on_stop_) on_stop_();
    }
  }
}

}  // namespace on::ops
