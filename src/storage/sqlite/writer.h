// The single SQLite writer of a process, with group commit.
//
// Every write runs on one thread that owns the write connection. Callers queue a function; the
// writer takes everything queued, runs it in one IMMEDIATE transaction with a savepoint per
// function (so one failing write rolls back alone), commits once, and only then completes each
// caller with its own result. Under concurrent writers one commit (and one WAL sync) covers many
// writes. Other processes writing to the same file are serialised by SQLite's lock and the busy
// timeout.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/error.h"
#include "storage/sqlite/connection.h"

namespace on::storage::sqlite {

class Writer {
 public:
  explicit Writer(std::unique_ptr<Connection> connection);
  ~Writer();  // finishes queued writes, then stops the thread
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Runs `apply` inside a transaction on the writer thread and returns its result after the
  // commit. A failing `apply` rolls back its own changes only. Blocks the calling thread.
  template <typename T>
  Result<T> Run(std::function<Result<T>(Connection&)> apply) {
    std::optional<Result<T>> output;
    std::promise<Status> committed;
    auto done = committed.get_future();
    Enqueue(Task{[&](Connection& connection) {
                   output.emplace(apply(connection));
                   return output->status();
                 },
                 [&](Status commit) { committed.set_value(std::move(commit)); }});
    Status commit = done.get();
    if (!commit.ok()) return commit;
    return std::move(*output);
  }

  // Queues `apply` without waiting; a failure is logged.
  void Post(std::function<Status(Connection&)> apply);

  // Number of transactions this writer has committed; changes after every commit, before the
  // callers of Run() see their results.
  uint64_t commits() const { return commits_.load(std::memory_order_acquire); }

 private:
  struct Task {
    std::function<Status(Connection&)> apply;
    std::function<void(Status)> finish;  // receives the commit status; runs on the writer thread
  };

  void Enqueue(Task task);
  void Loop();
  void CommitBatch(std::deque<Task>& batch);

  std::unique_ptr<Connection> connection_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> queue_;  // guarded by mutex_
  bool stopping_ = false;   // guarded by mutex_
  std::atomic<uint64_t> commits_{0};
  std::thread thread_;
};

}  // namespace on::storage::sqlite
