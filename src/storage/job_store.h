// The background-job queue: jobs as database rows, claimed by workers under a lease.
//
// Life of a job: Submit -> queued. A worker's Claim moves the oldest due queued job to running,
// counts the attempt and gives the worker a lease that it renews (RenewLeases) while the handler
// runs. The worker then ends the attempt with exactly one of Complete, Fail, Retry (queued again
// after a delay), FinishCancelled or Release (queued again, attempt not counted). When a worker
// dies, its lease expires and RequeueExpired puts the job back in the queue, or fails it when no
// attempts are left.
//
// Every call that ends an attempt takes the JobLease that Claim returned. It changes the row only
// while that lease still holds (same worker, same attempt, status running), so a worker that lost
// its lease cannot overwrite the outcome of the attempt that replaced it. Those calls return false
// when the lease was lost.
//
// Leases compare wall-clock times written by different processes, so all workers of one
// database must share a clock. NOTE: a system clock step larger than the lease can expire leases
// early or late.
//
// Statuses are "queued", "running", "completed", "failed" and "cancelled"; the last three are
// final. All methods are thread-safe and safe across processes that share the database.
// Errors: kNotFound for an unknown job id, kInvalidInput for values the database rejects,
// kUnavailable when another process holds the write lock past the busy timeout, kDatabase otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace on::storage {

enum class JobStatus { kQueued, kRunning, kCompleted, kFailed, kCancelled };

// "queued", "running", ...
std::string_view JobStatusName(JobStatus status);
// Parses a status name; nullopt for anything else.
std::optional<JobStatus> ParseJobStatus(std::string_view name);
// True for completed, failed and cancelled.
bool IsFinal(JobStatus status);

// One job row. Times are ISO 8601 UTC text (see core/timestamps.h).
struct Job {
  std::string id;       // "command:<key>"
  std::string app;      // command namespace, e.g. "open_notebook"
  std::string command;  // command name within the app, e.g. "process_source"
  std::string input_json = "{}";
  JobStatus status = JobStatus::kQueued;
  int attempts = 0;  // runs started so far, the current one included
  int max_attempts = 1;
  std::string run_after;  // a queued job is not claimed before this time
  std::optional<std::string> lease_owner;  // worker id while running
  std::optional<std::string> lease_expires;
  std::optional<std::string> heartbeat_at;  // last lease renewal
  bool cancel_requested = false;
  std::optional<std::string> progress_stage;
  std::optional<int> progress_percent;  // 0 to 100
  std::optional<std::string> result_json;
  std::optional<std::string> error_message;
  std::optional<std::string> error_code;  // ErrorCodeName(), e.g. "Upstream"
  std::optional<std::string> dedupe_key;
  std::string created;
  std::string updated;
  std::optional<std::string> started;    // start of the latest attempt
  std::optional<std::string> completed;  // when the job reached a final status

  // "app.command", the key of the command registry.
  std::string FullCommand() const { return app + "." + command; }
};

// Fields of a job to submit.
struct JobSpec {
  std::string app;
  std::string command;
  std::string input_json = "{}";  // stored as given; the caller validates it
  int max_attempts = 1;           // at least 1
  // While a queued or running job with this key exists, Submit returns that job instead of
  // creating another one. Finished jobs do not count, so a later submit runs again.
  std::optional<std::string> dedupe_key;
  // Id to use ("command:<key>"); a new random id when empty.
  std::optional<std::string> id;
  // The job is not claimed before now + delay.
  std::chrono::milliseconds delay{0};
};

struct SubmitResult {
  Job job;
  bool created = true;  // false when an active job with the same dedupe key was returned
};

// Proof of a claim: which worker runs which attempt of which job.
struct JobLease {
  std::string job_id;
  std::string worker_id;
  int attempt = 0;
};

struct ClaimRequest {
  std::string worker_id;
  std::vector<std::string> commands;  // full names ("app.command") this worker can run
  std::chrono::milliseconds lease{60000};
};

// A running job of one worker after a lease renewal.
struct LeaseRenewal {
  std::string job_id;
  int attempt = 0;
  bool cancel_requested = false;
};

enum class CancelOutcome {
  kCancelled,       // the job was queued and is now cancelled
  kRequested,       // the job is running; its handler is asked to stop
  kAlreadyFinal,    // the job had already completed, failed or been cancelled
};

struct JobQuery {
  std::optional<std::string> command;  // matches the command name or "app.command"
  std::optional<JobStatus> status;
  int limit = 50;
};

struct WorkerInfo {
  std::string id;
  std::string host;
  int64_t pid = 0;
  std::vector<std::string> commands;  // full command names it runs
  int max_tasks = 1;
  int running = 0;
  std::chrono::milliseconds lease{60000};
  std::string started;
  std::string heartbeat_at;
};

struct QueueStats {
  int64_t queued = 0;
  int64_t running = 0;
  int64_t completed = 0;
  int64_t failed = 0;
  int64_t cancelled = 0;
  std::optional<std::string> oldest_queued_created;  // created time of the oldest queued job
};

