// The job queue on PostgreSQL (tables job and job_worker, migration 0002).
//
// Any number of processes share the queue. A claim locks the oldest due job with
// SELECT ... FOR UPDATE SKIP LOCKED, so concurrent claims never wait for each other's row and
// never return the same attempt. Attempts end with UPDATEs fenced by worker id and attempt
// number, as in the SQLite store.
#pragma once

#include <functional>
#include <map>
#include <mutex>

#include "core/timestamps.h"
#include "storage/job_store.h"
#include "storage/postgres/pool.h"

namespace on::storage::postgres {

// The time source of the queue. Tests pass a manual clock to expire leases without waiting.
using JobClock = std::function<SystemClock::time_point()>;

// Inserts a queued job inside the caller's transaction on `db`, or returns the active job with
// the same dedupe key. The caller calls NotifySubmitted after COMMIT when `created` is true.
// Returns kInvalidInput for an empty app or command, max_attempts below 1 or an invalid id.
Result<SubmitResult> InsertJob(Connection& db, const JobSpec& spec, SystemClock::time_point now);

class PostgresJobStore final : public JobStore {
 public:
  // `pool` must outlive the store.
  explicit PostgresJobStore(Pool& pool, JobClock clock = [] { return SystemClock::now(); })
      : pool_(pool), clock_(std::move(clock)) {}

  Result<SubmitResult> Submit(const JobSpec& spec) override;
  Result<Job> Get(const std::string& id) override;
  Result<std::vector<Job>> List(const JobQuery& query) override;
  Result<std::optional<Job>> Claim(const ClaimRequest& request) override;
  Result<std::vector<LeaseRenewal>> RenewLeases(const std::string& worker_id,
                                                std::chrono::milliseconds lease) override;
  Result<std::vector<std::string>> CancelRequests(const std::string& worker_id) override;
  Result<bool> ReportProgress(const JobLease& lease, std::string_view stage, int percent) override;
  Result<bool> Complete(const JobLease& lease, std::string_view result_json) override;
  Result<bool> Fail(const JobLease& lease, const Status& error) override;
  Result<bool> Retry(const JobLease& lease, const Status& error, std::chrono::milliseconds delay) override;
  Result<bool> FinishCancelled(const JobLease& lease) override;
  Result<bool> Release(const JobLease& lease) override;
  Result<CancelOutcome> Cancel(const std::string& id) override;
  Result<int> RequeueExpired() override;
  Result<int> PurgeFinished(std::chrono::seconds age, int max_rows) override;
  Status SaveWorker(const WorkerInfo& worker) override;
  Status RemoveWorker(const std::string& worker_id) override;
  Result<int> PruneWorkers(std::chrono::seconds silent_for) override;
  Result<std::vector<WorkerInfo>> ListWorkers() override;
  Result<QueueStats> GetQueueStats() override;

  int AddListener(std::function<void(const JobEvent&)> listener) override;
  void RemoveListener(int handle) override;
  void NotifySubmitted(const std::string& job_id) override;
  // Tells the listeners that cancellation of running job `job_id` was requested in another
  // process (a notification on kJobCancelChannel).
  void NotifyCancelRequested(const std::string& job_id);

 private:
  // Runs a fenced UPDATE that ends or changes one attempt. `sql` uses $1 job id, $2 worker id,
  // $3 attempt and $4 now; `extra` contains $5 onwards. Returns whether the lease still held.
  Result<bool> UpdateLeased(const JobLease& lease, std::string_view sql, const Params& extra);
  void Notify(const JobEvent& event);
  std::string Now() const { return FormatTimestamp(clock_()); }

  Pool& pool_;
  JobClock clock_;
  std::mutex listeners_mutex_;  // held while listeners run, so RemoveListener waits for them
  std::map<int, std::function<void(const JobEvent&)>> listeners_;  // guarded by listeners_mutex_
  int next_listener_ = 1;                                           // guarded by listeners_mutex_
};

}  // namespace on::storage::postgres
