// Runtime configuration in the app_setting table: one row per setting changed through the API,
// keyed by its member name, and the row 'config_version' with the version counter.
#include "core/ids.h"
#include "storage/postgres/postgres_storage.h"

namespace on::storage::postgres {
namespace {

// Setting rows carry this prefix so they never collide with the version row or other keys.
constexpr std::string_view kSettingPrefix = "setting.";
constexpr std::string_view kVersionKey = "config_version";

Result<int64_t> SelectVersion(Connection& db) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT value::bigint FROM app_setting WHERE key = $1", Params().Add(kVersionKey)));
  return rows.empty() ? 0 : rows.Int(0, 0);
}

Result<StoredSettings> SelectStoredSettings(Connection& db) {
  StoredSettings stored;
  ON_ASSIGN_OR_RETURN(stored.version, SelectVersion(db));
  ON_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT key, value FROM app_setting WHERE key LIKE 'setting.%' ORDER BY key"));
  for (int row = 0; row < rows.size(); ++row) {
    stored.values[rows.Text(row, 0).substr(kSettingPrefix.size())] = rows.Text(row, 1);
  }
  return stored;
}

}  // namespace

Status BumpConfigVersion(Connection& db, const std::string& now) {
  // The upsert takes the row lock, so concurrent bumps from several processes each add one.
  ON_ASSIGN_OR_RETURN(auto bumped,
                      db.Query("INSERT INTO app_setting (key, value, updated) VALUES ($1, '1', $2) "
                               "ON CONFLICT (key) DO UPDATE SET value = (app_setting.value::bigint + 1)::text, "
                               "updated = $2 RETURNING value",
                               Params().Add(kVersionKey).Add(now)));
  // Delivered at COMMIT and dropped on ROLLBACK, so every process reloads only settings that exist.
  return db.Query("SELECT pg_notify($1, $2)", Params().Add(kConfigChannel).Add(bumped.Text(0, 0))).status();
}

Result<int64_t> PostgresStorage::GetConfigVersion() {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  return SelectVersion(*db);
}

Result<StoredSettings> PostgresStorage::GetStoredSettings() {
  return InTransaction<StoredSettings>([&](Connection& db) -> Result<StoredSettings> {
    // The version and the values come from one snapshot.
    ON_RETURN_IF_ERROR(db.Execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    return SelectStoredSettings(db);
  });
}

Result<StoredSettings> PostgresStorage::SaveSettings(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) {
  return InTransaction<StoredSettings>([&](Connection& db) -> Result<StoredSettings> {
    const std::string now = NowTimestamp();
    for (const auto& [name, value] : changes) {
      const std::string key = std::string(kSettingPrefix) + name;
      if (value) {
        ON_RETURN_IF_ERROR(db.Query("INSERT INTO app_setting (key, value, updated) VALUES ($1, $2, $3) "
                                    "ON CONFLICT (key) DO UPDATE SET value = $2, updated = $3",
                                    Params().Add(key).Add(*value).Add(now))
                               .status());
      } else {
        ON_RETURN_IF_ERROR(db.Query("DELETE FROM app_setting WHERE key = $1", Params().Add(key)).status());
      }
    }
    ON_RETURN_IF_ERROR(BumpConfigVersion(db, now));
    return SelectStoredSettings(db);
  });
}

}  // namespace on::storage::postgres
