#include "ops/backup_service.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/timestamps.h"
#include "ops/data_dir_lock.h"
#include "storage/database_url.h"
#include "storage/migrations.h"
#include "storage/postgres/dump.h"
#include "storage/storage.h"

namespace on::ops {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kArchivePrefix = "open-notebook-backup-";
constexpr std::string_view kArchiveSuffix = ".tar.zst";
// Kept free on the disk that receives a restore, for the database's journal and migrations.
constexpr uint64_t kRestoreReserveBytes = 64u << 20;
// Temporary files older than this are left by a process that died while writing them.
constexpr auto kStalePartialAge = std::chrono::hours(24);

// "20261204T223415.123Z": sortable, millisecond resolution, safe in file names.
std::string CompactTimestamp(SystemClock::time_point time) {
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  const auto seconds = std::chrono::floor<std::chrono::seconds>(millis);
  std::time_t raw = seconds.count();
  std::tm utc{};
  gmtime_r(&raw, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04d%02d%02dT%02d%02d%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>((millis - seconds).count()));
  return buffer;
}

fs::path AbsoluteDir(const std::string& path) {
  std::error_code error;
  fs::path absolute = fs::absolute(path, error).lexically_normal();
  if (absolute.has_filename()) return absolute;
  return absolute.parent_path();  // "data/" names the same directory as "data"
}

// Settings that open the SQLite file at `path` instead of the configured one.
Settings SettingsForFile(const Settings& base, const fs::path& path) {
  Settings copy = base;
  copy.database_url = "sqlite://" + path.string();
  return copy;
}

Settings DefaultSettings() {
  auto loaded = Settings::Load([](std::string_view) -> std::optional<std::string> { return std::nullopt; });
  return loaded.ok() ? *loaded : Settings{};
}

// Removes a path when it goes out of scope, unless released.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(fs::path path) : path_(std::move(path)) {}
  ~RemoveOnExit() {
    if (path_.empty()) return;
    std::error_code error;
    fs::remove_all(path_, error);
  }
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;

  void Release() { path_.clear(); }

 private:
  fs::path path_;
};

void RemoveDatabaseFile(const fs::path& path) {
  std::error_code error;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path.string() + suffix, error);
}

// Files that hold secrets and must stay out of every archive even when placed under the data
// directory: the password file, and the encryption key file once that setting exists.
std::vector<fs::path> SecretFiles(const Settings& settings) {
  std::vector<fs::path> secrets;
  if (!settings.password_file.empty()) secrets.push_back(fs::weakly_canonical(settings.password_file));
  if (!settings.encryption_key_file.empty()) secrets.push_back(fs::weakly_canonical(settings.encryption_key_file));
  return secrets;
}

Result<fs::path> ArchivePathFor(const Settings& settings, const std::optional<fs::path>& output,
                                SystemClock::time_point now) {
  const std::string name = std::string(kArchivePrefix) + CompactTimestamp(now) + std::string(kArchiveSuffix);
  if (!output) return BackupDir(settings) / name;

  std::error_code error;
  const std::string text = output->string();
  if (fs::is_directory(*output, error) || (!text.empty() && text.back() == '/')) return fs::absolute(*output) / name;
  const fs::path file = fs::absolute(*output);
  if (!fs::is_directory(file.parent_path(), error)) {
    return InvalidInput("--output " + text + ": the directory " + file.parent_path().string() +
                        " does not exist; create it or name an existing directory");
  }
  return file;
}

