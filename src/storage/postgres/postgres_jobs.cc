#include "storage/postgres/postgres_jobs.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "core/metrics.h"

namespace on::storage::postgres {
namespace {

constexpr std::string_view kJobColumns =
    "id, app, command, input, status, attempts, max_attempts, run_after, lease_owner, lease_expires, "
    "heartbeat_at, cancel_requested, progress_stage, progress_percent, result, error_message, error_code, "
    "dedupe_key, created, updated, started, completed";

// A lease is still held when the row is running under the same worker and attempt.
constexpr std::string_view kLeaseFence = " WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND status = 'running'";

constexpr std::string_view kCancelledMessage = "the job was cancelled on request";

std::string SelectJobsSql(std::string_view where) {
  return "SELECT " + std::string(kJobColumns) + " FROM job " + std::string(where);
}

Job ReadJob(const Rows& rows, int row) {
  Job job;
  job.id = rows.Text(row, 0);
  job.app = rows.Text(row, 1);
  job.command = rows.Text(row, 2);
  job.input_json = rows.Text(row, 3);
  job.status = ParseJobStatus(rows.Text(row, 4)).value_or(JobStatus::kQueued);
  job.attempts = static_cast<int>(rows.Int(row, 5));
  job.max_attempts = static_cast<int>(rows.Int(row, 6));
  job.run_after = rows.Text(row, 7);
  job.lease_owner = rows.OptionalText(row, 8);
  job.lease_expires = rows.OptionalText(row, 9);
  job.heartbeat_at = rows.OptionalText(row, 10);
  job.cancel_requested = rows.Bool(row, 11);
  job.progress_stage = rows.OptionalText(row, 12);
  if (!rows.IsNull(row, 13)) job.progress_percent = static_cast<int>(rows.Int(row, 13));
  job.result_json = rows.OptionalText(row, 14);
  job.error_message = rows.OptionalText(row, 15);
  job.error_code = rows.OptionalText(row, 16);
  job.dedupe_key = rows.OptionalText(row, 17);
  job.created = rows.Text(row, 18);
  job.updated = rows.Text(row, 19);
  job.started = rows.OptionalText(row, 20);
  job.completed = rows.OptionalText(row, 21);
  return job;
}

std::vector<Job> ReadJobs(const Rows& rows) {
  std::vector<Job> jobs;
  jobs.reserve(static_cast<size_t>(rows.size()));
  for (int row = 0; row < rows.size(); ++row) jobs.push_back(ReadJob(rows, row));
  return jobs;
}

Result<std::optional<Job>> SelectJob(Connection& db, const std::string& id, bool for_update) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(SelectJobsSql(for_update ? "WHERE id = $1 FOR UPDATE" : "WHERE id = $1"),
                                          Params().Add(id)));
  if (rows.empty()) return std::optional<Job>();
  return std::optional<Job>(ReadJob(rows, 0));
}

Status ValidateSpec(const JobSpec& spec) {
  if (spec.app.empty()) return InvalidInput("job app is empty: name the app the command belongs to");
  if (spec.command.empty()) return InvalidInput("job command is empty: name the command to run");
  if (spec.max_attempts < 1) {
    return InvalidInput("max_attempts " + std::to_string(spec.max_attempts) + " is invalid: expected 1 or more");
  }
  return Status::Ok();
}

std::string JsonArray(const std::vector<std::string>& values) { return nlohmann::json(values).dump(); }

std::vector<std::string> ParseStringArray(const std::string& text) {
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> values;
  if (!parsed.is_array()) return values;
  for (const auto& item : parsed) {
    if (item.is_string()) values.push_back(item.get<std::string>());
  }
  return values;
}

}  // namespace

