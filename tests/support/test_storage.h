// An empty database of either storage backend, for tests that run against both.
//
//   class MyTest : public ::testing::TestWithParam<test::StorageBackend> { ... };
//   INSTANTIATE_TEST_SUITE_P(Backends, MyTest, test::kAllStorageBackends, test::StorageBackendName);
//
// SQLite uses a file in a temporary directory. PostgreSQL uses a database of its own on the
// server of OPEN_NOTEBOOK_TEST_POSTGRES_URL; without that variable skip_reason() is set and the
// test should GTEST_SKIP.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "storage/storage.h"

namespace on::test {

enum class StorageBackend { kSqlite, kPostgres };

inline const auto kAllStorageBackends = ::testing::Values(StorageBackend::kSqlite, StorageBackend::kPostgres);

// "Sqlite" or "Postgres", the suffix of parameterized test names.
std::string StorageBackendName(const ::testing::TestParamInfo<StorageBackend>& info);

class TestStorage {
 public:
  explicit TestStorage(StorageBackend backend);
  ~TestStorage();
  TestStorage(const TestStorage&) = delete;
  TestStorage& operator=(const TestStorage&) = delete;

  // Set when the backend cannot run here (no test server); the storage is then null.
  const std::optional<std::string>& skip_reason() const { return skip_reason_; }
  // Empty when the database opened.
  const std::string& error() const { return error_; }

  storage::Storage& storage() { return *storage_; }
  // The database file of the SQLite backend; empty for PostgreSQL.
  const std::string& sqlite_path() const;
  StorageBackend backend() const { return backend_; }

  // Runs SQL through a connection of its own, as another program would. Returns "" on success,
  // else the database's message.
  std::string ExecuteRaw(const std::string& sql);

 private:
  struct Resources;

  StorageBackend backend_;
  std::unique_ptr<Resources> resources_;
  std::unique_ptr<storage::Storage> storage_;
  std::optional<std::string> skip_reason_;
  std::string error_;
};

}  // namespace on::test
