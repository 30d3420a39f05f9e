#include "storage/copy.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <spdlog/spdlog.h>

#include "storage/copy/endpoints.h"
#include "storage/copy/schema.h"
#include "storage/database_url.h"
#include "storage/migrations.h"
#include "storage/postgres/postgres_storage.h"
#include "storage/sqlite/sqlite_storage.h"

namespace on::storage {
namespace {

using namespace dbcopy;

struct Location {
  bool postgres = false;
  std::string target;  // the URL, or the SQLite file's path
  std::string redacted;  // for messages: the URL without its password
};

Result<Location> ParseLocation(const std::string& text, const char* option) {
  if (text.empty()) return InvalidInput(std::string(option) + " is empty: give a SQLite file or a postgresql:// URL");
  Location location;
  location.redacted = RedactUrl(text);
  if (IsPostgresUrl(text)) {
    location.postgres = true;
    location.target = text;
    return location;
  }
  // A libpq key=value string may hold a password, so it is rejected without being echoed.
  if (text.find('=') != std::string::npos && text.find(' ') != std::string::npos) {
    return InvalidInput(std::string(option) + " looks like a key=value connection string: write it as a "
                        "postgresql://user:password@host:port/database URL");
  }
  constexpr std::string_view kSqliteScheme = "sqlite://";
  location.target = text.starts_with(kSqliteScheme) ? text.substr(kSqliteScheme.size()) : text;
  if (location.target.empty() || location.target.find("://") != std::string::npos) {
    return InvalidInput(std::string(option) + " '" + location.redacted +
                        "' is not a database location: give a SQLite file (path or sqlite:///path) or a "
                        "postgresql:// URL");
  }
  return location;
}

bool SameDatabase(const Location& a, const Location& b) {
  if (a.postgres != b.postgres) return false;
  if (a.postgres) return a.target == b.target;
  std::error_code error;
  const auto first = std::filesystem::weakly_canonical(a.target, error);
  const auto second = std::filesystem::weakly_canonical(b.target, error);
  return first == second;
}

Result<std::unique_ptr<Storage>> OpenLocationStorage(const Location& location) {
  if (location.postgres) {
    postgres::PoolOptions options;
    options.connection.url = location.target;
    options.connection.statement_timeout_ms = 0;
    options.size = 2;
    ON_ASSIGN_OR_RETURN(auto storage, postgres::PostgresStorage::Open(options));
    return std::unique_ptr<Storage>(std::move(storage));
  }
  sqlite::ConnectionOptions options;
  options.path = location.target;
  ON_ASSIGN_OR_RETURN(auto storage, sqlite::SqliteStorage::Open(options));
  return std::unique_ptr<Storage>(std::move(storage));
}

Result<std::unique_ptr<Endpoint>> OpenEndpoint(const Location& location, bool read_only) {
  if (location.postgres) {
    postgres::ConnectionOptions options;
    options.url = location.target;
    // One statement may build an HNSW index over every vector.
    options.statement_timeout_ms = 0;
    ON_ASSIGN_OR_RETURN(auto db, postgres::Connection::Open(options));
    return MakePostgresEndpoint(std::move(db));
  }
  sqlite::ConnectionOptions options;
  options.path = location.target;
  options.read_only = read_only;
  ON_ASSIGN_OR_RETURN(auto db, sqlite::Connection::Open(options));
  return MakeSqliteEndpoint(std::move(db));
}

// Checks that `location` contains a database at this binary's latest schema version. `role` is
// "source" or "target", `option` the command-line option that named it.
Status RequireLatestSchema(const Location& location, const std::string& role, const std::string& option) {
  if (!location.postgres && !std::filesystem::exists(location.target)) {
    return NotFound("no SQLite database at " + location.target + ": check " + option);
  }
  ON_ASSIGN_OR_RETURN(auto storage, OpenLocationStorage(location));
  ON_ASSIGN_OR_RETURN(SchemaStatus status, storage->GetSchemaStatus());
  if (status.current_version < status.latest_version) {
    return Status(ErrorCode::kMigration,
                  "the " + role + " database " + location.redacted + " is at schema version " + std::to_string(status.current_version) +
                      " and this binary copies version " + std::to_string(status.latest_version) +
                      " only: migrate it first with `open-notebook migrate up` (OPEN_NOTEBOOK_DATABASE_URL or "
                      "OPEN_NOTEBOOK_DATA_DIR pointing at it), then copy again");
  }
  Status usable = storage->CheckSchema();
  if (!usable.ok()) return Status(usable.code(), location.redacted + ": " + usable.message());
  return Status::Ok();
}

// Checks that every table and column of the database is one this file copies, and the reverse.
Status CheckSchemaMatches(Endpoint& endpoint, const Location& location) {
  ON_ASSIGN_OR_RETURN(auto schema, endpoint.ReadSchema());
  std::set<std::string> known;
  for (const Table& table : Tables()) {
    known.insert(table.name);
    auto found = schema.find(table.name);
    if (found == schema.end()) {
      return InternalError("table " + table.name + " is missing from " + location.redacted);
    }
    std::set<std::string> expected = endpoint.BackendColumns(table);
    for (const Column& column : table.columns) expected.insert(column.name);
    if (found->second != expected) {
      std::string difference;
      for (const std::string& column : found->second) {
        if (!expected.count(column)) difference += " +" + column;
      }
      for (const std::string& column : expected) {
        if (!found->second.count(column)) difference += " -" + column;
      }
      return InternalError("the columns of table " + table.name + " in " + location.redacted +
                           " differ from those db copy knows (" + difference.substr(1) +
                           "): this binary's copy schema is out of date");
    }
  }
  for (const auto& [name, columns] : schema) {
    if (!known.count(name) && !IsOwnBookkeeping(name)) {
      return InternalError("table " + name + " of " + location.redacted +
                           " is unknown to db copy: this binary's copy schema is out of date");
    }
  }
  return Status::Ok();
}

// The rows the migrations insert (default transformations, podcast profiles, default-model slots,
// the transformation instructions), serialised with their timestamps left out, by table.
Result<std::map<std::string, std::set<std::string>>> MigrationSeedRows() {
  sqlite::ConnectionOptions options;
  options.path = ":memory:";
  ON_ASSIGN_OR_RETURN(auto db, sqlite::Connection::Open(options));
  ON_ASSIGN_OR_RETURN(auto migrations, LoadMigrations("sqlite"));
  for (const Migration& migration : migrations) ON_RETURN_IF_ERROR(db->Execute(migration.up_sql));

  auto fresh = MakeSqliteEndpoint(std::move(db));
  std::map<std::string, std::set<std::string>> seeds;
  for (const Table& table : Tables()) {
    ON_ASSIGN_OR_RETURN(auto reader, fresh->Scan(table));
    Row row;
    for (;;) {
      ON_ASSIGN_OR_RETURN(bool has_row, reader->Next(row));
      if (!has_row) break;
      for (size_t i = 0; i < table.columns.size(); ++i) {
        if (IsTimestamp(table.columns[i].name)) row[i].reset();
      }
      std::string serialized;
      SerializeRow(row, serialized);
      seeds[table.name].insert(std::move(serialized));
    }
  }
  return seeds;
}

std::string KeyOf(const Table& table, const Row& row) {
  std::string key;
  for (const std::string& column : table.primary_key) {
    for (size_t i = 0; i < table.columns.size(); ++i) {
      if (table.columns[i].name == column) key += (key.empty() ? "" : ", ") + row[i].value_or("NULL");
    }
  }
  return key;
}

// Rejects a target that contains a row other than an unchanged migration seed, then deletes the seeds
// so the source's versions of them take their place. Runs inside the target's write transaction.
Status ClearEmptyTarget(Endpoint& target, const Location& location) {
  ON_ASSIGN_OR_RETURN(auto seeds, MigrationSeedRows());
  for (const Table& table : Tables()) {
    const auto table_seeds = seeds.find(table.name);
    ON_ASSIGN_OR_RETURN(auto reader, target.Scan(table));
    Row row;
    for (;;) {
      ON_ASSIGN_OR_RETURN(bool has_row, reader->Next(row));
      if (!has_row) break;
      Row without_timestamps = row;
      for (size_t i = 0; i < table.columns.size(); ++i) {
        if (IsTimestamp(table.columns[i].name)) without_timestamps[i].reset();
      }
      std::string serialized;
      SerializeRow(without_timestamps, serialized);
      if (table_seeds != seeds.end() && table_seeds->second.count(serialized)) continue;
      return Status(ErrorCode::kConflict,
                    "the target database " + location.redacted + " is not empty: table " + table.name +
                        " has rows (the first is " + KeyOf(table, row) +
                        "). db copy writes only into an empty database: give --to a new SQLite file or an empty "
                        "PostgreSQL database (CREATE DATABASE name), or delete this one's data first");
    }
  }
  for (auto table = Tables().rbegin(); table != Tables().rend(); ++table) {
    if (seeds.count(table->name)) ON_RETURN_IF_ERROR(target.DeleteAll(*table));
  }
  return Status::Ok();
}

Status WithTable(Status status, const Table& table) {
  if (status.ok()) return status;
  return Status(status.code(), "table " + table.name + ": " + status.message());
}

// Reads every row of `table` and returns its count and checksum.
Result<std::pair<int64_t, std::string>> DigestTable(Endpoint& endpoint, const Table& table) {
  TableDigest digest;
  ON_ASSIGN_OR_RETURN(auto reader, endpoint.Scan(table));
  Row row;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool has_row, reader->Next(row));
    if (!has_row) break;
    digest.Add(row);
  }
  const int64_t rows = digest.rows();
  return std::make_pair(rows, digest.Finish());
}