Status AddFolder(ArchiveWriter& writer, const fs::path& data_dir, const std::string& folder,
                 const std::vector<fs::path>& secrets) {
  const fs::path root = data_dir / folder;
  std::error_code error;
  if (!fs::is_directory(root, error)) return Status::Ok();  // podcasts/ exists only once a podcast was made

  std::vector<fs::path> files;
  size_t skipped = 0;
  for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, error), end;
       !error && it != end; it.increment(error)) {
    const auto status = it->symlink_status(error);
    if (error) break;
    if (fs::is_directory(status)) continue;
    if (!fs::is_regular_file(status)) {
      ++skipped;  // links could point outside the data directory, so they are never followed
      continue;
    }
    files.push_back(it->path());
  }
  if (error) return Status(ErrorCode::kIo, "cannot list " + root.string() + ": " + error.message());
  std::sort(files.begin(), files.end());

  for (const auto& file : files) {
    const std::string entry = folder + "/" + file.lexically_relative(root).generic_string();
    if (std::find(secrets.begin(), secrets.end(), fs::weakly_canonical(file, error)) != secrets.end()) {
      spdlog::warn("backup leaves out {}: it is a secret file (password or encryption key)", file.string());
      continue;
    }
    if (Status name = CheckEntryName(entry); !name.ok()) {
      spdlog::warn("backup leaves out {}: {}", file.string(), name.message());
      continue;
    }
    if (!fs::exists(file, error)) continue;  // deleted since it was listed, like its database row
    ON_RETURN_IF_ERROR(writer.AddFile(file, entry));
  }
  if (skipped > 0) spdlog::warn("backup leaves out {} entries of {} that are not regular files", skipped, root.string());
  return Status::Ok();
}

Status WriteFileAtomically(const fs::path& path, const std::string& text) {
  const fs::path temp = path.string() + ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return Status(ErrorCode::kIo, "cannot write " + temp.string());
  }
  std::error_code error;
  fs::rename(temp, path, error);
  if (error) return Status(ErrorCode::kIo, "cannot rename " + temp.string() + ": " + error.message());
  return Status::Ok();
}

Status RecordBackup(const fs::path& directory, const BackupResult& result) {
  nlohmann::json record = {
      {"completed_at", FormatTimestamp(SystemClock::now())},
      {"archive", result.archive.filename().string()},
      {"size_bytes", result.archive_bytes},
      {"schema_version", result.schema_version},
      {"seconds", result.seconds},
  };
  return WriteFileAtomically(directory / kLastBackupFile, record.dump(2) + "\n");
}

// Opens the database file at `path`, runs the integrity check and returns its schema version.
Result<int> CheckDatabaseFile(const Settings& base, const fs::path& path) {
  ON_ASSIGN_OR_RETURN(auto storage, storage::OpenStorage(SettingsForFile(base, path)));
  if (Status integrity = storage->CheckIntegrity(); !integrity.ok()) {
    return Status(integrity.code(), "the database in the backup failed its integrity check: " + integrity.message());
  }
  ON_ASSIGN_OR_RETURN(auto schema, storage->GetSchemaStatus());
  return schema.current_version;
}

}  // namespace

fs::path BackupDir(const Settings& settings) {
  if (!settings.backup_dir.empty()) return AbsoluteDir(settings.backup_dir);
  return AbsoluteDir(settings.data_dir) / "backups";
}

