#include "storage/postgres/postgres_storage.h"

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "storage/migrations.h"
#include "storage/postgres/dump.h"
#include "storage/postgres/postgres_jobs.h"

namespace on::storage::postgres {
namespace {

constexpr std::string_view kCreateMigrationTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)";

// The key of the transaction-level advisory lock that serializes migrations of one database.
// Advisory locks belong to a database, so other databases on the server never wait for it.
constexpr int64_t kMigrationLockKey = 0x6f6e5f6d69677261;  // "on_migra"

Result<std::map<int, AppliedMigration>> ReadApplied(Connection& db) {
  std::map<int, AppliedMigration> applied;
  ON_ASSIGN_OR_RETURN(auto exists, db.Query("SELECT to_regclass('schema_migrations') IS NOT NULL"));
  if (!exists.Bool(0, 0)) return applied;

  ON_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version"));
  for (int row = 0; row < rows.size(); ++row) {
    applied[static_cast<int>(rows.Int(row, 0))] = AppliedMigration{rows.Text(row, 1), rows.Text(row, 2)};
  }
  return applied;
}

// A connection of its own for schema changes, without the statement time-out: building an index
// over a large table may take longer than any request should.
Result<std::unique_ptr<Connection>> OpenMigrationConnection(const Pool& pool) {
  ConnectionOptions options = pool.options().connection;
  options.statement_timeout_ms = 0;
  return Connection::Open(options);
}

// Runs `step` in one transaction that holds the migration lock. `step` sets `done` when there is
// nothing left to do.
Status RunLockedStep(Connection& db, const std::function<Status(bool& done)>& step, bool& done) {
  return RunInTransaction(db, [&]() -> Status {
    ON_RETURN_IF_ERROR(db.Query("SELECT pg_advisory_xact_lock($1)", Params().Add(kMigrationLockKey)).status());
    return step(done);
  });
}

}  // namespace

PoolOptions PoolOptionsFromSettings(const Settings& settings) {
  PoolOptions options;
  options.connection.url = settings.database_url;
  options.connection.statement_timeout_ms = static_cast<int>(settings.db_statement_timeout_ms);
  options.size = static_cast<int>(settings.db_pool_size);
  options.acquire_timeout = std::chrono::milliseconds(settings.db_statement_timeout_ms);
  return options;
}

PostgresStorage::PostgresStorage(std::unique_ptr<Pool> pool)
    : pool_(std::move(pool)), jobs_(std::make_unique<PostgresJobStore>(*pool_)) {
  ListenerOptions options;
  options.connection = pool_->options().connection;
  // The listener connects in the background and retries, so a short time-out costs nothing and
  // keeps Stop() prompt.
  options.connection.connect_timeout_s = std::min(options.connection.connect_timeout_s, 5);
  options.connection.keepalive_idle_s = 30;
  options.channels = {kDataChannel, kJobQueuedChannel, kJobCancelChannel, kConfigChannel};
  options.reconnect_initial_delay = pool_->options().reconnect_initial_delay;
  options.reconnect_max_delay = pool_->options().reconnect_max_delay;
  listener_ = std::make_unique<NotificationListener>(
      std::move(options), [this](const Notification& notification) { OnNotification(notification); },
      [this] { OnListening(); });
}

PostgresStorage::~PostgresStorage() { listener_->Stop(); }

Result<std::unique_ptr<PostgresStorage>> PostgresStorage::Open(const PoolOptions& options) {
  ON_ASSIGN_OR_RETURN(auto pool, Pool::Open(options));
  std::unique_ptr<PostgresStorage> storage(new PostgresStorage(std::move(pool)));
  ON_RETURN_IF_ERROR(storage->listener_->Start());
  return storage;
}