// Copies `table` from `source` to `target` and returns its count and checksum on the source.
Result<std::pair<int64_t, std::string>> CopyTable(Endpoint& source, Endpoint& target, const Table& table) {
  TableDigest digest;
  {
    ON_ASSIGN_OR_RETURN(auto reader, source.Scan(table));
    Row row;
    for (;;) {
      ON_ASSIGN_OR_RETURN(bool has_row, reader->Next(row));
      if (!has_row) break;
      digest.Add(row);
      ON_RETURN_IF_ERROR(target.Insert(table, row));
    }
  }
  ON_RETURN_IF_ERROR(target.FlushInserts());
  if (!table.generated_key.empty()) {
    ON_ASSIGN_OR_RETURN(int64_t counter, source.KeyCounter(table));
    ON_RETURN_IF_ERROR(target.RaiseKeyCounter(table, counter));
  }
  const int64_t rows = digest.rows();
  return std::make_pair(rows, digest.Finish());
}

std::string DescribeDifferences(const std::vector<TableComparison>& tables) {
  std::string text;
  for (const TableComparison& table : tables) {
    if (table.matches()) continue;
    text += (text.empty() ? "" : "; ") + table.table + " (" + std::to_string(table.source_rows) + " rows, checksum " +
            table.source_checksum.substr(0, 12) + " in the source; " + std::to_string(table.target_rows) +
            " rows, checksum " + table.target_checksum.substr(0, 12) + " in the target)";
  }
  return text;
}

