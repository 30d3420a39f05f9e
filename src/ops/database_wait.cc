#include "ops/database_wait.h"

#include <unistd.h>

#include <thread>

#include <spdlog/spdlog.h>

#include "storage/database_url.h"

namespace on::ops {
namespace {

std::string UserName() { return "uid " + std::to_string(getuid()); }

Status NotWritable(const std::filesystem::path& path) {
  return Status(ErrorCode::kUnavailable, path.string() + " is not writable by " + UserName() +
                                             "; mount it read-write or give this user write access (chown)");
}

}  // namespace

Status CheckDataDirectory(const Settings& settings) {
  const std::filesystem::path data_dir(settings.data_dir);
  std::error_code error;
  if (!std::filesystem::exists(data_dir, error)) {
    const auto parent = std::filesystem::absolute(data_dir, error).parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent, error)) {
      return Status(ErrorCode::kUnavailable,
                    "the data directory " + data_dir.string() + " and its parent " + parent.string() +
                        " do not exist; mount the data volume, or create the directory if this is a first start");
    }
    return Status::Ok();  // the lock step creates it
  }
  if (!std::filesystem::is_directory(data_dir, error)) {
    return Status(ErrorCode::kUnavailable, "the data directory " + data_dir.string() +
                                               " is not a directory; point OPEN_NOTEBOOK_DATA_DIR at a directory");
  }
  if (access(data_dir.c_str(), W_OK | X_OK) != 0) return NotWritable(data_dir);

  if (storage::IsPostgresUrl(settings.database_url)) return Status::Ok();  // no database file to check
  auto database = settings.SqlitePath();
  if (!database.ok()) return database.status();
  if (std::filesystem::exists(*database, error) && access(database->c_str(), R_OK | W_OK) != 0) {
    return NotWritable(*database);
  }
  return Status::Ok();
}

Result<OpenedDatabase> TryOpenDatabase(const Settings& settings) {
  ON_RETURN_IF_ERROR(CheckDataDirectory(settings));
  ON_ASSIGN_OR_RETURN(DataDirLock lock, DataDirLock::AcquireShared(settings.data_dir));
  ON_ASSIGN_OR_RETURN(auto storage, storage::OpenStorage(settings));
  ON_RETURN_IF_ERROR(storage->Ping());
  return OpenedDatabase{std::move(lock), std::move(storage)};
}

std::string DatabaseWait::Record(const Status& error) {
  ++attempt_;
  std::string reason = "waiting for the database: " + error.message() + " (attempt " + std::to_string(attempt_);
  if (settings_.db_wait_attempts > 0) reason += " of " + std::to_string(settings_.db_wait_attempts);
  reason += ")";

  const auto now = std::chrono::steady_clock::now();
  if (error.message() != last_reason_ || now - last_logged_ >= std::chrono::minutes(1)) {
    spdlog::warn("{} is {}; it retries with a backoff of up to 5 s", who_, reason);
    last_reason_ = error.message();
    last_logged_ = now;
  }
  return reason;
}

bool DatabaseWait::SleepBeforeRetry(const std::atomic<bool>& stopping) {
  if (settings_.db_wait_attempts > 0 && attempt_ >= settings_.db_wait_attempts) return false;
  for (auto waited = std::chrono::milliseconds(0); waited < delay_ && !stopping; waited += std::chrono::milliseconds(50)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  delay_ = std::min(delay_ * 2, std::chrono::milliseconds(5000));
  return !stopping;
}

}  // namespace on::ops