Result<SubmitResult> InsertJob(Connection& db, const JobSpec& spec, SystemClock::time_point now) {
  ON_RETURN_IF_ERROR(ValidateSpec(spec));
  std::string id = NewId("command");
  if (spec.id) {
    ON_ASSIGN_OR_RETURN(id, NormalizeId("command", *spec.id, "job id"));
  }
  const std::string created = FormatTimestamp(now);
  const std::string run_after = FormatTimestamp(now + std::max(spec.delay, std::chrono::milliseconds(0)));

  // Two processes may submit the same dedupe key at once. ON CONFLICT waits for the other insert
  // to commit and then skips this one, and the SELECT, which takes a new snapshot, finds the
  // winner. The loop covers the rare case where that job finished in between.
  for (int attempt = 0; attempt < 5; ++attempt) {
    ON_ASSIGN_OR_RETURN(
        auto inserted,
        db.Query("INSERT INTO job (id, app, command, input, status, attempts, max_attempts, run_after, dedupe_key, "
                 "created, updated) VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $8, $8) "
                 "ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'running') "
                 "DO NOTHING RETURNING " +
                     std::string(kJobColumns),
                 Params()
                     .Add(id)
                     .Add(spec.app)
                     .Add(spec.command)
                     .Add(spec.input_json)
                     .Add(spec.max_attempts)
                     .Add(run_after)
                     .Add(spec.dedupe_key)
                     .Add(created)));
    if (!inserted.empty()) return SubmitResult{ReadJob(inserted, 0), true};

    ON_ASSIGN_OR_RETURN(auto existing, db.Query(SelectJobsSql("WHERE dedupe_key = $1 AND status IN ('queued', 'running')"),
                                                Params().Add(spec.dedupe_key)));
    if (!existing.empty()) return SubmitResult{ReadJob(existing, 0), false};
  }
  return Status(ErrorCode::kUnavailable, "submitting a job with dedupe key " + spec.dedupe_key.value_or("") +
                                             " kept conflicting with jobs that finished at once; retry");
}

Result<SubmitResult> PostgresJobStore::Submit(const JobSpec& spec) {
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  // Outside a transaction block each statement commits on its own. That is enough here because
  // the INSERT is InsertJob's only write.
  auto submitted = InsertJob(*db, spec, clock_());
  if (submitted.ok() && submitted->created) NotifySubmitted(submitted->job.id);
  return submitted;
}

Result<Job> PostgresJobStore::Get(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  ON_ASSIGN_OR_RETURN(auto job, SelectJob(*db, id, false));
  if (!job) return NotFound("job " + id + " was not found");
  return std::move(*job);
}

Result<std::vector<Job>> PostgresJobStore::List(const JobQuery& query) {
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  Params params;
  params.Add(query.command);
  if (query.status) {
    params.Add(JobStatusName(*query.status));
  } else {
    params.AddNull();
  }
  params.Add(std::max(0, query.limit));
  ON_ASSIGN_OR_RETURN(auto rows, db->Query(SelectJobsSql("WHERE ($1::text IS NULL OR command = $1 OR app || '.' || command = $1) "
                                                         "AND ($2::text IS NULL OR status = $2) "
                                                         "ORDER BY created DESC, id DESC LIMIT $3"),
                                           params));
  return ReadJobs(rows);
}

Result<std::optional<Job>> PostgresJobStore::Claim(const ClaimRequest& request) {
  metrics::DbTimer timer("job_claim");
  const SystemClock::time_point now = clock_();
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  // One statement, so it commits on its own. SKIP LOCKED passes over a job another claim has
  // locked but not yet committed, and that claim's commit makes the job 'running' for everyone.
  ON_ASSIGN_OR_RETURN(
      auto rows,
      db->Query("UPDATE job SET status = 'running', attempts = attempts + 1, lease_owner = $3, lease_expires = $4, "
                "heartbeat_at = $1, started = $1, updated = $1, progress_stage = NULL, progress_percent = NULL "
                "WHERE id = (SELECT id FROM job WHERE status = 'queued' AND run_after <= $1 "
                "AND app || '.' || command IN (SELECT jsonb_array_elements_text($2::jsonb)) "
                "ORDER BY created, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING " +
                    std::string(kJobColumns),
                Params()
                    .Add(FormatTimestamp(now))
                    .Add(JsonArray(request.commands))
                    .Add(request.worker_id)
                    .Add(FormatTimestamp(now + request.lease))));
  if (rows.empty()) return std::optional<Job>();
  return std::optional<Job>(ReadJob(rows, 0));
}