Result<BackupResult> CreateBackup(const Settings& settings, const std::optional<fs::path>& output) {
  const auto started = std::chrono::steady_clock::now();
  const auto now = SystemClock::now();
  const fs::path data_dir = AbsoluteDir(settings.data_dir);
  const bool postgres = storage::IsPostgresUrl(settings.database_url);
  std::error_code error;
  if (!postgres) {
    ON_ASSIGN_OR_RETURN(std::string db_path, settings.SqlitePath());
    if (!fs::exists(db_path, error)) {
      return NotFound("no database at " + db_path + "; check OPEN_NOTEBOOK_DATA_DIR (or --data-dir)");
    }
  }
  ON_ASSIGN_OR_RETURN(auto lock, DataDirLock::AcquireShared(data_dir));

  ON_ASSIGN_OR_RETURN(fs::path archive_path, ArchivePathFor(settings, output, now));
  const fs::path directory = archive_path.parent_path();
  if (!fs::exists(directory, error)) {
    fs::create_directories(directory, error);
    if (error) return Status(ErrorCode::kIo, "cannot create the backup directory " + directory.string() + ": " + error.message());
    fs::permissions(directory, fs::perms::owner_all, error);
  }

  // The snapshot is taken first, the files after it: a file deleted in between is simply absent,
  // and a file added in between is an unreferenced extra, so the archive stays consistent.
  const fs::path snapshot = directory / ("." + archive_path.filename().string() +
                                         (postgres ? ".pgdump-partial-" : ".db-partial-") + std::to_string(getpid()));
  RemoveDatabaseFile(snapshot);
  struct SnapshotCleanup {
    fs::path path;
    ~SnapshotCleanup() { RemoveDatabaseFile(path); }
  } cleanup{snapshot};
  int schema_version = 0;
  {
    ON_ASSIGN_OR_RETURN(auto source, storage::OpenStorage(settings));
    if (postgres) {
      // Migrations run only while services start, so the version read here is the dump's.
      ON_ASSIGN_OR_RETURN(auto schema, source->GetSchemaStatus());
      schema_version = schema.current_version;
    }
    ON_RETURN_IF_ERROR(source->BackupTo(snapshot.string()));
  }
  if (postgres) {
    ON_RETURN_IF_ERROR(storage::postgres::CheckDumpFile(snapshot.string()));
  } else {
    ON_ASSIGN_OR_RETURN(schema_version, CheckDatabaseFile(settings, snapshot));
  }

  const std::string_view database_entry = postgres ? kPostgresDumpEntry : kDatabaseEntry;
  ON_ASSIGN_OR_RETURN(auto writer, ArchiveWriter::Create(archive_path));
  ON_RETURN_IF_ERROR(writer->AddFile(snapshot, std::string(database_entry)));
  const auto secrets = SecretFiles(settings);
  ON_RETURN_IF_ERROR(AddFolder(*writer, data_dir, "uploads", secrets));
  ON_RETURN_IF_ERROR(AddFolder(*writer, data_dir, "podcasts", secrets));

  BackupResult result;
  result.archive = archive_path;
  result.schema_version = schema_version;
  result.file_count = writer->files().size();
  for (const auto& file : writer->files()) result.content_bytes += file.size;

  BackupManifest manifest;
  manifest.product_version = ON_VERSION;
  manifest.schema_version = schema_version;
  manifest.created_at = FormatTimestamp(now);
  manifest.source_data_dir = data_dir.string();
  manifest.database_entry = std::string(database_entry);
  ON_ASSIGN_OR_RETURN(result.archive_bytes, writer->Finish(std::move(manifest)));
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  if (Status recorded = RecordBackup(directory, result); !recorded.ok()) {
    spdlog::warn("backup {} is complete but its record was not written: {}", archive_path.string(), recorded.message());
  }
  return result;
}

Result<VerifyResult> VerifyBackup(const fs::path& archive, const fs::path& scratch_dir) {
  const fs::path scratch = scratch_dir / ("open-notebook-verify-" + CompactTimestamp(SystemClock::now()) + "-" +
                                          std::to_string(getpid()));
  std::error_code error;
  fs::create_directories(scratch, error);
  if (error) return Status(ErrorCode::kIo, "cannot create " + scratch.string() + ": " + error.message());
  RemoveOnExit remove_scratch(scratch);

  ArchiveReadOptions options;
  options.extract_to = scratch;
  options.database_only = true;
  ON_ASSIGN_OR_RETURN(auto contents, ReadArchive(archive, options));
  if (contents.manifest.database_entry == kPostgresDumpEntry) {
    // A dump shows its schema version only once restored; pg_restore proves it is readable whole.
    if (Status readable = storage::postgres::CheckDumpFile((scratch / kPostgresDumpEntry).string()); !readable.ok()) {
      return InvalidInput("the PostgreSQL dump in " + archive.string() + " cannot be read: " + readable.message());
    }
    return VerifyResult{std::move(contents.manifest), contents.total_bytes};
  }
  ON_ASSIGN_OR_RETURN(int schema_version, CheckDatabaseFile(DefaultSettings(), scratch / kDatabaseEntry));
  if (schema_version != contents.manifest.schema_version) {
    return InvalidInput("the backup archive " + archive.string() + " is inconsistent: its database has schema version " +
                        std::to_string(schema_version) + " but the manifest records " +
                        std::to_string(contents.manifest.schema_version));
  }
  return VerifyResult{std::move(contents.manifest), contents.total_bytes};
}