// A change to a job, sent to the listeners of the store object that made it, and on PostgreSQL
// also to the listeners in every other process on the database.
struct JobEvent {
  enum class Kind { kSubmitted, kCancelRequested };
  Kind kind;
  // Empty for kSubmitted from another process: one event may stand for several jobs.
  std::string job_id;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Inserts a queued job, or returns the active job with the same dedupe key. Notifies listeners.
  virtual Result<SubmitResult> Submit(const JobSpec& spec) = 0;
  virtual Result<Job> Get(const std::string& id) = 0;
  // Jobs matching `query`, newest first, at most query.limit of them.
  virtual Result<std::vector<Job>> List(const JobQuery& query) = 0;

  // Atomically moves the oldest due queued job of one of request.commands to running for
  // request.worker_id and counts the attempt. Returns nullopt when no job is due. Two claims,
  // from any processes, never return the same attempt of a job.
  virtual Result<std::optional<Job>> Claim(const ClaimRequest& request) = 0;

  // Extends the lease of every running job of `worker_id` to now + lease. Returns the jobs the
  // worker still holds. A job missing from the result was lost because its lease expired and it
  // was requeued, claimed elsewhere or failed.
  virtual Result<std::vector<LeaseRenewal>> RenewLeases(const std::string& worker_id,
                                                        std::chrono::milliseconds lease) = 0;
  // Ids of the running jobs of `worker_id` whose cancellation was requested. Read-only.
  virtual Result<std::vector<std::string>> CancelRequests(const std::string& worker_id) = 0;
  // Records progress of a running attempt; false when the lease was lost. `percent` is clamped
  // to 0..100.
  virtual Result<bool> ReportProgress(const JobLease& lease, std::string_view stage, int percent) = 0;

  // Ends the attempt: completed with `result_json`.
  virtual Result<bool> Complete(const JobLease& lease, std::string_view result_json) = 0;
  // Ends the attempt: failed for good with `error`.
  virtual Result<bool> Fail(const JobLease& lease, const Status& error) = 0;
  // Ends the attempt: queued again after `delay` with `error` kept as the last error. Fails the
  // job instead when the attempt was its last.
  virtual Result<bool> Retry(const JobLease& lease, const Status& error, std::chrono::milliseconds delay) = 0;
  // Ends the attempt: cancelled (after a cancel request).
  virtual Result<bool> FinishCancelled(const JobLease& lease) = 0;
  // Puts the job back in the queue, due now, without counting the attempt (worker shutdown).
  virtual Result<bool> Release(const JobLease& lease) = 0;

  // Cancels a queued job now, or requests the worker of a running job to stop it. kNotFound for an
  // unknown id. Notifies listeners of a request.
  virtual Result<CancelOutcome> Cancel(const std::string& id) = 0;

  // Handles running jobs whose lease expired before now. Each goes back to queued when attempts
  // are left, else it fails with a message naming the worker that stopped responding. A job with
  // a cancel request ends cancelled. Returns the number of jobs changed.
  virtual Result<int> RequeueExpired() = 0;

  // Deletes completed, failed and cancelled jobs that finished before now - `age`, at most
  // `max_rows` of them. Returns the number deleted.
  virtual Result<int> PurgeFinished(std::chrono::seconds age, int max_rows) = 0;

  // Workers. Each worker writes its row at start and on every heartbeat (started and
  // heartbeat_at are set by the store) and removes it at stop.
  virtual Status SaveWorker(const WorkerInfo& worker) = 0;
  virtual Status RemoveWorker(const std::string& worker_id) = 0;
  // Deletes the rows of workers silent for longer than `silent_for`: a crashed worker never
  // removes its own row. Returns the number deleted.
  virtual Result<int> PruneWorkers(std::chrono::seconds silent_for) = 0;
  // Returns every worker row, most recent heartbeat first.
  virtual Result<std::vector<WorkerInfo>> ListWorkers() = 0;

  virtual Result<QueueStats> GetQueueStats() = 0;

  // Adds a listener for submits and cancel requests made through this store object, that is, in
  // this process. The PostgreSQL store also passes on those of other processes, which it learns
  // through LISTEN/NOTIFY; a job queued again (retry, expired lease) counts as a submit there.
  // Workers use it to react at once and still poll, because the SQLite store has no such
  // announcements and a PostgreSQL one is lost while its listening connection is down.
  // A listener runs on the thread that made the change (or the store's listening thread), after
  // the commit. It must return quickly
  // and must not call AddListener or RemoveListener. Returns a handle for RemoveListener, which
  // waits for running calls of the listener to return.
  virtual int AddListener(std::function<void(const JobEvent&)> listener) = 0;
  virtual void RemoveListener(int handle) = 0;
  // Tells the listeners that job `job_id` was submitted. Submit does it itself; call it after
  // committing a job inserted inside another transaction (sqlite::InsertJob).
  virtual void NotifySubmitted(const std::string& job_id) = 0;
};

}  // namespace on::storage
