#include "support/test_storage.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include "storage/postgres/postgres_storage.h"
#include "storage/sqlite/fts5_tokenizer.h"
#include "storage/sqlite/sqlite_storage.h"
#include "support/postgres_database.h"
#include "support/temp_dir.h"

namespace on::test {

struct TestStorage::Resources {
  std::unique_ptr<TempDir> dir;
  std::string sqlite_path;
  std::unique_ptr<PostgresDatabase> postgres;
};

std::string StorageBackendName(const ::testing::TestParamInfo<StorageBackend>& info) {
  return info.param == StorageBackend::kSqlite ? "Sqlite" : "Postgres";
}

TestStorage::TestStorage(StorageBackend backend) : backend_(backend), resources_(std::make_unique<Resources>()) {
  if (backend == StorageBackend::kSqlite) {
    resources_->dir = std::make_unique<TempDir>();
    resources_->sqlite_path = (resources_->dir->path() / "test.db").string();
    storage::sqlite::ConnectionOptions options;
    options.path = resources_->sqlite_path;
    options.synchronous = "normal";
    auto opened = storage::sqlite::SqliteStorage::Open(options);
    if (!opened.ok()) {
      error_ = opened.status().ToString();
      return;
    }
    storage_ = std::move(opened).value();
    return;
  }

  if (!PostgresServerUrl()) {
    skip_reason_ = kPostgresSkipMessage;
    return;
  }
  resources_->postgres = std::make_unique<PostgresDatabase>();
  if (!resources_->postgres->error().empty()) {
    error_ = resources_->postgres->error();
    return;
  }
  storage::postgres::PoolOptions options;
  options.connection.url = resources_->postgres->url();
  options.size = 4;
  auto opened = storage::postgres::PostgresStorage::Open(options);
  if (!opened.ok()) {
    error_ = opened.status().ToString();
    return;
  }
  storage_ = std::move(opened).value();
}

const std::string& TestStorage::sqlite_path() const { return resources_->sqlite_path; }

TestStorage::~TestStorage() {
  // The storage's connections close before the database is dropped.
  storage_.reset();
}

std::string TestStorage::ExecuteRaw(const std::string& sql) {
  std::string error;
  if (backend_ == StorageBackend::kSqlite) {
    sqlite3* db = nullptr;
    if (sqlite3_open(resources_->sqlite_path.c_str(), &db) != SQLITE_OK) {
      error = sqlite3_errmsg(db);
    } else if (!storage::sqlite::RegisterFts5Tokenizer(db).ok()) {
      // The source and note triggers write to the keyword index, which needs the tokenizer.
      error = "registering the on_icu tokenizer failed";
    } else {
      char* message = nullptr;
      if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) error = message ? message : "failed";
      sqlite3_free(message);
    }
    sqlite3_close(db);
    return error;
  }

  PGconn* connection = PQconnectdb(resources_->postgres->url().c_str());
  if (PQstatus(connection) != CONNECTION_OK) {
    error = PQerrorMessage(connection);
  } else {
    PGresult* result = PQexec(connection, sql.c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK && PQresultStatus(result) != PGRES_TUPLES_OK) {
      error = PQresultErrorMessage(result);
    }
    PQclear(result);
  }
  PQfinish(connection);
  return error;
}

}  // namespace on::test