namespace {

Status Rename(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::rename(from, to, error);
  if (error) return Status(ErrorCode::kIo, "cannot move " + from.string() + " to " + to.string() + ": " + error.message());
  return Status::Ok();
}

// Opens the restored database, applies pending migrations and checks it.
Result<int> MigrateRestored(const Settings& settings) {
  ON_ASSIGN_OR_RETURN(auto storage, storage::OpenStorage(settings));
  ON_RETURN_IF_ERROR(storage->MigrateUp(std::nullopt));
  ON_RETURN_IF_ERROR(storage->CheckSchema());
  ON_RETURN_IF_ERROR(storage->CheckIntegrity());
  // The restored worker rows describe the processes of the backed-up instance, which are gone.
  ON_ASSIGN_OR_RETURN(auto workers, storage->jobs().ListWorkers());
  for (const auto& worker : workers) ON_RETURN_IF_ERROR(storage->jobs().RemoveWorker(worker.id));
  ON_ASSIGN_OR_RETURN(auto schema, storage->GetSchemaStatus());
  return schema.current_version;
}

}  // namespace

Result<RestoreResult> RestoreBackup(const Settings& settings, const fs::path& archive) {
  const bool postgres = storage::IsPostgresUrl(settings.database_url);
  if (!settings.database_url.empty() && !postgres) {
    return InvalidInput("restore writes the database to <data_dir>/open-notebook.db, but OPEN_NOTEBOOK_DATABASE_URL "
                        "points elsewhere; unset it for the restore and move the file afterwards");
  }
  const fs::path data_dir = AbsoluteDir(settings.data_dir);
  const fs::path parent = data_dir.parent_path();
  const std::string stamp = CompactTimestamp(SystemClock::now());
  std::error_code error;
  const bool had_data = fs::exists(data_dir, error);
  fs::create_directories(parent, error);
  if (error) return Status(ErrorCode::kIo, "cannot create " + parent.string() + ": " + error.message());

  // The exclusive lock proves no server, worker or backup uses the directory, and keeps them
  // from starting until the restore ends.
  std::optional<DataDirLock> old_lock;
  if (had_data) {
    ON_ASSIGN_OR_RETURN(auto lock, DataDirLock::TryAcquireExclusive(data_dir));
    old_lock.emplace(std::move(lock));
  }

  RestoreResult result;
  result.data_dir = data_dir;
  ON_ASSIGN_OR_RETURN(result.verified, VerifyBackup(archive, parent));
  const bool archive_is_dump = result.verified.manifest.database_entry == kPostgresDumpEntry;
  if (archive_is_dump && !postgres) {
    return InvalidInput("the backup " + archive.string() + " holds a PostgreSQL dump; set OPEN_NOTEBOOK_DATABASE_URL "
                        "to the postgresql:// database to restore it into (then `open-notebook db copy` moves the "
                        "data to SQLite if you want it there)");
  }
  if (!archive_is_dump && postgres) {
    return InvalidInput("the backup " + archive.string() + " holds an SQLite database; restore it without "
                        "OPEN_NOTEBOOK_DATABASE_URL, then move the data with `open-notebook db copy --from "
                        "<data_dir>/open-notebook.db --to <postgresql:// URL>`");
  }
  ON_ASSIGN_OR_RETURN(auto migrations, storage::LoadMigrations("sqlite"));
  if (result.verified.manifest.schema_version > static_cast<int>(migrations.size())) {
    return Status(ErrorCode::kMigration, "the backup has schema version " +
                                             std::to_string(result.verified.manifest.schema_version) +
                                             " but this binary knows versions up to " + std::to_string(migrations.size()) +
                                             "; restore it with the open-notebook version that made it (" +
                                             result.verified.manifest.product_version + ") or a newer one");
  }

  // Extract beside the data directory, so the moves below are renames on one file system.
  const fs::path staging = parent / (data_dir.filename().string() + ".restore-" + stamp);
  if (!fs::create_directory(staging, error)) {
    return Status(ErrorCode::kIo, "cannot create " + staging.string() + ": " + (error ? error.message() : "it exists"));
  }
  RemoveOnExit remove_staging(staging);
  ON_ASSIGN_OR_RETURN(auto new_lock, DataDirLock::TryAcquireExclusive(staging));
  ArchiveReadOptions options;
  options.extract_to = staging;
  const auto space = fs::space(parent, error);
  options.max_total_bytes = error || space.available < kRestoreReserveBytes ? 0 : space.available - kRestoreReserveBytes;
  ON_RETURN_IF_ERROR(ReadArchive(archive, options).status());
  fs::create_directories(staging / "uploads", error);
  if (postgres) {
    // The restore replaces every row, so the rows it replaces are dumped first: the way back,
    // as the previous data directory is for the files.
    const fs::path previous = parent / (data_dir.filename().string() + ".before-restore-" + stamp + ".pgdump");
    ON_RETURN_IF_ERROR(storage::postgres::DumpDatabase(settings.database_url, previous.string()));
    result.previous_database = previous;
    // One transaction: a failed restore leaves the database as it was, and the data directory
    // below has not changed yet. The dump does not stay in the data directory.
    const fs::path dump = staging / kPostgresDumpEntry;
    ON_RETURN_IF_ERROR(storage::postgres::RestoreDatabase(settings.database_url, dump.string()));
    fs::remove(dump, error);
  }

  // From here on the data directory changes; every failure puts the previous data back.
  const fs::path aside = parent / (data_dir.filename().string() + ".before-restore-" + stamp);
  const fs::path backups = data_dir / "backups";
  const bool carry_backups = had_data && BackupDir(settings) == backups && fs::is_directory(backups, error);
  if (had_data) {
    if (Status moved_aside = Rename(data_dir, aside); !moved_aside.ok()) {
      // A mount point (a Docker volume, for one) cannot be renamed, and nothing has changed yet.
      return Status(moved_aside.code(), moved_aside.message() + ". If " + data_dir.string() +
                                            " is a mount point, mount its parent instead, or set "
                                            "OPEN_NOTEBOOK_DATA_DIR to a directory inside the mount");
    }
    result.previous_data = aside;
  }
  // Archives in the default backup directory stay with the data directory they protect.
  Status moved = carry_backups ? Rename(aside / "backups", staging / "backups") : Status::Ok();
  if (moved.ok()) moved = Rename(staging, data_dir);
  if (moved.ok()) remove_staging.Release();
  auto migrated = moved.ok() ? MigrateRestored(settings) : Result<int>(moved);
  if (migrated.ok()) {
    result.schema_version_after = *migrated;
    return result;
  }

  // Roll back: keep the failed restore for inspection and put the previous data in place.
  Status failure = migrated.status();
  const fs::path failed = parent / (data_dir.filename().string() + ".failed-restore-" + stamp);
  if (fs::exists(data_dir, error) && !fs::exists(staging, error)) {
    if (Status kept = Rename(data_dir, failed); !kept.ok()) spdlog::error("{}", kept.message());
  }
  if (had_data) {
    const fs::path failed_or_staging = fs::exists(failed, error) ? failed : staging;
    if (carry_backups && fs::is_directory(failed_or_staging / "backups", error)) {
      if (Status back = Rename(failed_or_staging / "backups", aside / "backups"); !back.ok()) spdlog::error("{}", back.message());
    }
    if (Status back = Rename(aside, data_dir); !back.ok()) {
      return Status(failure.code(), "restore failed (" + failure.message() + ") and the previous data could not be put "
                                    "back: " + back.message() + "; move " + aside.string() + " to " + data_dir.string() +
                                    " by hand");
    }
  }
  if (postgres) {
    return Status(failure.code(), "restore failed after the PostgreSQL database was restored from the backup; the "
                                  "previous files of " + data_dir.string() + " are back in place: " + failure.message());
  }
  return Status(failure.code(), "restore failed and the previous data is back in place: " + failure.message() +
                                    (fs::exists(failed, error) ? " (the restored files are kept in " + failed.string() + ")" : ""));
}