// The copy itself, after both databases were checked: runs inside the target's write
// transaction and the source's snapshot, which the caller ends.
Status CopyAndVerify(Endpoint& source, Endpoint& target, const Location& to, CopyReport& report) {
  ON_RETURN_IF_ERROR(ClearEmptyTarget(target, to));
  for (const Table& table : Tables()) {
    auto copied = CopyTable(source, target, table);
    if (!copied.ok()) return WithTable(copied.status(), table);
    TableComparison comparison;
    comparison.table = table.name;
    comparison.source_rows = copied->first;
    comparison.source_checksum = copied->second;
    report.tables.push_back(std::move(comparison));
    report.total_rows += copied->first;
    spdlog::debug("copied {} rows of {}", copied->first, table.name);
  }
  ON_RETURN_IF_ERROR(target.FinishWrite());

  // Reads back what the target will commit and compares it with what was read from the source.
  for (size_t i = 0; i < Tables().size(); ++i) {
    auto digest = DigestTable(target, Tables()[i]);
    if (!digest.ok()) return WithTable(digest.status(), Tables()[i]);
    report.tables[i].target_rows = digest->first;
    report.tables[i].target_checksum = digest->second;
  }
  const std::string differences = DescribeDifferences(report.tables);
  if (!differences.empty()) {
    return DatabaseError("the copy differs from the source, so nothing was committed: " + differences);
  }
  return Status::Ok();
}

}  // namespace

