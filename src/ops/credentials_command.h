// The `credentials rotate-key` subcommand.
#pragma once

#include <string>

#include "core/settings.h"

namespace on::ops {

struct RotateKeyOptions {
  std::string old_key_file;  // first line is the old key; else OPEN_NOTEBOOK_ENCRYPTION_KEY_OLD
  std::string new_key_file;  // first line is the new key; else OPEN_NOTEBOOK_ENCRYPTION_KEY(_FILE)
  bool dry_run = false;      // check every row, change nothing
};

// Re-encrypts every stored API key from the old encryption key to the new one in one
// transaction, and prints the counts to stdout. Changes nothing and returns 1 when any stored key
// decrypts with neither key. Keys already encrypted with the new key are left as they are, so a
// repeated run succeeds. Returns the process exit code.
int RunRotateKey(const Settings& settings, const RotateKeyOptions& options);

}  // namespace on::ops
