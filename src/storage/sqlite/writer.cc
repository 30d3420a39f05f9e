#include "storage/sqlite/writer.h"

#include <sqlite3.h>

#include <iterator>

#include <spdlog/spdlog.h>

namespace on::storage::sqlite {
namespace {

// Bounds the work one transaction holds the lock for, so readers in other processes and the
// WAL checkpoint are not starved under a long burst.
constexpr size_t kMaxBatch = 512;

}  // namespace

Writer::Writer(std::unique_ptr<Connection> connection) : connection_(std::move(connection)) {
  thread_ = std::thread([this] { Loop(); });
}

Writer::~Writer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Writer::Post(std::function<Status(Connection&)> apply) {
  Enqueue(Task{std::move(apply), [](Status commit) {
                 if (!commit.ok()) spdlog::warn("background database write failed: {}", commit.ToString());
               }});
}

void Writer::Enqueue(Task task) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void Writer::Loop() {
  for (;;) {
    std::deque<Task> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping with nothing left
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
  }
}

void Writer::CommitBatch(std::deque<Task>& batch) {
  Connection& db = *connection_;
  Status begin = db.Execute("BEGIN IMMEDIATE");
  if (!begin.ok()) {
    for (auto& task : batch) task.finish(begin);
    return;
  }

  for (size_t index = 0; index < batch.size(); ++index) {
    Task& task = batch[index];
    Status savepoint = db.Execute("SAVEPOINT write_task");
    Status applied = savepoint.ok() ? Status::Ok() : savepoint;
    if (applied.ok()) {
      try {
        applied = task.apply(db);
      } catch (const std::exception& error) {
        applied = InternalError(std::string("database write threw: ") + error.what());
      }
    }
    if (!applied.ok() && sqlite3_get_autocommit(db.handle()) != 0) {
      // On SQLITE_FULL, IOERR, BUSY or NOMEM SQLite may roll back the whole transaction, not only
      // the failed statement (sqlite.org/c3ref/get_autocommit.html). The earlier tasks of the
      // batch then lost their writes. The later ones must not run outside a transaction, so they
      // go into a new batch.
      spdlog::error("the database rolled back a batch of {} writes after: {}", index + 1, applied.ToString());
      const Status lost(applied.code(), "the write was rolled back with others in its batch: " + applied.message());
      for (size_t done = 0; done < index; ++done) batch[done].finish(lost);
      task.finish(Status::Ok());  // its own error is its result
      std::deque<Task> rest(std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(index) + 1),
                            std::make_move_iterator(batch.end()));
      if (!rest.empty()) CommitBatch(rest);
      return;
    }
    if (!applied.ok()) (void)db.Execute("ROLLBACK TO write_task");
    (void)db.Execute("RELEASE write_task");
  }

  Status commit = db.Execute("COMMIT");
  if (!commit.ok()) {
    spdlog::error("database commit of {} writes failed: {}", batch.size(), commit.ToString());
    (void)db.Execute("ROLLBACK");
  }

  if (commit.ok()) commits_.fetch_add(1, std::memory_order_acq_rel);

  // A task whose own apply failed still completes "committed": its Result carries its error.
  for (auto& task : batch) task.finish(commit);
}

}  // namespace on::storage::sqlite