Result<CopyReport> CopyDatabase(const std::string& from_text, const std::string& to_text) {
  const auto started = std::chrono::steady_clock::now();
  ON_ASSIGN_OR_RETURN(Location from, ParseLocation(from_text, "--from"));
  ON_ASSIGN_OR_RETURN(Location to, ParseLocation(to_text, "--to"));
  if (SameDatabase(from, to)) {
    return InvalidInput("--from and --to both name " + from.redacted + ": give two different databases");
  }

  ON_RETURN_IF_ERROR(RequireLatestSchema(from, "source", "--from"));
  {
    ON_ASSIGN_OR_RETURN(auto target, OpenLocationStorage(to));
    Status migrated = target->MigrateUp(std::nullopt);
    if (!migrated.ok()) {
      return Status(migrated.code(), "migrating the target database " + to.redacted + " failed: " + migrated.message());
    }
  }
  ON_RETURN_IF_ERROR(RequireLatestSchema(to, "target", "--to"));

  ON_ASSIGN_OR_RETURN(auto source, OpenEndpoint(from, true));
  ON_ASSIGN_OR_RETURN(auto target, OpenEndpoint(to, false));
  ON_RETURN_IF_ERROR(CheckSchemaMatches(*source, from));
  ON_RETURN_IF_ERROR(CheckSchemaMatches(*target, to));

  CopyReport report;
  ON_ASSIGN_OR_RETURN(auto migrations, LoadMigrations("sqlite"));
  report.schema_version = static_cast<int>(migrations.size());
  spdlog::info("copying {} to {}", from.redacted, to.redacted);

  ON_RETURN_IF_ERROR(source->BeginSnapshot());
  Status began = target->BeginWrite();
  if (!began.ok()) {
    source->Rollback();
    return began;
  }
  Status copied = CopyAndVerify(*source, *target, to, report);
  source->Rollback();
  if (!copied.ok()) {
    target->Rollback();
    return copied;
  }
  Status committed = target->Commit();
  if (!committed.ok()) {
    return Status(committed.code(), "committing the copy to " + to.redacted + " failed: " + committed.message());
  }

  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("copied {} rows in {} tables from {} to {}", report.total_rows, report.tables.size(), from.redacted, to.redacted);
  return report;
}

Result<std::vector<TableComparison>> CompareDatabases(const std::string& from_text, const std::string& to_text) {
  ON_ASSIGN_OR_RETURN(Location from, ParseLocation(from_text, "--from"));
  ON_ASSIGN_OR_RETURN(Location to, ParseLocation(to_text, "--to"));
  ON_RETURN_IF_ERROR(RequireLatestSchema(from, "source", "--from"));
  ON_RETURN_IF_ERROR(RequireLatestSchema(to, "target", "--to"));
  ON_ASSIGN_OR_RETURN(auto source, OpenEndpoint(from, true));
  ON_ASSIGN_OR_RETURN(auto target, OpenEndpoint(to, true));
  ON_RETURN_IF_ERROR(CheckSchemaMatches(*source, from));
  ON_RETURN_IF_ERROR(CheckSchemaMatches(*target, to));

  ON_RETURN_IF_ERROR(source->BeginSnapshot());
  ON_RETURN_IF_ERROR(target->BeginSnapshot());
  std::vector<TableComparison> tables;
  Status status;
  for (const Table& table : Tables()) {
    auto source_digest = DigestTable(*source, table);
    auto target_digest = DigestTable(*target, table);
    if (!source_digest.ok() || !target_digest.ok()) {
      status = WithTable(source_digest.ok() ? target_digest.status() : source_digest.status(), table);
      break;
    }
    tables.push_back(TableComparison{table.name, source_digest->first, target_digest->first, source_digest->second,
                                     target_digest->second});
  }
  source->Rollback();
  target->Rollback();
  if (!status.ok()) return status;
  return tables;
}

}  // namespace on::storage
