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

namespace {

// Commits by other processes (a separate worker) are noticed within this interval.
constexpr std::chrono::milliseconds kExternalCheckInterval{100};

}  // namespace

uint64_t Database::DataVersion() {
  const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  if (now >= next_probe_ns_.load(std::memory_order_relaxed)) {
    std::unique_lock lock(probe_mutex_, std::try_to_lock);
    if (lock.owns_lock()) {
      next_probe_ns_.store(now + std::chrono::nanoseconds(kExternalCheckInterval).count(), std::memory_order_relaxed);
      if (!probe_) {
        auto opened = Connection::Open(options_);
        if (opened.ok()) probe_ = std::move(opened).value();
      }
      // PRAGMA data_version changes when another connection (of any process) commits.
      if (probe_) {
        auto statement = probe_->Prepare("PRAGMA data_version");
        if (statement.ok() && statement->Step().ok()) {
          const int64_t version = statement->Int(0);
          if (version != probe_version_) {
            probe_version_ = version;
            external_changes_.fetch_add(1, std::memory_order_acq_rel);
          }
        }
      }
    }
  }
  return writer_->commits() * 1'000'003 + external_changes_.load(std::memory_order_acquire);
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