std::vector<fs::path> ListBackups(const fs::path& directory) {
  std::vector<fs::path> archives;
  std::error_code error;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(kArchivePrefix, 0) == 0 && name.size() > kArchiveSuffix.size() &&
        name.compare(name.size() - kArchiveSuffix.size(), kArchiveSuffix.size(), kArchiveSuffix) == 0 &&
        it->is_regular_file(error)) {
      archives.push_back(it->path());
    }
  }
  std::sort(archives.begin(), archives.end());
  return archives;
}

std::vector<fs::path> ApplyRetention(const fs::path& directory, size_t keep) {
  std::vector<fs::path> deleted;
  auto archives = ListBackups(directory);
  std::error_code error;
  for (size_t i = 0; i + keep < archives.size(); ++i) {
    if (fs::remove(archives[i], error)) deleted.push_back(archives[i]);
    if (error) spdlog::warn("cannot delete the old backup {}: {}", archives[i].string(), error.message());
  }

  // Temporary files of a backup whose process died; a running backup renews its file's mtime.
  const auto cutoff = fs::file_time_type::clock::now() - kStalePartialAge;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("." + std::string(kArchivePrefix), 0) != 0 || name.find("partial-") == std::string::npos) continue;
    std::error_code ignored;
    if (it->last_write_time(ignored) < cutoff && fs::remove(it->path(), ignored)) deleted.push_back(it->path());
  }
  return deleted;
}

