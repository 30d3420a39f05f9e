// Keeps a process's runtime settings in step with the values stored through PUT /api/settings.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/runtime_config.h"
#include "storage/storage.h"

namespace on::ops {

class ConfigWatcher {
 public:
  // Reads the configuration version every `interval`: one primary-key read, so API and worker
  // processes apply a change made in any of them within about that time. A storage that
  // announces changes (Storage::AddConfigListener, PostgreSQL) wakes the watcher at once, and
  // polling remains for announcements lost while its connection was down. `config` and
  // `storage` must outlive the watcher.
  ConfigWatcher(RuntimeConfig& config, storage::Storage& storage,
                std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
  ~ConfigWatcher();
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  // Applies the stored settings once, so the process starts with them, then starts polling.
  void Start();
  void Stop();

 private:
  void Check();
  void Loop();

  RuntimeConfig& config_;
  storage::Storage& storage_;
  const std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  bool announced_ = false;  // guarded by mutex_: the storage announced a change since the last check
  int config_listener_ = 0;
  std::thread thread_;
  int64_t applied_version_ = -1;  // used by the polling thread only, after Start
  int failures_ = 0;              // used by the polling thread only, after Start
};

}  // namespace on::ops
