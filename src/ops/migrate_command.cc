#include "ops/migrate_command.h"

#include <cstdio>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "ops/data_dir_lock.h"
#include "storage/storage.h"

namespace on::ops {
namespace {

void PrintStatus(const storage::SchemaStatus& status) {
  std::printf("schema version %d of %d\n", status.current_version, status.latest_version);
  for (const auto& migration : status.migrations) {
    const char* state = "pending";
    if (migration.applied_at) state = migration.applied_checksum == migration.checksum ? "applied" : "CHANGED";
    std::printf("  %04d %-30s %-8s %s\n", migration.version, migration.name.c_str(), state,
                migration.applied_at.value_or("").c_str());
  }
}

}  // namespace

int RunMigrate(const Settings& settings, const std::string& action, std::optional<int> target) {
  // Only `up` may create the database file: `status` in the wrong directory must not leave an
  // empty database behind.
  auto path = settings.SqlitePath();  // not ok for PostgreSQL, whose server creates nothing by reading
  if (action != "up" && path.ok() && !std::filesystem::exists(*path)) {
    std::fprintf(stderr, "no database at %s: check OPEN_NOTEBOOK_DATA_DIR (or --data-dir), or create it with "
                         "`open-notebook migrate up`\n", path->c_str());
    return 2;
  }
  // Changing the schema takes the shared data directory lock, so it never runs during a restore.
  std::optional<DataDirLock> data_lock;
  if (action != "status") {
    auto lock = DataDirLock::AcquireShared(settings.data_dir);
    if (!lock.ok()) {
      std::fprintf(stderr, "%s\n", lock.status().message().c_str());
      return 1;
    }
    data_lock.emplace(std::move(lock).value());
  }
  auto storage = storage::OpenStorage(settings);
  if (!storage.ok()) {
    std::fprintf(stderr, "cannot open the database: %s\n", storage.status().message().c_str());
    return 1;
  }

  auto status = (*storage)->GetSchemaStatus();
  if (!status.ok()) {
    std::fprintf(stderr, "cannot read the schema version: %s\n", status.status().message().c_str());
    return 1;
  }

  Status result;
  if (action == "status") {
    PrintStatus(*status);
    result = (*storage)->CheckSchema();
    if (!result.ok()) std::fprintf(stderr, "%s\n", result.message().c_str());
    return result.ok() ? 0 : 2;
  }
  if (action == "up") {
    result = (*storage)->MigrateUp(target);
  } else if (action == "down") {
    result = (*storage)->MigrateDown(target.value_or(std::max(0, status->current_version - 1)));
  } else {
    std::fprintf(stderr, "unknown migrate action '%s': use status, up or down\n", action.c_str());
    return 1;
  }
  if (!result.ok()) {
    std::fprintf(stderr, "migrate %s failed: %s\n", action.c_str(), result.message().c_str());
    return 1;
  }

  auto after = (*storage)->GetSchemaStatus();
  if (after.ok()) PrintStatus(*after);
  return 0;
}

}  // namespace on::ops