uint64_t PostgresStorage::DataVersion() {
  // The counters only rise, so their sum changes whenever one of them does.
  const uint64_t changes = pool_->writes() + announced_changes_.load(std::memory_order_acquire);
  if (listener_->connected()) return changes + unobserved_reads_.load(std::memory_order_acquire);
  return changes + unobserved_reads_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

void PostgresStorage::OnNotification(const Notification& notification) {
  if (notification.channel == kDataChannel) {
    announced_changes_.fetch_add(1, std::memory_order_acq_rel);
  } else if (notification.channel == kJobQueuedChannel) {
    jobs_->NotifySubmitted("");
  } else if (notification.channel == kJobCancelChannel) {
    jobs_->NotifyCancelRequested(notification.payload);
  } else if (notification.channel == kConfigChannel) {
    CallConfigListeners();
  }
}

void PostgresStorage::OnListening() {
  announced_changes_.fetch_add(1, std::memory_order_acq_rel);
  jobs_->NotifySubmitted("");
  CallConfigListeners();
}

int PostgresStorage::AddConfigListener(std::function<void()> listener) {
  std::lock_guard lock(config_listeners_mutex_);
  const int handle = next_config_listener_++;
  config_listeners_.emplace(handle, std::move(listener));
  return handle;
}

void PostgresStorage::RemoveConfigListener(int handle) {
  std::lock_guard lock(config_listeners_mutex_);
  config_listeners_.erase(handle);
}

void PostgresStorage::CallConfigListeners() {
  std::lock_guard lock(config_listeners_mutex_);
  for (const auto& [handle, listener] : config_listeners_) listener();
}

JobStore& PostgresStorage::jobs() { return *jobs_; }

Status PostgresStorage::Ping() {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT 1"));
  if (rows.size() != 1) return DatabaseError("SELECT 1 returned no row");
  return Status::Ok();
}

Result<SchemaStatus> PostgresStorage::GetSchemaStatus() {
  ON_ASSIGN_OR_RETURN(auto migrations, LoadMigrations("postgres"));
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto applied, ReadApplied(*db));

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

Status PostgresStorage::CheckSchema() {
  ON_ASSIGN_OR_RETURN(auto migrations, LoadMigrations("postgres"));
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto applied, ReadApplied(*db));
  ON_RETURN_IF_ERROR(VerifyApplied(migrations, applied));

  const int current = CurrentVersion(applied);
  if (current < static_cast<int>(migrations.size())) {
    return Status(ErrorCode::kMigration, "the database schema is at version " + std::to_string(current) +
                                             " and this binary needs version " + std::to_string(migrations.size()) +
                                             "; run `open-notebook migrate up`");
  }
  return Status::Ok();
}

Status PostgresStorage::MigrateUp(std::optional<int> target) {
  ON_ASSIGN_OR_RETURN(auto migrations, LoadMigrations("postgres"));
  const int latest = static_cast<int>(migrations.size());
  const int goal = target.value_or(latest);
  if (goal < 0 || goal > latest) {
    return InvalidInput("target version " + std::to_string(goal) + " is invalid: expected 0 to " + std::to_string(latest));
  }

  ON_ASSIGN_OR_RETURN(auto db, OpenMigrationConnection(*pool_));
  auto apply_next = [&](bool& done) -> Status {
    ON_RETURN_IF_ERROR(db->Execute(kCreateMigrationTable));
    ON_ASSIGN_OR_RETURN(auto applied, ReadApplied(*db));
    ON_RETURN_IF_ERROR(VerifyApplied(migrations, applied));
    const int current = CurrentVersion(applied);
    if (current >= goal) {
      done = true;
      return Status::Ok();
    }

    const Migration& next = migrations[static_cast<size_t>(current)];
    Status applied_script = db->Execute(next.up_sql);
    if (!applied_script.ok()) {
      std::string fix;
      if (applied_script.message().find("extension \"vector\"") != std::string::npos) {
        // pgvector is not a trusted extension: the database owner cannot create it.
        fix = "; have a PostgreSQL superuser run CREATE EXTENSION vector in this database (psql -d <database> -c "
              "'CREATE EXTENSION vector'), then start again. Migrations up to " + std::to_string(current) +
              " stay applied";
      }
      return Status(ErrorCode::kMigration, "migration " + std::to_string(next.version) + " (" + next.name +
                                               ") failed: " + applied_script.message() + fix);
    }
    ON_RETURN_IF_ERROR(db->Query("INSERT INTO schema_migrations (version, name, checksum, applied_at) "
                                 "VALUES ($1, $2, $3, $4)",
                                 Params().Add(next.version).Add(next.name).Add(next.checksum).Add(NowTimestamp()))
                           .status());
    spdlog::info("applied migration {} ({})", next.version, next.name);
    return Status::Ok();
  };

  for (bool done = false; !done;) ON_RETURN_IF_ERROR(RunLockedStep(*db, apply_next, done));
  return Status::Ok();
}

