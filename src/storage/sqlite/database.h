// The connections of one SQLite file: a pool of readers and the group-committing writer.
// Shared by the record stores of the SQLite backend (notebooks and notes, jobs, sources, ...).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "storage/sqlite/connection.h"
#include "storage/sqlite/writer.h"

namespace on::storage::sqlite {

class Database {
 public:
  // Opens (creating when missing) the file at options.path and starts the writer thread.
  static Result<std::unique_ptr<Database>> Open(const ConnectionOptions& options);

  // A reader connection leased from the pool; returned to it on destruction.
  class ReaderLease {
   public:
    ReaderLease(Database* owner, std::unique_ptr<Connection> connection)
        : owner_(owner), connection_(std::move(connection)) {}
    ~ReaderLease();
    ReaderLease(ReaderLease&&) = default;
    Connection& operator*() { return *connection_; }
    Connection* operator->() { return connection_.get(); }

   private:
    Database* owner_;
    std::unique_ptr<Connection> connection_;
  };

  // Leases a reader, opening a new connection when none is idle.
  Result<ReaderLease> Reader();
  Writer& writer() { return *writer_; }

  // A number that changes whenever the database content may have changed: after every commit of
  // this process's writer at once, and within `kExternalCheckInterval` of a commit by another
  // process. Cheap; meant for validating caches.
  uint64_t DataVersion();
  const ConnectionOptions& options() const { return options_; }

 private:
  Database(ConnectionOptions options, std::unique_ptr<Writer> writer)
      : options_(std::move(options)), writer_(std::move(writer)) {}

  ConnectionOptions options_;
  std::unique_ptr<Writer> writer_;
  std::mutex probe_mutex_;
  std::unique_ptr<Connection> probe_;          // guarded by probe_mutex_
  int64_t probe_version_ = -1;                 // guarded by probe_mutex_
  std::atomic<uint64_t> external_changes_{0};
  std::atomic<int64_t> next_probe_ns_{0};
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by readers_mutex_
};

}  // namespace on::storage::sqlite
