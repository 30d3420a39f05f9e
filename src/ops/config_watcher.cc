#include "ops/config_watcher.h"

#include <spdlog/spdlog.h>

namespace on::ops {

ConfigWatcher::ConfigWatcher(RuntimeConfig& config, storage::Storage& storage, std::chrono::milliseconds interval)
    : config_(config), storage_(storage), interval_(interval) {}

ConfigWatcher::~ConfigWatcher() { Stop(); }

void ConfigWatcher::Start() {
  // Registered before the first check, so a change committed between the two is not missed.
  config_listener_ = storage_.AddConfigListener([this] {
    {
      std::lock_guard lock(mutex_);
      announced_ = true;
    }
    wake_.notify_all();
  });
  Check();
  thread_ = std::thread([this] { Loop(); });
}

void ConfigWatcher::Stop() {
  if (config_listener_ != 0) {
    storage_.RemoveConfigListener(config_listener_);
    config_listener_ = 0;
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ConfigWatcher::Loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, interval_, [this] { return stopping_ || announced_; });
      if (stopping_) return;
      announced_ = false;
    }
    Check();
  }
}

void ConfigWatcher::Check() {
  Status failed;
  auto version = storage_.GetConfigVersion();
  if (!version.ok()) {
    failed = version.status();
  } else if (*version != applied_version_) {
    auto stored = storage_.GetStoredSettings();
    if (stored.ok()) {
      applied_version_ = stored->version;
      config_.ApplyStored(stored->version, stored->values);
    } else {
      failed = stored.status();
    }
  }

  if (failed.ok()) {
    if (failures_ > 0) spdlog::info("reading the runtime settings works again after {} failures", failures_);
    failures_ = 0;
    return;
  }
  // Logged on the first failure and then on every 60th (about once a minute), not every second.
  if (failures_++ % 60 == 0) {
    spdlog::warn("reading the runtime settings from the database failed ({} times in a row): {}; the process keeps "
                 "its current settings", failures_, failed.ToString());
  }
}

}  // namespace on::ops
