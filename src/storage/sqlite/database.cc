#include "storage/sqlite/database.h"

#include <filesystem>

namespace on::storage::sqlite {

Result<std::unique_ptr<Database>> Database::Open(const ConnectionOptions& options) {
  std::error_code error;
  const auto parent = std::filesystem::path(options.path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  if (error) {
    return Status(ErrorCode::kIo, "cannot create the database directory " + parent.string() + ": " + error.message());
  }

  ON_ASSIGN_OR_RETURN(auto write_connection, Connection::Open(options));
  auto writer = std::make_unique<Writer>(std::move(write_connection));
  return std::unique_ptr<Database>(new Database(options, std::move(writer)));
}

Database::ReaderLease::~ReaderLease() {
  if (connection_ == nullptr) return;
  std::lock_guard lock(owner_->readers_mutex_);
  owner_->idle_readers_.push_back(std::move(connection_));
}

Result<Database::ReaderLease> Database::Reader() {
  {
    std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      auto connection = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return ReaderLease(this, std::move(connection));
    }
  }
  ON_ASSIGN_OR_RETURN(auto connection, Connection::Open(options_));
  return ReaderLease(this, std::move(connection));
}

}  // namespace on::storage::sqlite