Status PostgresStorage::MigrateDown(int target) {
  ON_ASSIGN_OR_RETURN(auto migrations, LoadMigrations("postgres"));
  if (target < 0) return InvalidInput("target version " + std::to_string(target) + " is invalid: expected 0 or more");

  ON_ASSIGN_OR_RETURN(auto db, OpenMigrationConnection(*pool_));
  auto revert_last = [&](bool& done) -> Status {
    ON_ASSIGN_OR_RETURN(auto applied, ReadApplied(*db));
    ON_RETURN_IF_ERROR(VerifyApplied(migrations, applied));
    const int current = CurrentVersion(applied);
    if (current <= target) {
      done = true;
      return Status::Ok();
    }

    const Migration& last = migrations[static_cast<size_t>(current - 1)];
    Status reverted = db->Execute(last.down_sql);
    if (!reverted.ok()) {
      return Status(ErrorCode::kMigration, "reverting migration " + std::to_string(last.version) + " (" + last.name +
                                               ") failed: " + reverted.message());
    }
    ON_RETURN_IF_ERROR(
        db->Query("DELETE FROM schema_migrations WHERE version = $1", Params().Add(last.version)).status());
    spdlog::info("reverted migration {} ({})", last.version, last.name);
    return Status::Ok();
  };

  for (bool done = false; !done;) ON_RETURN_IF_ERROR(RunLockedStep(*db, revert_last, done));
  return Status::Ok();
}

// PostgreSQL keeps its files consistent by itself (write-ahead log, checksummed pages when the
// cluster has them). So this checks what can still go wrong in the schema: an index left invalid
// by a failed CREATE INDEX CONCURRENTLY or REINDEX, a constraint added NOT VALID, and, when the
// amcheck extension is installed, the structure of every B-tree index.
Status PostgresStorage::CheckIntegrity() {
  const std::string schema = "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())";
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto indexes, db->Query("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                              "WHERE c.relnamespace = " + schema +
                                              " AND NOT (i.indisvalid AND i.indisready) ORDER BY 1"));
  if (!indexes.empty()) {
    return DatabaseError("integrity check failed: index " + indexes.Text(0, 0) +
                         " is invalid; rebuild it with REINDEX INDEX " + indexes.Text(0, 0));
  }
  ON_ASSIGN_OR_RETURN(auto constraints, db->Query("SELECT conname, conrelid::regclass::text FROM pg_constraint "
                                                  "WHERE connamespace = " + schema + " AND NOT convalidated ORDER BY 1"));
  if (!constraints.empty()) {
    return DatabaseError("integrity check failed: constraint " + constraints.Text(0, 0) + " of table " +
                         constraints.Text(0, 1) + " is not validated; run ALTER TABLE " + constraints.Text(0, 1) +
                         " VALIDATE CONSTRAINT " + constraints.Text(0, 0));
  }
  ON_ASSIGN_OR_RETURN(auto amcheck, db->Query("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'"));
  if (amcheck.empty()) return Status::Ok();
  ON_ASSIGN_OR_RETURN(auto btrees, db->Query("SELECT c.oid::regclass::text FROM pg_index i "
                                             "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                                             "WHERE a.amname = 'btree' AND c.relnamespace = " + schema + " ORDER BY 1"));
  for (int row = 0; row < btrees.size(); ++row) {
    const std::string index = btrees.Text(row, 0);
    auto checked = db->Query("SELECT bt_index_check($1::regclass)", Params().Add(index));
    if (!checked.ok()) return DatabaseError("integrity check failed on index " + index + ": " + checked.status().message());
  }
  return Status::Ok();
}

Status PostgresStorage::BackupTo(const std::string& path) { return DumpDatabase(pool_->options().connection.url, path); }

}  // namespace on::storage::postgres