Result<std::vector<LeaseRenewal>> PostgresJobStore::RenewLeases(const std::string& worker_id,
                                                                std::chrono::milliseconds lease) {
  const SystemClock::time_point now = clock_();
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query("UPDATE job SET lease_expires = $2, heartbeat_at = $3 "
                                           "WHERE lease_owner = $1 AND status = 'running' "
                                           "RETURNING id, attempts, cancel_requested",
                                           Params().Add(worker_id).Add(FormatTimestamp(now + lease)).Add(FormatTimestamp(now))));
  std::vector<LeaseRenewal> renewed;
  for (int row = 0; row < rows.size(); ++row) {
    renewed.push_back(LeaseRenewal{rows.Text(row, 0), static_cast<int>(rows.Int(row, 1)), rows.Bool(row, 2)});
  }
  return renewed;
}

Result<std::vector<std::string>> PostgresJobStore::CancelRequests(const std::string& worker_id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT id FROM job WHERE lease_owner = $1 AND status = 'running' "
                                           "AND cancel_requested",
                                           Params().Add(worker_id)));
  std::vector<std::string> ids;
  for (int row = 0; row < rows.size(); ++row) ids.push_back(rows.Text(row, 0));
  return ids;
}

Result<bool> PostgresJobStore::UpdateLeased(const JobLease& lease, std::string_view sql, const Params& extra) {
  Params params;
  params.Add(lease.job_id).Add(lease.worker_id).Add(lease.attempt).Add(Now());
  for (const auto& value : extra.values()) params.Add(value);
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query(sql, params));
  return rows.affected() > 0;
}

Result<bool> PostgresJobStore::ReportProgress(const JobLease& lease, std::string_view stage, int percent) {
  static const std::string sql =
      "UPDATE job SET progress_stage = $5, progress_percent = $6, updated = $4" + std::string(kLeaseFence);
  return UpdateLeased(lease, sql, Params().Add(stage).Add(std::clamp(percent, 0, 100)));
}

Result<bool> PostgresJobStore::Complete(const JobLease& lease, std::string_view result_json) {
  static const std::string sql =
      "UPDATE job SET status = 'completed', result = $5, error_message = NULL, error_code = NULL, "
      "lease_expires = NULL, progress_percent = 100, completed = $4, updated = $4" + std::string(kLeaseFence);
  return UpdateLeased(lease, sql, Params().Add(result_json));
}

Result<bool> PostgresJobStore::Fail(const JobLease& lease, const Status& error) {
  static const std::string sql =
      "UPDATE job SET status = 'failed', error_message = $5, error_code = $6, lease_expires = NULL, "
      "completed = $4, updated = $4" + std::string(kLeaseFence);
  return UpdateLeased(lease, sql, Params().Add(error.message()).Add(ErrorCodeName(error.code())));
}

Result<bool> PostgresJobStore::Retry(const JobLease& lease, const Status& error, std::chrono::milliseconds delay) {
  // A cancel request that arrived while the attempt was ending wins over the retry.
  static const std::string sql =
      "UPDATE job SET status = CASE WHEN cancel_requested THEN 'cancelled' "
      "WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END, "
      "completed = CASE WHEN cancel_requested OR attempts >= max_attempts THEN $4 END, "
      "run_after = $5, error_message = $6, error_code = $7, lease_expires = NULL, updated = $4" +
      std::string(kLeaseFence);
  const std::string run_after = FormatTimestamp(clock_() + std::max(delay, std::chrono::milliseconds(0)));
  return UpdateLeased(lease, sql, Params().Add(run_after).Add(error.message()).Add(ErrorCodeName(error.code())));
}

Result<bool> PostgresJobStore::FinishCancelled(const JobLease& lease) {
  static const std::string sql =
      "UPDATE job SET status = 'cancelled', error_message = $5, error_code = 'Cancelled', lease_expires = NULL, "
      "completed = $4, updated = $4" + std::string(kLeaseFence);
  return UpdateLeased(lease, sql, Params().Add(kCancelledMessage));
}

