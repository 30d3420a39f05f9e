#include "storage/sqlite/sqlite_storage.h"

#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "storage/migrations.h"

namespace on::storage::sqlite {
namespace {

constexpr std::string_view kCreateMigrationTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)";

Result<std::map<int, AppliedMigration>> ReadApplied(Connection& db) {
  std::map<int, AppliedMigration> applied;
  ON_ASSIGN_OR_RETURN(auto exists, db.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"));
  ON_ASSIGN_OR_RETURN(bool has_table, exists.Step());
  if (!has_table) return applied;

  ON_ASSIGN_OR_RETURN(auto rows, db.Prepare("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version"));
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    applied[static_cast<int>(rows.Int(0))] = AppliedMigration{rows.Text(1), rows.Text(2)};
  }
  return applied;
}

}  // namespace

Result<std::unique_ptr<SqliteStorage>> SqliteStorage::Open(const ConnectionOptions& options) {
  ON_ASSIGN_OR_RETURN(auto database, Database::Open(options));
  return std::unique_ptr<SqliteStorage>(new SqliteStorage(std::move(database)));
}

Status SqliteStorage::Ping() {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare("SELECT 1"));
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return DatabaseError("SELECT 1 returned no row");
  return Status::Ok();
}

Result<SchemaStatus> SqliteStorage::GetSchemaStatus() {
  ON_ASSIGN_OR_RETURN(auto migrations, LoadMigrations("sqlite"));
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto applied, ReadApplied(*reader));

  SchemaStatus status;
  status.current_version = CurrentVersion(applied);
  status.latest_version = static_cast<int>(migrations.size());
  for (const auto& migration : migrations) {
    MigrationState state{migration.version, migration.name, migration.checksum, std::nullopt, std::nullopt};
    auto found = applied.find(migration.version);
    if (found != applied.end()) {
      state.applied_at = found->second.applied_at;
      state.applied_checksum = found->second.checksum;
    }
    status.migrations.push_back(std::move(state));
  }
  return status;
}

Status SqliteStorage::CheckSchema() {
  ON_ASSIGN_OR_RETURN(auto migrations, LoadMigrations("sqlite"));
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto applied, ReadApplied(*reader));
  ON_RETURN_IF_ERROR(VerifyApplied(migrations, applied));

  const int current = CurrentVersion(applied);
  if (current < static_cast<int>(migrations.size())) {
    return Status(ErrorCode::kMigration, "the database schema is at version " + std::to_string(current) +
                                             " and this binary needs version " + std::to_string(migrations.size()) +
                                             "; run `open-notebook migrate up`");
  }
  return Status::Ok();
}

Status SqliteStorage::MigrateUp(std::optional<int> target) {
  ON_ASSIGN_OR_RETURN(auto migrations, LoadMigrations("sqlite"));
  const int latest = static_cast<int>(migrations.size());
  const int goal = target.value_or(latest);
  if (goal < 0 || goal > latest) {
    return InvalidInput("target version " + std::to_string(goal) + " is invalid: expected 0 to " + std::to_string(latest));
  }

  // A connection of its own: each migration is one EXCLUSIVE transaction, so two processes that
  // start together apply every migration once.
  ON_ASSIGN_OR_RETURN(auto db, Connection::Open(database_->options()));
  for (;;) {
    ON_RETURN_IF_ERROR(db->Execute("BEGIN EXCLUSIVE"));
    Status step = [&]() -> Status {
      ON_RETURN_IF_ERROR(db->Execute(kCreateMigrationTable));
      ON_ASSIGN_OR_RETURN(auto applied, ReadApplied(*db));
      ON_RETURN_IF_ERROR(VerifyApplied(migrations, applied));
      const int current = CurrentVersion(applied);
      if (current >= goal) return Status(ErrorCode::kCancelled, "nothing to apply");

      const Migration& next = migrations[static_cast<size_t>(current)];
      Status applied_script = db->Execute(next.up_sql);
      if (!applied_script.ok()) {
        return Status(ErrorCode::kMigration, "migration " + std::to_string(next.version) + " (" + next.name +
                                                 ") failed: " + applied_script.message());
      }
      ON_ASSIGN_OR_RETURN(auto record, db->Prepare("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)"));
      record.Bind(1, static_cast<int64_t>(next.version)).Bind(2, next.name).Bind(3, next.checksum).Bind(4, NowTimestamp());
      ON_RETURN_IF_ERROR(record.Run());
      spdlog::info("applied migration {} ({})", next.version, next.name);
      return Status::Ok();
    }();

    if (!step.ok()) {
      (void)db->Execute("ROLLBACK");
      return step.code() == ErrorCode::kCancelled ? Status::Ok() : step;
    }
    ON_RETURN_IF_ERROR(db->Execute("COMMIT"));
  }
}

