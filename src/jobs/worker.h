// The job worker: claims jobs from the JobStore and runs their command handlers on threads.
//
// Threads: one dispatcher claims due jobs while a slot is free, at once after a submit in this
// process and otherwise every poll interval. `max_tasks` runners run one handler each. One
// maintenance thread writes progress and forwards cancel requests; every lease/3 it also renews
// the leases of running jobs, requeues jobs whose worker died and deletes old finished jobs.
//
// Several workers (threads of one process or separate processes) may share one database: the
// store's claim gives each attempt to one worker. A worker that cannot renew a lease before it
// expires asks the handler to stop, and the store rejects the outcome of an attempt whose lease
// was taken over (see storage/job_store.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/settings.h"
#include "jobs/command_registry.h"
#include "storage/job_store.h"

namespace on::jobs {

struct WorkerOptions {
  std::string worker_id;  // a new "worker:<random>" id when empty
  int max_tasks = 5;
  std::chrono::milliseconds lease{60000};
  // How often an idle worker looks for jobs submitted by other processes.
  std::chrono::milliseconds poll_interval{500};
  // How long Stop() lets running jobs finish before it requests them to stop.
  std::chrono::milliseconds stop_timeout{30000};
  // How long Stop() then waits for handlers to honour the stop request.
  std::chrono::milliseconds stop_grace{5000};
  // How often progress is written and cancel requests are read.
  std::chrono::milliseconds progress_interval{500};
  // Finished jobs older than this are deleted; zero keeps them forever.
  std::chrono::seconds job_retention{std::chrono::hours(24 * 30)};
};

// Options from OPEN_NOTEBOOK_WORKER_MAX_TASKS, _JOB_LEASE_SECONDS, _WORKER_POLL_MS,
// _WORKER_STOP_TIMEOUT and _JOB_RETENTION_DAYS.
WorkerOptions WorkerOptionsFromSettings(const Settings& settings);

class Worker {
 public:
  // `store` and `registry` must outlive the worker.
  Worker(storage::JobStore& store, const CommandRegistry& registry, WorkerOptions options);
  // Calls Stop() and waits for every thread, including a handler that ignores its stop request.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Registers the worker in the store and starts its threads. Fails when the store does (for
  // example when the job tables do not exist yet). Call once.
  Status Start();

  // Stops claiming and lets running jobs finish for up to stop_timeout. Then it requests the
  // remaining handlers to stop and returns their jobs to the queue without counting the attempt.
  // Returns false when a handler still runs after stop_grace more. Its job is back in the queue
  // but its thread goes on, so the process should exit rather than destroy the worker. Safe to
  // call twice.
  bool Stop();

  const std::string& id() const { return options_.worker_id; }

  // Changes how many jobs run at the same time (at least 1), for example after
  // OPEN_NOTEBOOK_WORKER_MAX_TASKS changed at run time. Lowering it lets running jobs finish. A
  // no-op before Start() and after Stop().
  void SetMaxTasks(int max_tasks);
  int max_tasks() const;
  // Jobs claimed and not yet finished.
  int running() const;

  // Ok while the dispatcher and maintenance threads run; otherwise the error that ended one of
  // them (an exception that is not a std::exception). Such a worker claims no more jobs or no
  // longer renews leases, so its owner should Stop() it and start a new one.
  Status Health() const;

  struct RunningJob;  // defined in worker.cc

 private:
  void DispatchLoop();
  void ClaimWhileSlotsFree();
  void RunnerLoop();
  void MaintenanceLoop();
  void RunJob(const std::shared_ptr<RunningJob>& running);
  void FinishJob(RunningJob& running, const Result<nlohmann::json>& outcome);
  void OnStoreEvent(const storage::JobEvent& event);

  // Maintenance steps, each logging its own failures.
  void FlushProgress();
  void ReadCancelRequests();
  void RenewLeases();
  void ReapAndPrune(bool purge);
  void SaveHeartbeat();
  // Records why a worker thread ended early; Health() returns the first such error.
  void RecordThreadFailure(std::string_view thread, std::string_view reason);

  std::vector<std::shared_ptr<RunningJob>> RunningSnapshot() const;
  bool WaitUntilIdle(std::chrono::milliseconds timeout);

  storage::JobStore& store_;
  const CommandRegistry& registry_;
  WorkerOptions options_;
  std::vector<std::string> commands_;
  std::string host_;
  int listener_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable dispatcher_wake_;   // submits, freed slots, stop
  std::condition_variable runner_wake_;       // hand-offs, stop
  std::condition_variable idle_;              // a job finished
  std::condition_variable maintenance_wake_;  // stop
  bool started_ = false;                      // guarded by mutex_
  bool stopping_ = false;                     // guarded by mutex_: no more claims
  bool runners_exit_ = false;                 // guarded by mutex_
  bool maintenance_exit_ = false;             // guarded by mutex_
  bool stopped_ = false;                      // guarded by mutex_
  bool stop_result_ = true;                   // guarded by mutex_
  bool submitted_ = false;                    // guarded by mutex_: a submit arrived since the last claim
  int max_tasks_ = 0;                         // guarded by mutex_
  int free_slots_ = 0;                        // guarded by mutex_; negative after SetMaxTasks lowered it
  Status thread_failure_;                     // guarded by mutex_
  std::deque<std::shared_ptr<RunningJob>> handoff_;             // guarded by mutex_
  // Claimed attempts, by "<job id>#<attempt>"; guarded by mutex_.
  std::map<std::string, std::shared_ptr<RunningJob>> running_;

  std::thread dispatcher_;
  std::thread maintenance_;
  std::vector<std::thread> runners_;
};

}  // namespace on::jobs
