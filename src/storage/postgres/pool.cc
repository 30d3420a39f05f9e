#include "storage/postgres/pool.h"

#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

namespace on::storage::postgres {

Pool::Lease::~Lease() {
  if (connection_ != nullptr) pool_->Return(std::move(connection_));
}

Result<std::unique_ptr<Pool>> Pool::Open(const PoolOptions& options) {
  if (options.size < 1) return InvalidInput("the pool size " + std::to_string(options.size) + " is invalid: expected 1 or more");
  std::unique_ptr<Pool> pool(new Pool(options));
  ON_ASSIGN_OR_RETURN(auto first, Connection::Open(options.connection));
  pool->idle_.push_back(std::move(first));
  pool->open_ = 1;
  return pool;
}

Result<std::unique_ptr<Connection>> Pool::Connect() {
  const auto give_up = std::chrono::steady_clock::now() + options_.reconnect_window;
  auto delay = options_.reconnect_initial_delay;
  for (int attempt = 1;; ++attempt) {
    auto connection = Connection::Open(options_.connection);
    if (connection.ok()) {
      if (attempt > 1) spdlog::info("reconnected to PostgreSQL after {} attempts", attempt);
      return connection;
    }
    const auto now = std::chrono::steady_clock::now();
    if (connection.status().code() != ErrorCode::kUnavailable || now + delay > give_up) {
      spdlog::error("giving up connecting to PostgreSQL after {} attempts: {}", attempt, connection.status().message());
      return connection.status();
    }
    // One line for the first failure; the outcome is logged when the loop ends.
    if (attempt == 1) spdlog::warn("cannot connect to PostgreSQL, retrying with backoff: {}", connection.status().message());
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, options_.reconnect_max_delay);
  }
}

Result<Pool::Lease> Pool::Acquire() {
  const bool bounded = options_.acquire_timeout.count() > 0;
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  std::unique_lock lock(mutex_);
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      if (!connection->IsBroken()) return Lease(this, std::move(connection));
      spdlog::warn("dropping a PostgreSQL connection that the server closed");
      --open_;
    }

    if (open_ < options_.size) {
      ++open_;
      lock.unlock();
      auto connection = Connect();
      if (connection.ok()) return Lease(this, std::move(connection).value());
      lock.lock();
      --open_;
      returned_.notify_one();
      return connection.status();
    }

    if (!bounded) {
      returned_.wait(lock);
    } else if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
               open_ >= options_.size) {
      return Status(ErrorCode::kTimeout, "all " + std::to_string(options_.size) +
                                             " PostgreSQL connections stayed busy for " +
                                             std::to_string(options_.acquire_timeout.count()) +
                                             " ms; raise OPEN_NOTEBOOK_DB_POOL_SIZE or reduce the load");
    }
  }
}

void Pool::Return(std::unique_ptr<Connection> connection) {
  // Counted even when the transaction rolled back, because a needless change of DataVersion costs
  // one cache miss and a missed one serves stale data.
  if (connection->TakeWrote()) writes_.fetch_add(1, std::memory_order_acq_rel);
  // A lease that ended inside a transaction (an error path that skipped ROLLBACK) must not hand
  // that transaction to the next user.
  if (!connection->IsIdle() && !connection->Execute("ROLLBACK").ok()) connection.reset();
  if (connection != nullptr && !connection->IsIdle()) connection.reset();

  std::lock_guard lock(mutex_);
  if (connection != nullptr) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
  returned_.notify_one();
}

}  // namespace on::storage::postgres
