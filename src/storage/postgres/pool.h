// A bounded pool of PostgreSQL connections shared by the threads of one process.
//
// Connections open on demand up to `size`. A connection that the server closed while it sat idle
// (server restart, terminated backend) is dropped when it is next leased. Its replacement is
// opened with exponential backoff. So a server restart fails only the statements running at that
// moment.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "storage/postgres/connection.h"

namespace on::storage::postgres {

struct PoolOptions {
  ConnectionOptions connection;
  int size = 10;
  // How long Acquire waits for a connection when all are leased; zero waits without a limit.
  std::chrono::milliseconds acquire_timeout{30000};
  // How long Acquire keeps trying to reach an unreachable server before returning kUnavailable,
  // and the first and largest pause between attempts.
  std::chrono::milliseconds reconnect_window{10000};
  std::chrono::milliseconds reconnect_initial_delay{100};
  std::chrono::milliseconds reconnect_max_delay{2000};
};

class Pool {
 public:
  // A leased connection; it goes back to the pool when the lease is destroyed.
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> connection) : pool_(pool), connection_(std::move(connection)) {}
    ~Lease();
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    Connection& operator*() { return *connection_; }
    Connection* operator->() { return connection_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> connection_;
  };

  // Creates the pool and opens its first connection, so a wrong URL fails here.
  static Result<std::unique_ptr<Pool>> Open(const PoolOptions& options);

  // Leases an idle connection, opening one when fewer than `size` exist. kTimeout when every
  // connection stays leased for acquire_timeout; kUnavailable when the server cannot be reached
  // within reconnect_window.
  Result<Lease> Acquire();

  const PoolOptions& options() const { return options_; }

  // How many leases ended after a statement that changed rows. It rises after the change is
  // committed (a lease ends after its COMMIT), so a value read before a write differs from any
  // value read after it.
  uint64_t writes() const { return writes_.load(std::memory_order_acquire); }

 private:
  explicit Pool(const PoolOptions& options) : options_(options) {}

  // Opens a connection, retrying with backoff for at most reconnect_window.
  Result<std::unique_ptr<Connection>> Connect();
  void Return(std::unique_ptr<Connection> connection);

  const PoolOptions options_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // idle plus leased connections, and those being opened
  std::atomic<uint64_t> writes_{0};
};

}  // namespace on::storage::postgres
