// One database as `db copy` reads and writes it, through a connection of its own: the
// backend-specific SQL behind a common row interface.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "core/error.h"
#include "storage/copy/schema.h"
#include "storage/postgres/connection.h"
#include "storage/sqlite/connection.h"

namespace on::storage::dbcopy {

class RowReader {
 public:
  virtual ~RowReader() = default;
  // Reads the next row into `row`; false after the last one.
  virtual Result<bool> Next(Row& row) = 0;
};

class Endpoint {
 public:
  virtual ~Endpoint() = default;

  // Table name to column names, as the database has them, without tables of the backend's own
  // machinery (SQLite's FTS5 and sequence tables).
  virtual Result<std::map<std::string, std::set<std::string>>> ReadSchema() = 0;
  // Columns only this backend has; they are derived from the shared ones.
  virtual std::set<std::string> BackendColumns(const Table& table) const = 0;

  // Starts a read-only transaction, so every Scan until Rollback reads one snapshot.
  virtual Status BeginSnapshot() = 0;
  virtual Status BeginWrite() = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;

  // Streams the rows of `table` in primary-key order (byte order for text keys on both backends).
  virtual Result<std::unique_ptr<RowReader>> Scan(const Table& table) = 0;
  // Inserts `row`, possibly buffered until FlushInserts.
  virtual Status Insert(const Table& table, const Row& row) = 0;
  virtual Status FlushInserts() = 0;
  virtual Status DeleteAll(const Table& table) = 0;
  // The highest value the generated key has had: the largest id, or more where the database
  // remembers ids of deleted rows.
  virtual Result<int64_t> KeyCounter(const Table& table) = 0;
  // Makes the database assign keys above `counter` from now on.
  virtual Status RaiseKeyCounter(const Table& table, int64_t counter) = 0;
  // Builds what the target needs after all rows are in (indexes).
  virtual Status FinishWrite() = 0;
};

std::unique_ptr<Endpoint> MakeSqliteEndpoint(std::unique_ptr<sqlite::Connection> db);
std::unique_ptr<Endpoint> MakePostgresEndpoint(std::unique_ptr<postgres::Connection> db);

}  // namespace on::storage::dbcopy
