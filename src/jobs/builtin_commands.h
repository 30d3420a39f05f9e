// The commands this binary registers for background jobs.
#pragma once

#include <memory>

#include "ai/credential_cipher.h"
#include "core/runtime_config.h"
#include "core/settings.h"
#include "jobs/command_registry.h"
#include "storage/storage.h"

namespace on::jobs {

// Dependencies available to command handlers. Both references outlive the registry.
struct CommandEnvironment {
  const Settings& settings;
  storage::Storage& storage;
  // The cipher for stored API keys (null without OPEN_NOTEBOOK_ENCRYPTION_KEY); outlives the
  // registry. `env` is where provider environment variables are read.
  const ai::CredentialCipher* cipher = nullptr;
  EnvLookup env = ProcessEnv();
  // The live settings, when the process has them: each job then runs with the runtime settings
  // in effect when it starts (chunk size, timeouts). Null means `settings` for every job.
  const RuntimeConfig* config = nullptr;

  // The settings for a job starting now.
  SettingsSnapshot JobSettings() const {
    if (config != nullptr) return config->Current();
    return SettingsSnapshot(std::shared_ptr<const Settings>(), &settings);  // not owned
  }
};

// Builds the registry of every command, with the default retry policy from the settings. The
// API process uses it to validate submits and the worker to run jobs, so both must build it
// from the same settings. Registers debug.sleep only when OPEN_NOTEBOOK_ENABLE_TEST_COMMANDS is
// true.
Result<std::unique_ptr<CommandRegistry>> BuildCommandRegistry(const CommandEnvironment& environment);

// Registers debug.sleep, a command for tests of the job system. Its input fields are all optional:
//   ms              time to sleep, 0 to 600000 (default 100)
//   steps           progress reports spread over the sleep, 1 to 1000 (default 10)
//   fail_transient  fail with kUnavailable on attempts 1..K, 0 to 100 (default 0)
//   fail_permanent  fail with kInvalidInput after the sleep (default false)
//   result          any JSON value, echoed in the result
// Result: {"slept_ms", "attempt", "result"}. Returns kCancelled when asked to stop.
Status RegisterDebugCommands(CommandRegistry& registry);

}  // namespace on::jobs
