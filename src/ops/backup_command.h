// The `backup create|verify|restore|list` subcommands: print results, return exit codes.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/settings.h"

namespace on::ops {

// Each returns the process exit code: 0 on success, 1 on failure with the reason on stderr.
int RunBackupCreate(const Settings& settings, const std::optional<std::filesystem::path>& output);
int RunBackupVerify(const std::filesystem::path& archive);
int RunBackupRestore(const Settings& settings, const std::filesystem::path& archive);
int RunBackupList(const Settings& settings);

}  // namespace on::ops
