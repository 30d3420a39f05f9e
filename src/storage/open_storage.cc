// OpenStorage: the one place that chooses the backend from the settings.
#include "storage/database_url.h"
#include "storage/postgres/postgres_storage.h"
#include "storage/sqlite/sqlite_storage.h"
#include "storage/storage.h"

namespace on::storage {

Result<std::unique_ptr<Storage>> OpenStorage(const Settings& settings) {
  if (IsPostgresUrl(settings.database_url)) {
    ON_ASSIGN_OR_RETURN(auto storage, postgres::PostgresStorage::Open(postgres::PoolOptionsFromSettings(settings)));
    return std::unique_ptr<Storage>(std::move(storage));
  }
  ON_ASSIGN_OR_RETURN(std::string path, settings.SqlitePath());
  sqlite::ConnectionOptions options;
  options.path = path;
  options.busy_timeout_ms = static_cast<int>(settings.db_busy_timeout_ms);
  options.synchronous = settings.sqlite_synchronous;
  options.max_size_mb = settings.db_max_size_mb;
  ON_ASSIGN_OR_RETURN(auto storage, sqlite::SqliteStorage::Open(options));
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace on::storage
