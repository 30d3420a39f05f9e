// SQL on the database of a server that a test started, whichever backend it runs on: the SQLite
// file <data_dir>/open-notebook.db, or the PostgreSQL database that support/test_backend.h gave
// that data directory. For checks the API cannot make (a stored row, a row changed behind the
// server's back).
//
// Write SQL both backends accept, with parameters $1, $2, … in order of appearance (SQLite binds
// $N by position when they appear in order).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace on::test {

using SqlRow = std::vector<std::optional<std::string>>;  // column values as text, nullopt for NULL

struct SqlResult {
  std::vector<SqlRow> rows;
  std::string error;  // empty on success
};

SqlResult QueryDataDir(const std::filesystem::path& data_dir, const std::string& sql,
                       const std::vector<std::string>& params = {});

}  // namespace on::test