Result<bool> PostgresJobStore::Release(const JobLease& lease) {
  static const std::string sql =
      "UPDATE job SET status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END, "
      "completed = CASE WHEN cancel_requested THEN $4 END, attempts = attempts - 1, run_after = $4, "
      "lease_expires = NULL, started = NULL, updated = $4" + std::string(kLeaseFence);
  return UpdateLeased(lease, sql, Params());
}

Result<CancelOutcome> PostgresJobStore::Cancel(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  CancelOutcome outcome = CancelOutcome::kAlreadyFinal;
  ON_RETURN_IF_ERROR(RunInTransaction(*db, [&]() -> Status {
    // The row lock orders this with a claim or an attempt ending at the same moment.
    ON_ASSIGN_OR_RETURN(auto job, SelectJob(*db, id, true));
    if (!job) return NotFound("job " + id + " was not found");
    if (IsFinal(job->status)) {
      outcome = CancelOutcome::kAlreadyFinal;
      return Status::Ok();
    }

    const bool queued = job->status == JobStatus::kQueued;
    if (queued) {
      ON_RETURN_IF_ERROR(db->Query("UPDATE job SET status = 'cancelled', cancel_requested = true, error_message = $3, "
                                   "error_code = 'Cancelled', completed = $2, updated = $2 WHERE id = $1",
                                   Params().Add(id).Add(Now()).Add(kCancelledMessage))
                             .status());
    } else {
      ON_RETURN_IF_ERROR(
          db->Query("UPDATE job SET cancel_requested = true, updated = $2 WHERE id = $1", Params().Add(id).Add(Now()))
              .status());
    }
    outcome = queued ? CancelOutcome::kCancelled : CancelOutcome::kRequested;
    return Status::Ok();
  }));
  if (outcome == CancelOutcome::kRequested) Notify(JobEvent{JobEvent::Kind::kCancelRequested, id});
  return outcome;
}

Result<int> PostgresJobStore::RequeueExpired() {
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  ON_ASSIGN_OR_RETURN(
      auto rows,
      db->Query("UPDATE job SET "
                "status = CASE WHEN cancel_requested THEN 'cancelled' WHEN attempts < max_attempts THEN 'queued' "
                "ELSE 'failed' END, "
                "completed = CASE WHEN cancel_requested OR attempts >= max_attempts THEN $1 END, "
                "error_code = CASE WHEN cancel_requested THEN 'Cancelled' ELSE 'Unavailable' END, "
                "error_message = CASE WHEN cancel_requested THEN $2 ELSE "
                "'worker ' || coalesce(lease_owner, '?') || ' stopped renewing its lease during attempt ' || attempts || "
                "' of ' || max_attempts || ' (it crashed, was killed or lost the database)' || "
                "CASE WHEN attempts < max_attempts THEN '; the job was queued again' "
                "ELSE '; no attempts are left, so the job failed. The worker log has the cause under this job id' END END, "
                "run_after = $1, lease_expires = NULL, updated = $1 "
                "WHERE status = 'running' AND lease_expires < $1 "
                "RETURNING id, coalesce(lease_owner, ''), status, attempts, max_attempts",
                Params().Add(Now()).Add(kCancelledMessage)));
  for (int row = 0; row < rows.size(); ++row) {
    spdlog::warn("job {}: the lease of worker {} expired during attempt {} of {}; the job is now {}", rows.Text(row, 0),
                 rows.Text(row, 1), rows.Int(row, 3), rows.Int(row, 4), rows.Text(row, 2));
  }
  return rows.size();
}

// The latest job of each source is kept: the source's status and failure reason are read from it.
Result<int> PostgresJobStore::PurgeFinished(std::chrono::seconds age, int max_rows) {
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  ON_ASSIGN_OR_RETURN(
      auto rows,
      db->Query("DELETE FROM job WHERE id IN (SELECT id FROM job WHERE status IN ('completed', 'failed', 'cancelled') "
                "AND completed < $1 AND NOT EXISTS (SELECT 1 FROM source s WHERE s.command_id = job.id) LIMIT $2)",
                Params().Add(FormatTimestamp(clock_() - age)).Add(std::max(0, max_rows))));
  return static_cast<int>(rows.affected());
}

