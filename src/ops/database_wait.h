// Waiting for the database at start-up, shared by the API and worker processes.
//
// What "the database is unavailable" means for SQLite, where no server has to come up:
//   - the data directory is missing and so is its parent. Start-up creates only the last level
//     (./data on a first start). A missing parent is taken for a volume that is not mounted yet,
//     because directories created there would be hidden once the mount appears;
//   - the data directory, or the database file in it, is not writable by this user (a
//     read-only or not yet writable mount, a wrong owner after a copy);
//   - `open-notebook backup restore` holds the data directory's exclusive lock;
//   - SQLite cannot open the file, or reports it locked beyond the busy timeout.
// Each of these can pass without a restart, so the process keeps trying with backoff and the API
// answers /health with 503 and the reason. A schema that this binary cannot use is not waited
// for: it needs a person, and start-up fails.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/settings.h"
#include "ops/data_dir_lock.h"
#include "storage/storage.h"

namespace on::ops {

// Checks the first three conditions above. kUnavailable naming the path and the fix.
Status CheckDataDirectory(const Settings& settings);

struct OpenedDatabase {
  DataDirLock lock;  // held while the storage is in use
  std::unique_ptr<storage::Storage> storage;
};

// Tries once to check the data directory, take the shared lock, open the database and run a
// trivial query.
Result<OpenedDatabase> TryOpenDatabase(const Settings& settings);

// Delays between attempts and a log that does not repeat itself: the first failure, a change of
// reason and otherwise one line a minute.
class DatabaseWait {
 public:
  // `who` names the process in logs ("the API", "the worker").
  DatabaseWait(const Settings& settings, std::string who) : settings_(settings), who_(std::move(who)) {}

  // Counts a failed attempt and logs it. Returns the reason for /health: "waiting for the
  // database: <error> (attempt n)".
  std::string Record(const Status& error);

  // Sleeps the backoff (1 s, doubling up to 5 s). Returns false, without sleeping, when the
  // attempts are used up (OPEN_NOTEBOOK_DB_WAIT_ATTEMPTS; 0 never uses them up), and false when
  // `stopping` was set.
  bool SleepBeforeRetry(const std::atomic<bool>& stopping);

  int attempt() const { return attempt_; }

 private:
  const Settings& settings_;
  std::string who_;
  int attempt_ = 0;
  std::chrono::milliseconds delay_{1000};
  std::string last_reason_;
  std::chrono::steady_clock::time_point last_logged_{};
};

}  // namespace on::ops
