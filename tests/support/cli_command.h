// Runs one open-notebook command (backup, db copy, status, ...) to completion, as an operator
// would from a shell, and collects its exit code and output.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace on::test {

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `open-notebook args...` with only PATH, HOME (`log_dir`) and `env` in its environment; the
// output goes through a file in `log_dir`. On the PostgreSQL run (support/test_backend.h), a
// command given OPEN_NOTEBOOK_DATA_DIR and no database URL works on that data directory's
// database, as its servers do.
CliResult RunCli(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                 const std::filesystem::path& log_dir);

}  // namespace on::test