Status PostgresJobStore::SaveWorker(const WorkerInfo& worker) {
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  return db
      ->Query("INSERT INTO job_worker (id, host, pid, commands, max_tasks, running, lease_ms, started, heartbeat_at) "
              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (id) DO UPDATE SET host = excluded.host, "
              "pid = excluded.pid, commands = excluded.commands, max_tasks = excluded.max_tasks, "
              "running = excluded.running, lease_ms = excluded.lease_ms, heartbeat_at = excluded.heartbeat_at",
              Params()
                  .Add(worker.id)
                  .Add(worker.host)
                  .Add(worker.pid)
                  .Add(JsonArray(worker.commands))
                  .Add(worker.max_tasks)
                  .Add(worker.running)
                  .Add(static_cast<int64_t>(worker.lease.count()))
                  .Add(Now()))
      .status();
}

Status PostgresJobStore::RemoveWorker(const std::string& worker_id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  return db->Query("DELETE FROM job_worker WHERE id = $1", Params().Add(worker_id)).status();
}

Result<int> PostgresJobStore::PruneWorkers(std::chrono::seconds silent_for) {
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query("DELETE FROM job_worker WHERE heartbeat_at < $1",
                                           Params().Add(FormatTimestamp(clock_() - silent_for))));
  return static_cast<int>(rows.affected());
}

Result<std::vector<WorkerInfo>> PostgresJobStore::ListWorkers() {
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT id, host, pid, commands, max_tasks, running, lease_ms, started, "
                                           "heartbeat_at FROM job_worker ORDER BY heartbeat_at DESC, id"));
  std::vector<WorkerInfo> workers;
  for (int row = 0; row < rows.size(); ++row) {
    WorkerInfo worker;
    worker.id = rows.Text(row, 0);
    worker.host = rows.Text(row, 1);
    worker.pid = rows.Int(row, 2);
    worker.commands = ParseStringArray(rows.Text(row, 3));
    worker.max_tasks = static_cast<int>(rows.Int(row, 4));
    worker.running = static_cast<int>(rows.Int(row, 5));
    worker.lease = std::chrono::milliseconds(rows.Int(row, 6));
    worker.started = rows.Text(row, 7);
    worker.heartbeat_at = rows.Text(row, 8);
    workers.push_back(std::move(worker));
  }
  return workers;
}

Result<QueueStats> PostgresJobStore::GetQueueStats() {
  ON_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
  QueueStats stats;
  ON_ASSIGN_OR_RETURN(auto counts, db->Query("SELECT status, count(*) FROM job GROUP BY status"));
  for (int row = 0; row < counts.size(); ++row) {
    const auto status = ParseJobStatus(counts.Text(row, 0));
    const int64_t count = counts.Int(row, 1);
    if (!status) continue;
    switch (*status) {
      case JobStatus::kQueued: stats.queued = count; break;
      case JobStatus::kRunning: stats.running = count; break;
      case JobStatus::kCompleted: stats.completed = count; break;
      case JobStatus::kFailed: stats.failed = count; break;
      case JobStatus::kCancelled: stats.cancelled = count; break;
    }
  }

  ON_ASSIGN_OR_RETURN(auto oldest, db->Query("SELECT min(created) FROM job WHERE status = 'queued'"));
  if (!oldest.empty()) stats.oldest_queued_created = oldest.OptionalText(0, 0);
  return stats;
}

int PostgresJobStore::AddListener(std::function<void(const JobEvent&)> listener) {
  std::lock_guard lock(listeners_mutex_);
  const int handle = next_listener_++;
  listeners_.emplace(handle, std::move(listener));
  return handle;
}

void PostgresJobStore::RemoveListener(int handle) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.erase(handle);
}

void PostgresJobStore::NotifySubmitted(const std::string& job_id) { Notify(JobEvent{JobEvent::Kind::kSubmitted, job_id}); }

void PostgresJobStore::NotifyCancelRequested(const std::string& job_id) {
  Notify(JobEvent{JobEvent::Kind::kCancelRequested, job_id});
}

void PostgresJobStore::Notify(const JobEvent& event) {
  std::lock_guard lock(listeners_mutex_);
  for (const auto& [handle, listener] : listeners_) listener(event);
}

}  // namespace on::storage::postgres
