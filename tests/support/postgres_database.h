// A database of its own on the test PostgreSQL server, for one test.
//
// The server is the one whose URL OPEN_NOTEBOOK_TEST_POSTGRES_URL contains (.ci/run starts it with
// scripts/test-postgres.sh). Each object creates a database with a random name and drops it when
// destroyed, so tests running in parallel never see each other's tables.
#pragma once

#include <optional>
#include <string>

namespace on::test {

// The URL of the test server, or nullopt when OPEN_NOTEBOOK_TEST_POSTGRES_URL is not set.
std::optional<std::string> PostgresServerUrl();

// The message a test that needs the server gives GTEST_SKIP.
inline constexpr char kPostgresSkipMessage[] =
    "OPEN_NOTEBOOK_TEST_POSTGRES_URL is not set; .ci/run starts a cluster with scripts/test-postgres.sh and sets it";

class PostgresDatabase {
 public:
  // Creates the database; error() describes a failure. Requires PostgresServerUrl().
  PostgresDatabase();
  ~PostgresDatabase();
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  // Empty when the database was created.
  const std::string& error() const { return error_; }
  // postgresql://…/t_<random>, the server URL with the new database's name.
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

  // Runs `sql` on the server's maintenance database (the one of the server URL); empty on
  // success, else the server's message.
  static std::string ExecuteOnServer(const std::string& sql);

 private:
  std::string name_;
  std::string url_;
  std::string error_;
};

}  // namespace on::test