std::optional<LastBackup> ReadLastBackup(const fs::path& directory) {
  std::ifstream in(directory / kLastBackupFile);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (!json.is_object() || !json.contains("completed_at") || !json["completed_at"].is_string()) return std::nullopt;
  LastBackup last;
  last.completed_at = json["completed_at"].get<std::string>();
  last.archive = json.value("archive", "");
  last.size_bytes = json.value("size_bytes", uint64_t{0});
  return last;
}

// NOTE: every `serve` process with an interval runs its own schedule; with several on one data
// directory, give the schedule to one of them.
void BackupScheduler::Start() {
  if (settings_.backup_interval_s <= 0) return;
  thread_ = std::thread([this] { Run(); });
}

void BackupScheduler::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackupScheduler::Run() {
  const fs::path directory = BackupDir(settings_);
  const auto interval = std::chrono::seconds(settings_.backup_interval_s);
  auto next = std::chrono::steady_clock::now();
  if (auto last = ReadLastBackup(directory)) {
    if (auto age = SecondsSince(last->completed_at, SystemClock::now()); age && *age >= 0 && *age < interval.count()) {
      next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval - std::chrono::duration<double>(*age));
    }
  }
  spdlog::info("scheduled backups every {} s into {}, keeping {}", interval.count(), directory.string(), settings_.backup_keep);

  std::unique_lock lock(mutex_);
  while (!wake_.wait_until(lock, next, [this] { return stopping_; })) {
    lock.unlock();
    auto backup = CreateBackup(settings_, std::nullopt);
    if (backup.ok()) {
      spdlog::info("scheduled backup written: {} ({} files, {} bytes, {:.1f} s)", backup->archive.string(),
                   backup->file_count, backup->archive_bytes, backup->seconds);
      for (const auto& deleted : ApplyRetention(directory, static_cast<size_t>(settings_.backup_keep))) {
        spdlog::info("deleted old backup {}", deleted.string());
      }
    } else {
      spdlog::error("scheduled backup failed: {}; next attempt in {} s", backup.status().message(), interval.count());
    }
    next = std::chrono::steady_clock::now() + interval;
    lock.lock();
  }
}

}  // namespace on::ops
