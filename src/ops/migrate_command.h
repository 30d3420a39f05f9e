// The `migrate status|up|down` subcommands.
#pragma once

#include <optional>
#include <string>

#include "core/settings.h"

namespace on::ops {

// Runs `action` (status, up or down) against the configured database and prints the result to
// stdout. `target` is the version to stop at (up: latest by default; down: one step by default).
// Returns the process exit code.
int RunMigrate(const Settings& settings, const std::string& action, std::optional<int> target);

}  // namespace on::ops
