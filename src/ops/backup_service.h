// Backup and restore of a data directory: `open-notebook backup create|verify|restore|list` and
// the scheduled backups of `serve`.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/settings.h"
#include "ops/backup_archive.h"

namespace on::ops {

// Name of the record, in the backup directory, of the last backup that completed there.
inline constexpr const char* kLastBackupFile = "last-backup.json";

struct BackupResult {
  std::filesystem::path archive;
  uint64_t archive_bytes = 0;
  uint64_t content_bytes = 0;  // sum of the file sizes before compression
  size_t file_count = 0;
  int schema_version = 0;
  double seconds = 0;
};

struct VerifyResult {
  BackupManifest manifest;
  uint64_t content_bytes = 0;
};

struct RestoreResult {
  VerifyResult verified;
  std::filesystem::path data_dir;
  std::optional<std::filesystem::path> previous_data;  // where the replaced data was moved
  // PostgreSQL: a pg_dump of the database as it was before the restore, beside previous_data.
  std::optional<std::filesystem::path> previous_database;
  int schema_version_after = 0;
};

struct LastBackup {
  std::string completed_at;  // ISO 8601 UTC
  std::string archive;       // file name inside the backup directory
  uint64_t size_bytes = 0;
};

// OPEN_NOTEBOOK_BACKUP_DIR, or <data_dir>/backups when it is empty.
std::filesystem::path BackupDir(const Settings& settings);

// Writes one archive with a consistent copy of the database, the uploads and the podcasts of the
// configured data directory while the server may be running. When `output` is a directory, the
// archive gets a timestamped name in it. Any other `output` is the archive's file path, and
// without `output` the archive goes to BackupDir(). Records the backup in <archive dir>/last-backup.json.
Result<BackupResult> CreateBackup(const Settings& settings, const std::optional<std::filesystem::path>& output);

// Reads the whole archive, checks every file against the manifest and runs the database's
// integrity check on a copy of the database extracted under `scratch_dir`.
Result<VerifyResult> VerifyBackup(const std::filesystem::path& archive, const std::filesystem::path& scratch_dir);

// Replaces the data directory of `settings` with the archive's content. Rejects the restore
// (kConflict) while a process uses the directory, and rejects a damaged archive before anything
// is changed. The
// previous data is moved to <data_dir>.before-restore-<time> and put back if any later step fails.
Result<RestoreResult> RestoreBackup(const Settings& settings, const std::filesystem::path& archive);

// Backup archives in `directory`, oldest first (their names sort by creation time).
std::vector<std::filesystem::path> ListBackups(const std::filesystem::path& directory);

// Deletes the oldest archives in `directory` until `keep` remain, and temporary files that a
// backup process left there more than a day ago when it died. Returns the deleted paths.
std::vector<std::filesystem::path> ApplyRetention(const std::filesystem::path& directory, size_t keep);

// The record written by the last successful backup into `directory`, if any.
std::optional<LastBackup> ReadLastBackup(const std::filesystem::path& directory);

// Takes a backup every OPEN_NOTEBOOK_BACKUP_INTERVAL seconds on its own thread and keeps the
// newest OPEN_NOTEBOOK_BACKUP_KEEP archives. The first backup runs one interval after the last
// recorded one, or at once when there is none or it is older than that.
class BackupScheduler {
 public:
  explicit BackupScheduler(const Settings& settings) : settings_(settings) {}
  ~BackupScheduler() { Stop(); }

  // Starts the thread; does nothing when the interval is 0.
  void Start();
  // Stops the thread, waiting for a backup in progress to finish.
  void Stop();

 private:
  void Run();

  const Settings& settings_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
};

}  // namespace on::ops