Status SqliteStorage::MigrateDown(int target) {
  ON_ASSIGN_OR_RETURN(auto migrations, LoadMigrations("sqlite"));
  if (target < 0) return InvalidInput("target version " + std::to_string(target) + " is invalid: expected 0 or more");

  ON_ASSIGN_OR_RETURN(auto db, Connection::Open(database_->options()));
  for (;;) {
    ON_RETURN_IF_ERROR(db->Execute("BEGIN EXCLUSIVE"));
    Status step = [&]() -> Status {
      ON_ASSIGN_OR_RETURN(auto applied, ReadApplied(*db));
      ON_RETURN_IF_ERROR(VerifyApplied(migrations, applied));
      const int current = CurrentVersion(applied);
      if (current <= target) return Status(ErrorCode::kCancelled, "nothing to revert");

      const Migration& last = migrations[static_cast<size_t>(current - 1)];
      Status reverted = db->Execute(last.down_sql);
      if (!reverted.ok()) {
        return Status(ErrorCode::kMigration, "reverting migration " + std::to_string(last.version) + " (" + last.name +
                                                 ") failed: " + reverted.message());
      }
      ON_ASSIGN_OR_RETURN(auto record, db->Prepare("DELETE FROM schema_migrations WHERE version = ?1"));
      record.Bind(1, static_cast<int64_t>(last.version));
      ON_RETURN_IF_ERROR(record.Run());
      spdlog::info("reverted migration {} ({})", last.version, last.name);
      return Status::Ok();
    }();

    if (!step.ok()) {
      (void)db->Execute("ROLLBACK");
      return step.code() == ErrorCode::kCancelled ? Status::Ok() : step;
    }
    ON_RETURN_IF_ERROR(db->Execute("COMMIT"));
  }
}

Status SqliteStorage::CheckIntegrity() {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto check, reader->Prepare("PRAGMA integrity_check"));
  ON_ASSIGN_OR_RETURN(bool row, check.Step());
  if (!row) return DatabaseError("integrity_check returned no row");
  const std::string verdict = check.Text(0);
  if (verdict != "ok") return DatabaseError("integrity check failed: " + verdict);

  ON_ASSIGN_OR_RETURN(auto keys, reader->Prepare("PRAGMA foreign_key_check"));
  ON_ASSIGN_OR_RETURN(bool violation, keys.Step());
  if (violation) return DatabaseError("foreign key check failed in table " + keys.Text(0));
  return Status::Ok();
}

Status SqliteStorage::BackupTo(const std::string& path) {
  std::error_code error;
  if (std::filesystem::exists(path, error)) {
    return Status(ErrorCode::kConflict, "backup target " + path + " already exists");
  }
  ON_ASSIGN_OR_RETURN(auto source, Connection::Open(database_->options()));

  sqlite3* target = nullptr;
  if (sqlite3_open_v2(path.c_str(), &target, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string message = target != nullptr ? sqlite3_errmsg(target) : "out of memory";
    sqlite3_close(target);
    return Status(ErrorCode::kIo, "cannot create the backup file " + path + ": " + message);
  }
  auto close_target = [&target] {
    sqlite3_close(target);
    target = nullptr;
  };

  // One step copies every page inside a single read transaction. In WAL mode that transaction
  // does not block writers, and the copy cannot be restarted by their commits, which a
  // page-by-page copy under steady writes would be, possibly forever.
  sqlite3_backup* backup = sqlite3_backup_init(target, "main", source->handle(), "main");
  if (backup == nullptr) {
    Status status = DatabaseError(std::string("cannot start the database backup: ") + sqlite3_errmsg(target));
    close_target();
    return status;
  }
  int code = SQLITE_OK;
  for (int attempt = 0; attempt < 100; ++attempt) {
    code = sqlite3_backup_step(backup, -1);
    if (code != SQLITE_BUSY && code != SQLITE_LOCKED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sqlite3_backup_finish(backup);
  if (code != SQLITE_DONE) {
    Status status = DatabaseError(std::string("database backup failed: ") + sqlite3_errstr(code));
    close_target();
    return status;
  }

  // The copied header keeps the source's WAL mode; a rollback journal makes the file complete by
  // itself, and the server switches it back to WAL when it opens it.
  char* message = nullptr;
  code = sqlite3_exec(target, "PRAGMA journal_mode = DELETE", nullptr, nullptr, &message);
  Status status = code == SQLITE_OK ? Status::Ok()
                                    : DatabaseError("cannot finish the backup file " + path + ": " +
                                                    (message != nullptr ? message : sqlite3_errstr(code)));
  sqlite3_free(message);
  if (sqlite3_close(target) != SQLITE_OK) status = Status(ErrorCode::kIo, "cannot close the backup file " + path);
  return status;
}

}  // namespace on::storage::sqlite
