// The settings a process runs with, and how they change while it runs.
//
// The effective value of a setting comes from the first of these layers that has it:
//   1. a command-line option of this process (`worker --max-tasks 2`),
//   2. a value stored through PUT /api/settings (kRuntime settings only; shared by every process
//      on the database, and numbered by the configuration version),
//   3. the process environment,
//   4. the file named by OPEN_NOTEBOOK_ENV_FILE (SIGHUP re-reads it for kReloadable settings),
//   5. the default in the settings table.
// Readers take an immutable snapshot with Current(). A change publishes a new snapshot, logs
// each changed setting (secret values are never written) and then calls the listeners.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/settings.h"

namespace on {

using SettingsSnapshot = std::shared_ptr<const Settings>;

class RuntimeConfig {
 public:
  // `base` contains layers 3 to 5 as loaded at start-up; `command_line` maps member names to the
  // option values of layer 1, which must already be valid; `process_env` is layer 3, read again
  // on reload so that it keeps precedence over the file.
  RuntimeConfig(Settings base, std::map<std::string, std::string> command_line, EnvLookup process_env);

  // A config whose only layer is `settings`, for tests and one-shot commands.
  static std::unique_ptr<RuntimeConfig> Fixed(Settings settings);

  RuntimeConfig(const RuntimeConfig&) = delete;
  RuntimeConfig& operator=(const RuntimeConfig&) = delete;

  SettingsSnapshot Current() const;

  // The configuration version whose stored values are applied; 0 before the first load.
  int64_t version() const;

  // Called after every change with the settings before and after it, one change at a time. A
  // listener must not call ApplyStored or ReloadEnvFile.
  // Returns an id for RemoveListener.
  using Listener = std::function<void(const Settings& before, const Settings& after)>;
  int AddListener(Listener listener);
  // After it returns, the listener is not running and is never called again.
  void RemoveListener(int id);

  // Applies the values stored in the database at configuration version `version` (member name to
  // text). A stored value that is no longer valid, or names no runtime setting, is logged and
  // left out. A combination that fails CheckConsistency keeps the previous settings. A version
  // below the one applied is ignored.
  void ApplyStored(int64_t version, const std::map<std::string, std::string>& stored);

  // Re-reads OPEN_NOTEBOOK_ENV_FILE and applies its kReloadable settings. Settings that are not
  // reloadable and changed in the file are logged as needing a restart. Returns the error, and
  // changes nothing, when the file cannot be read or a value in it is invalid.
  Status ReloadEnvFile();

  // Checks that `changes` (member name to text, nullopt to clear) would give valid settings on top
  // of the current layers: kInvalidInput naming the variable, the value and the fix otherwise.
  Status CheckChanges(const std::map<std::string, std::optional<std::string>>& changes) const;

 private:
  // Builds the effective settings from the layers; fails on an inconsistent combination.
  Result<Settings> Compose(const Settings& base, const std::map<std::string, std::string>& stored) const;
  // Publishes `next` when it differs from the current snapshot; `cause` names the change in logs.
  void Publish(Settings next, std::string_view cause);

  mutable std::mutex mutex_;  // serialises changes; held while listeners run
  Settings base_;                                    // guarded by mutex_
  std::map<std::string, std::string> stored_;        // guarded by mutex_
  const std::map<std::string, std::string> command_line_;
  const EnvLookup process_env_;
  std::map<int, Listener> listeners_;                // guarded by mutex_
  int next_listener_ = 0;                            // guarded by mutex_
  std::atomic<int64_t> version_{0};

  mutable std::mutex snapshot_mutex_;
  SettingsSnapshot current_;  // guarded by snapshot_mutex_
};

}  // namespace on
