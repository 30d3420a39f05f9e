// The storage backend of the servers that integration tests start.
//
// ctest runs the integration tests twice: as they are (SQLite), and with
// OPEN_NOTEBOOK_TEST_BACKEND=postgres, where every ServerProcess without a database URL of its own
// gets OPEN_NOTEBOOK_DATABASE_URL of a PostgreSQL database that belongs to its data directory.
// The database is created on first use, kept while the data directory is reused (a restarted
// server finds its data), and dropped when the test program exits.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace on::test {

// True when OPEN_NOTEBOOK_TEST_BACKEND is "postgres".
bool TestBackendIsPostgres();

// The postgresql:// URL of the database that belongs to `data_dir`, created on first use. An
// empty string with `error` set when it cannot be created.
std::string PostgresUrlForDataDir(const std::filesystem::path& data_dir, std::string* error);

}  // namespace on::test

// Skips a test that checks the SQLite file itself (its pages, its journal, the file on disk) when
// the servers run on PostgreSQL, where that file does not exist. Tests of behaviour must not use it.
#define ON_SKIP_UNLESS_SQLITE_BACKEND()                                                          \
  do {                                                                                           \
    if (::on::test::TestBackendIsPostgres()) GTEST_SKIP() << "checks the SQLite database file"; \
  } while (false)
