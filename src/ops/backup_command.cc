#include "ops/backup_command.h"

#include <cstdio>
#include <system_error>

#include "ops/backup_archive.h"
#include "ops/backup_service.h"
#include "storage/database_url.h"

namespace on::ops {
namespace {

std::string Mebibytes(uint64_t bytes) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buffer;
}

int Fail(const char* what, const Status& status) {
  std::fprintf(stderr, "%s: %s\n", what, status.message().c_str());
  return 1;
}

void PrintManifest(const BackupManifest& manifest, uint64_t content_bytes) {
  std::printf("  created      %s\n", manifest.created_at.c_str());
  std::printf("  made by      open-notebook %s\n", manifest.product_version.c_str());
  std::printf("  schema       version %d\n", manifest.schema_version);
  std::printf("  source       %s\n", manifest.source_data_dir.c_str());
  std::printf("  files        %zu (%s)\n", manifest.files.size(), Mebibytes(content_bytes).c_str());
}

}  // namespace

int RunBackupCreate(const Settings& settings, const std::optional<std::filesystem::path>& output) {
  auto result = CreateBackup(settings, output);
  if (!result.ok()) return Fail("backup failed", result.status());
  std::printf("backup written: %s\n", result->archive.c_str());
  std::printf("  %zu files, %s before compression, %s archive, schema version %d, %.1f s\n", result->file_count,
              Mebibytes(result->content_bytes).c_str(), Mebibytes(result->archive_bytes).c_str(), result->schema_version,
              result->seconds);
  std::printf("The archive contains neither the encryption key nor the password. Store them apart from it: a restore "
              "needs the same OPEN_NOTEBOOK_ENCRYPTION_KEY.\n");
  return 0;
}

int RunBackupVerify(const std::filesystem::path& archive) {
  std::error_code error;
  auto result = VerifyBackup(archive, std::filesystem::temp_directory_path(error));
  if (!result.ok()) return Fail("verification failed", result.status());
  std::printf("backup %s is intact\n", archive.c_str());
  PrintManifest(result->manifest, result->content_bytes);
  if (result->manifest.database_entry == kPostgresDumpEntry) {
    std::printf("  checks       every file matches its sha256; pg_restore reads the whole PostgreSQL dump\n");
  } else {
    std::printf("  checks       every file matches its sha256; database integrity_check ok\n");
  }
  return 0;
}

int RunBackupRestore(const Settings& settings, const std::filesystem::path& archive) {
  auto result = RestoreBackup(settings, archive);
  if (!result.ok()) return Fail("restore refused or failed", result.status());
  std::printf("restored %s into %s\n", archive.c_str(), result->data_dir.c_str());
  if (storage::IsPostgresUrl(settings.database_url)) {
    std::printf("  database     %s (pg_restore)\n", storage::RedactUrl(settings.database_url).c_str());
  }
  PrintManifest(result->verified.manifest, result->verified.content_bytes);
  std::printf("  schema now   version %d (migrations applied, integrity check ok)\n", result->schema_version_after);
  if (result->previous_database) {
    // The extension entries are left out as RestoreDatabase leaves them out: dropping the
    // extension needs a superuser.
    const char* dump = result->previous_database->c_str();
    std::printf("The previous database is dumped to %s. To go back to it, stop the services and run:\n"
                "  pg_restore --list %s | grep -v ' EXTENSION ' > %s.list\n"
                "  pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --use-list=%s.list "
                "--dbname=\"$OPEN_NOTEBOOK_DATABASE_URL\" %s\n",
                dump, dump, dump, dump, dump);
  }
  if (result->previous_data) {
    std::printf("The previous files are in %s; delete %s once the restored notebooks look right.\n",
                result->previous_data->c_str(), result->previous_database ? "both" : "it");
  }
  std::printf("Set OPEN_NOTEBOOK_ENCRYPTION_KEY to the key the backed-up instance used, then start the server.\n");
  return 0;
}

int RunBackupList(const Settings& settings) {
  const auto directory = BackupDir(settings);
  const auto archives = ListBackups(directory);
  std::printf("backups in %s: %zu\n", directory.c_str(), archives.size());
  std::error_code error;
  for (const auto& archive : archives) {
    std::printf("  %s  %s\n", archive.filename().c_str(), Mebibytes(std::filesystem::file_size(archive, error)).c_str());
  }
  if (auto last = ReadLastBackup(directory)) {
    std::printf("last completed backup: %s at %s\n", last->archive.c_str(), last->completed_at.c_str());
  }
  return 0;
}

}  // namespace on::ops
