// Runtime configuration in the app_setting table: one row per setting changed through the API,
// keyed by its member name, and the row 'config_version' with the version counter.
#include "core/ids.h"
#include "storage/sqlite/sqlite_storage.h"

namespace on::storage::sqlite {
namespace {

// Setting rows carry this prefix so they never collide with the version row or other keys.
constexpr std::string_view kSettingPrefix = "setting.";
constexpr std::string_view kVersionKey = "config_version";

Result<int64_t> SelectVersion(Connection& db) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare("SELECT CAST(value AS INTEGER) FROM app_setting WHERE key = ?1"));
  statement.Bind(1, kVersionKey);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  return row ? statement.Int(0) : 0;
}

Result<StoredSettings> SelectStoredSettings(Connection& db) {
  StoredSettings stored;
  ON_ASSIGN_OR_RETURN(stored.version, SelectVersion(db));
  ON_ASSIGN_OR_RETURN(auto rows, db.Prepare("SELECT key, value FROM app_setting WHERE key LIKE 'setting.%' ORDER BY key"));
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    stored.values[rows.Text(0).substr(kSettingPrefix.size())] = rows.Text(1);
  }
  return stored;
}

}  // namespace

Status BumpConfigVersion(Connection& db, const std::string& now) {
  ON_ASSIGN_OR_RETURN(auto bump, db.Prepare(
      "INSERT INTO app_setting (key, value, updated) VALUES (?1, '1', ?2) "
      "ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT), updated = ?2"));
  bump.Bind(1, kVersionKey).Bind(2, now);
  return bump.Run();
}

Result<int64_t> SqliteStorage::GetConfigVersion() {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectVersion(*reader);
}

Result<StoredSettings> SqliteStorage::GetStoredSettings() {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectStoredSettings(*reader);
}

Result<StoredSettings> SqliteStorage::SaveSettings(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) {
  return writer_->Run<StoredSettings>([&](Connection& db) -> Result<StoredSettings> {
    const std::string now = NowTimestamp();
    for (const auto& [name, value] : changes) {
      const std::string key = std::string(kSettingPrefix) + name;
      if (value) {
        ON_ASSIGN_OR_RETURN(auto upsert, db.Prepare(
            "INSERT INTO app_setting (key, value, updated) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (key) DO UPDATE SET value = ?2, updated = ?3"));
        upsert.Bind(1, key).Bind(2, *value).Bind(3, now);
        ON_RETURN_IF_ERROR(upsert.Run());
      } else {
        ON_ASSIGN_OR_RETURN(auto remove, db.Prepare("DELETE FROM app_setting WHERE key = ?1"));
        remove.Bind(1, key);
        ON_RETURN_IF_ERROR(remove.Run());
      }
    }
    ON_RETURN_IF_ERROR(BumpConfigVersion(db, now));
    return SelectStoredSettings(db);
  });
}

}  // namespace on::storage::sqlite
