#include "storage/sqlite/sqlite_jobs.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "core/metrics.h"

namespace on::storage {

std::string_view JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kQueued: return "queued";
    case JobStatus::kRunning: return "running";
    case JobStatus::kCompleted: return "completed";
    case JobStatus::kFailed: return "failed";
    case JobStatus::kCancelled: return "cancelled";
  }
  return "queued";
}

std::optional<JobStatus> ParseJobStatus(std::string_view name) {
  for (JobStatus status : {JobStatus::kQueued, JobStatus::kRunning, JobStatus::kCompleted, JobStatus::kFailed,
                           JobStatus::kCancelled}) {
    if (JobStatusName(status) == name) return status;
  }
  return std::nullopt;
}

bool IsFinal(JobStatus status) {
  return status == JobStatus::kCompleted || status == JobStatus::kFailed || status == JobStatus::kCancelled;
}

}  // namespace on::storage

namespace on::storage::sqlite {
namespace {

constexpr std::string_view kJobColumns =
    "id, app, command, input, status, attempts, max_attempts, run_after, lease_owner, lease_expires, "
    "heartbeat_at, cancel_requested, progress_stage, progress_percent, result, error_message, error_code, "
    "dedupe_key, created, updated, started, completed";

// A lease is still held when the row is running under the same worker and attempt.
constexpr std::string_view kLeaseFence = " WHERE id = ?1 AND lease_owner = ?2 AND attempts = ?3 AND status = 'running'";

constexpr std::string_view kCancelledMessage = "the job was cancelled on request";

std::string SelectJobsSql(std::string_view where) {
  return "SELECT " + std::string(kJobColumns) + " FROM job " + std::string(where);
}

Job ReadJob(const Statement& row) {
  Job job;
  job.id = row.Text(0);
  job.app = row.Text(1);
  job.command = row.Text(2);
  job.input_json = row.Text(3);
  job.status = ParseJobStatus(row.Text(4)).value_or(JobStatus::kQueued);
  job.attempts = static_cast<int>(row.Int(5));
  job.max_attempts = static_cast<int>(row.Int(6));
  job.run_after = row.Text(7);
  job.lease_owner = row.OptionalText(8);
  job.lease_expires = row.OptionalText(9);
  job.heartbeat_at = row.OptionalText(10);
  job.cancel_requested = row.Int(11) != 0;
  job.progress_stage = row.OptionalText(12);
  if (row.OptionalText(13)) job.progress_percent = static_cast<int>(row.Int(13));
  job.result_json = row.OptionalText(14);
  job.error_message = row.OptionalText(15);
  job.error_code = row.OptionalText(16);
  job.dedupe_key = row.OptionalText(17);
  job.created = row.Text(18);
  job.updated = row.Text(19);
  job.started = row.OptionalText(20);
  job.completed = row.OptionalText(21);
  return job;
}

Result<std::vector<Job>> ReadJobs(Statement& statement) {
  std::vector<Job> jobs;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) return jobs;
    jobs.push_back(ReadJob(statement));
  }
}

Result<std::optional<Job>> SelectJob(Connection& db, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto select, db.Prepare(SelectJobsSql("WHERE id = ?1")));
  select.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::optional<Job>();
  return std::optional<Job>(ReadJob(select));
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

  // The partial unique index on dedupe_key backs this check up: the insert below fails rather
  // than create a second active job, even if this select were ever run outside a write lock.
  if (spec.dedupe_key) {
    ON_ASSIGN_OR_RETURN(auto existing, db.Prepare(SelectJobsSql(
        "WHERE dedupe_key = ?1 AND status IN ('queued', 'running')")));
    existing.Bind(1, *spec.dedupe_key);
    ON_ASSIGN_OR_RETURN(bool found, existing.Step());
    if (found) return SubmitResult{ReadJob(existing), false};
  }

  const std::string created = FormatTimestamp(now);
  const std::string run_after = FormatTimestamp(now + std::max(spec.delay, std::chrono::milliseconds(0)));
  ON_ASSIGN_OR_RETURN(auto insert, db.Prepare(
      "INSERT INTO job (id, app, command, input, status, attempts, max_attempts, run_after, dedupe_key, created, updated) "
      "VALUES (?1, ?2, ?3, ?4, 'queued', 0, ?5, ?6, ?7, ?8, ?8)"));
  insert.Bind(1, id).Bind(2, spec.app).Bind(3, spec.command).Bind(4, spec.input_json);
  insert.Bind(5, static_cast<int64_t>(spec.max_attempts)).Bind(6, run_after).BindOptional(7, spec.dedupe_key);
  insert.Bind(8, created);
  ON_RETURN_IF_ERROR(insert.Run());

  ON_ASSIGN_OR_RETURN(auto job, SelectJob(db, id));
  if (!job) return DatabaseError("job " + id + " was not found right after its insert");
  return SubmitResult{std::move(*job), true};
}

SqliteJobStore::SqliteJobStore(Database& database, JobClock clock) : database_(database), clock_(std::move(clock)) {}

Result<SubmitResult> SqliteJobStore::Submit(const JobSpec& spec) {
  auto submitted = database_.writer().Run<SubmitResult>(
      [&](Connection& db) -> Result<SubmitResult> { return InsertJob(db, spec, clock_()); });
  if (submitted.ok() && submitted->created) NotifySubmitted(submitted->job.id);
  return submitted;
}

Result<Job> SqliteJobStore::Get(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto reader, database_.Reader());
  ON_ASSIGN_OR_RETURN(auto job, SelectJob(*reader, id));
  if (!job) return NotFound("job " + id + " was not found");
  return std::move(*job);
}

Result<std::vector<Job>> SqliteJobStore::List(const JobQuery& query) {
  ON_ASSIGN_OR_RETURN(auto reader, database_.Reader());
  ON_ASSIGN_OR_RETURN(auto select, reader->Prepare(SelectJobsSql(
      "WHERE (?1 IS NULL OR command = ?1 OR app || '.' || command = ?1) AND (?2 IS NULL OR status = ?2) "
      "ORDER BY created DESC, id DESC LIMIT ?3")));
  select.BindOptional(1, query.command);
  if (query.status) {
    select.Bind(2, JobStatusName(*query.status));
  } else {
    select.BindNull(2);
  }
  select.Bind(3, static_cast<int64_t>(std::max(0, query.limit)));
  return ReadJobs(select);
}

Result<std::optional<Job>> SqliteJobStore::Claim(const ClaimRequest& request) {
  metrics::DbTimer timer("job_claim");
  const std::string commands = JsonArray(request.commands);
  constexpr std::string_view kDueFilter =
      "status = 'queued' AND run_after <= ?1 AND app || '.' || command IN (SELECT value FROM json_each(?2))";

  // An idle worker polls often. Looking with a reader first keeps those polls from taking the
  // write lock (a lock another process's writes would have to wait for).
  {
    ON_ASSIGN_OR_RETURN(auto reader, database_.Reader());
    ON_ASSIGN_OR_RETURN(auto due, reader->Prepare("SELECT 1 FROM job WHERE " + std::string(kDueFilter) + " LIMIT 1"));
    due.Bind(1, Now()).Bind(2, commands);
    ON_ASSIGN_OR_RETURN(bool any, due.Step());
    if (!any) return std::optional<Job>();
  }

  return database_.writer().Run<std::optional<Job>>([&](Connection& db) -> Result<std::optional<Job>> {
    const SystemClock::time_point now = clock_();
    ON_ASSIGN_OR_RETURN(auto claim, db.Prepare(
        "UPDATE job SET status = 'running', attempts = attempts + 1, lease_owner = ?3, lease_expires = ?4, "
        "heartbeat_at = ?1, started = ?1, updated = ?1, progress_stage = NULL, progress_percent = NULL "
        "WHERE id = (SELECT id FROM job WHERE " + std::string(kDueFilter) + " ORDER BY created, id LIMIT 1) "
        "RETURNING " + std::string(kJobColumns)));
    claim.Bind(1, FormatTimestamp(now)).Bind(2, commands).Bind(3, request.worker_id);
    claim.Bind(4, FormatTimestamp(now + request.lease));
    ON_ASSIGN_OR_RETURN(bool row, claim.Step());
    if (!row) return std::optional<Job>();
    return std::optional<Job>(ReadJob(claim));
  });
}

Result<std::vector<LeaseRenewal>> SqliteJobStore::RenewLeases(const std::string& worker_id,
                                                              std::chrono::milliseconds lease) {
  return database_.writer().Run<std::vector<LeaseRenewal>>([&](Connection& db) -> Result<std::vector<LeaseRenewal>> {
    const SystemClock::time_point now = clock_();
    ON_ASSIGN_OR_RETURN(auto renew, db.Prepare(
        "UPDATE job SET lease_expires = ?2, heartbeat_at = ?3 WHERE lease_owner = ?1 AND status = 'running' "
        "RETURNING id, attempts, cancel_requested"));
    renew.Bind(1, worker_id).Bind(2, FormatTimestamp(now + lease)).Bind(3, FormatTimestamp(now));
    std::vector<LeaseRenewal> renewed;
    for (;;) {
      ON_ASSIGN_OR_RETURN(bool row, renew.Step());
      if (!row) return renewed;
      renewed.push_back(LeaseRenewal{renew.Text(0), static_cast<int>(renew.Int(1)), renew.Int(2) != 0});
    }
  });
}

Result<std::vector<std::string>> SqliteJobStore::CancelRequests(const std::string& worker_id) {
  ON_ASSIGN_OR_RETURN(auto reader, database_.Reader());
  ON_ASSIGN_OR_RETURN(auto select, reader->Prepare(
      "SELECT id FROM job WHERE lease_owner = ?1 AND status = 'running' AND cancel_requested = 1"));
  select.Bind(1, worker_id);
  std::vector<std::string> ids;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return ids;
    ids.push_back(select.Text(0));
  }
}

Result<bool> SqliteJobStore::UpdateLeased(const JobLease& lease, std::string_view sql,
                                          std::function<void(Statement&)> bind) {
  return database_.writer().Run<bool>([&](Connection& db) -> Result<bool> {
    ON_ASSIGN_OR_RETURN(auto update, db.Prepare(sql));
    update.Bind(1, lease.job_id).Bind(2, lease.worker_id).Bind(3, static_cast<int64_t>(lease.attempt));
    update.Bind(4, Now());
    bind(update);
    ON_RETURN_IF_ERROR(update.Run());
    return db.Changes() > 0;
  });
}

Result<bool> SqliteJobStore::ReportProgress(const JobLease& lease, std::string_view stage, int percent) {
  static const std::string sql =
      "UPDATE job SET progress_stage = ?5, progress_percent = ?6, updated = ?4" + std::string(kLeaseFence);
  const int64_t clamped = std::clamp(percent, 0, 100);
  return UpdateLeased(lease, sql, [&](Statement& update) { update.Bind(5, stage).Bind(6, clamped); });
}

Result<bool> SqliteJobStore::Complete(const JobLease& lease, std::string_view result_json) {
  static const std::string sql =
      "UPDATE job SET status = 'completed', result = ?5, error_message = NULL, error_code = NULL, "
      "lease_expires = NULL, progress_percent = 100, completed = ?4, updated = ?4" + std::string(kLeaseFence);
  return UpdateLeased(lease, sql, [&](Statement& update) { update.Bind(5, result_json); });
}

Result<bool> SqliteJobStore::Fail(const JobLease& lease, const Status& error) {
  static const std::string sql =
      "UPDATE job SET status = 'failed', error_message = ?5, error_code = ?6, lease_expires = NULL, "
      "completed = ?4, updated = ?4" + std::string(kLeaseFence);
  return UpdateLeased(lease, sql, [&](Statement& update) {
    update.Bind(5, error.message()).Bind(6, ErrorCodeName(error.code()));
  });
}

Result<bool> SqliteJobStore::Retry(const JobLease& lease, const Status& error, std::chrono::milliseconds delay) {
  // A cancel request that arrived while the attempt was ending wins over the retry.
  static const std::string sql =
      "UPDATE job SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' "
      "WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END, "
      "completed = CASE WHEN cancel_requested = 1 OR attempts >= max_attempts THEN ?4 END, "
      "run_after = ?5, error_message = ?6, error_code = ?7, lease_expires = NULL, updated = ?4" +
      std::string(kLeaseFence);
  const std::string run_after = FormatTimestamp(clock_() + std::max(delay, std::chrono::milliseconds(0)));
  return UpdateLeased(lease, sql, [&](Statement& update) {
    update.Bind(5, run_after).Bind(6, error.message()).Bind(7, ErrorCodeName(error.code()));
  });
}

Result<bool> SqliteJobStore::FinishCancelled(const JobLease& lease) {
  static const std::string sql =
      "UPDATE job SET status = 'cancelled', error_message = ?5, error_code = 'Cancelled', lease_expires = NULL, "
      "completed = ?4, updated = ?4" + std::string(kLeaseFence);
  return UpdateLeased(lease, sql, [&](Statement& update) { update.Bind(5, kCancelledMessage); });
}

Result<bool> SqliteJobStore::Release(const JobLease& lease) {
  static const std::string sql =
      "UPDATE job SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END, "
      "completed = CASE WHEN cancel_requested = 1 THEN ?4 END, attempts = attempts - 1, run_after = ?4, "
      "lease_expires = NULL, started = NULL, updated = ?4" + std::string(kLeaseFence);
  return UpdateLeased(lease, sql, [](Statement&) {});
}

Result<CancelOutcome> SqliteJobStore::Cancel(const std::string& id) {
  auto outcome = database_.writer().Run<CancelOutcome>([&](Connection& db) -> Result<CancelOutcome> {
    ON_ASSIGN_OR_RETURN(auto job, SelectJob(db, id));
    if (!job) return NotFound("job " + id + " was not found");
    if (IsFinal(job->status)) return CancelOutcome::kAlreadyFinal;

    const std::string now = Now();
    const bool queued = job->status == JobStatus::kQueued;
    ON_ASSIGN_OR_RETURN(auto update, db.Prepare(queued
        ? "UPDATE job SET status = 'cancelled', cancel_requested = 1, error_message = ?3, error_code = 'Cancelled', "
          "completed = ?2, updated = ?2 WHERE id = ?1"
        : "UPDATE job SET cancel_requested = 1, updated = ?2 WHERE id = ?1"));
    update.Bind(1, id).Bind(2, now);
    if (queued) update.Bind(3, kCancelledMessage);
    ON_RETURN_IF_ERROR(update.Run());
    return queued ? CancelOutcome::kCancelled : CancelOutcome::kRequested;
  });
  if (outcome.ok() && *outcome == CancelOutcome::kRequested) Notify(JobEvent{JobEvent::Kind::kCancelRequested, id});
  return outcome;
}

Result<int> SqliteJobStore::RequeueExpired() {
  struct Expired {
    std::string id;
    std::string owner;
    std::string status;
    int attempts;
    int max_attempts;
  };
  auto expired = database_.writer().Run<std::vector<Expired>>([&](Connection& db) -> Result<std::vector<Expired>> {
    ON_ASSIGN_OR_RETURN(auto update, db.Prepare(
        "UPDATE job SET "
        "status = CASE WHEN cancel_requested = 1 THEN 'cancelled' WHEN attempts < max_attempts THEN 'queued' "
        "ELSE 'failed' END, "
        "completed = CASE WHEN cancel_requested = 1 OR attempts >= max_attempts THEN ?1 END, "
        "error_code = CASE WHEN cancel_requested = 1 THEN 'Cancelled' ELSE 'Unavailable' END, "
        "error_message = CASE WHEN cancel_requested = 1 THEN ?2 ELSE "
        "'worker ' || coalesce(lease_owner, '?') || ' stopped renewing its lease during attempt ' || attempts || "
        "' of ' || max_attempts || ' (it crashed, was killed or lost the database)' || "
        "CASE WHEN attempts < max_attempts THEN '; the job was queued again' "
        "ELSE '; no attempts are left, so the job failed. The worker log has the cause under this job id' END END, "
        "run_after = ?1, lease_expires = NULL, updated = ?1 "
        "WHERE status = 'running' AND lease_expires < ?1 "
        "RETURNING id, coalesce(lease_owner, ''), status, attempts, max_attempts"));
    update.Bind(1, Now()).Bind(2, kCancelledMessage);
    std::vector<Expired> rows;
    for (;;) {
      ON_ASSIGN_OR_RETURN(bool row, update.Step());
      if (!row) return rows;
      rows.push_back(Expired{update.Text(0), update.Text(1), update.Text(2), static_cast<int>(update.Int(3)),
                             static_cast<int>(update.Int(4))});
    }
  });
  if (!expired.ok()) return expired.status();

  for (const auto& job : *expired) {
    spdlog::warn("job {}: the lease of worker {} expired during attempt {} of {}; the job is now {}", job.id,
                 job.owner, job.attempts, job.max_attempts, job.status);
  }
  return static_cast<int>(expired->size());
}

// The latest job of each source is kept: the source's status and failure reason are read from it.
Result<int> SqliteJobStore::PurgeFinished(std::chrono::seconds age, int max_rows) {
  return database_.writer().Run<int>([&](Connection& db) -> Result<int> {
    ON_ASSIGN_OR_RETURN(auto remove, db.Prepare(
        "DELETE FROM job WHERE id IN (SELECT id FROM job WHERE status IN ('completed', 'failed', 'cancelled') "
        "AND completed < ?1 AND NOT EXISTS (SELECT 1 FROM source s WHERE s.command_id = job.id) LIMIT ?2)"));
    remove.Bind(1, FormatTimestamp(clock_() - age)).Bind(2, static_cast<int64_t>(std::max(0, max_rows)));
    ON_RETURN_IF_ERROR(remove.Run());
    return static_cast<int>(db.Changes());
  });
}

Status SqliteJobStore::SaveWorker(const WorkerInfo& worker) {
  return database_.writer().Run<bool>([&](Connection& db) -> Result<bool> {
    ON_ASSIGN_OR_RETURN(auto upsert, db.Prepare(
        "INSERT INTO job_worker (id, host, pid, commands, max_tasks, running, lease_ms, started, heartbeat_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) ON CONFLICT (id) DO UPDATE SET host = excluded.host, "
        "pid = excluded.pid, commands = excluded.commands, max_tasks = excluded.max_tasks, "
        "running = excluded.running, lease_ms = excluded.lease_ms, heartbeat_at = excluded.heartbeat_at"));
    upsert.Bind(1, worker.id).Bind(2, worker.host).Bind(3, worker.pid).Bind(4, JsonArray(worker.commands));
    upsert.Bind(5, static_cast<int64_t>(worker.max_tasks)).Bind(6, static_cast<int64_t>(worker.running));
    upsert.Bind(7, static_cast<int64_t>(worker.lease.count())).Bind(8, Now());
    ON_RETURN_IF_ERROR(upsert.Run());
    return true;
  }).status();
}

Status SqliteJobStore::RemoveWorker(const std::string& worker_id) {
  return database_.writer().Run<bool>([&](Connection& db) -> Result<bool> {
    ON_ASSIGN_OR_RETURN(auto remove, db.Prepare("DELETE FROM job_worker WHERE id = ?1"));
    remove.Bind(1, worker_id);
    ON_RETURN_IF_ERROR(remove.Run());
    return true;
  }).status();
}

Result<int> SqliteJobStore::PruneWorkers(std::chrono::seconds silent_for) {
  return database_.writer().Run<int>([&](Connection& db) -> Result<int> {
    ON_ASSIGN_OR_RETURN(auto remove, db.Prepare("DELETE FROM job_worker WHERE heartbeat_at < ?1"));
    remove.Bind(1, FormatTimestamp(clock_() - silent_for));
    ON_RETURN_IF_ERROR(remove.Run());
    return static_cast<int>(db.Changes());
  });
}

Result<std::vector<WorkerInfo>> SqliteJobStore::ListWorkers() {
  ON_ASSIGN_OR_RETURN(auto reader, database_.Reader());
  ON_ASSIGN_OR_RETURN(auto select, reader->Prepare(
      "SELECT id, host, pid, commands, max_tasks, running, lease_ms, started, heartbeat_at FROM job_worker "
      "ORDER BY heartbeat_at DESC, id"));
  std::vector<WorkerInfo> workers;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return workers;
    WorkerInfo worker;
    worker.id = select.Text(0);
    worker.host = select.Text(1);
    worker.pid = select.Int(2);
    worker.commands = ParseStringArray(select.Text(3));
    worker.max_tasks = static_cast<int>(select.Int(4));
    worker.running = static_cast<int>(select.Int(5));
    worker.lease = std::chrono::milliseconds(select.Int(6));
    worker.started = select.Text(7);
    worker.heartbeat_at = select.Text(8);
    workers.push_back(std::move(worker));
  }
}

Result<QueueStats> SqliteJobStore::GetQueueStats() {
  ON_ASSIGN_OR_RETURN(auto reader, database_.Reader());
  QueueStats stats;
  ON_ASSIGN_OR_RETURN(auto counts, reader->Prepare("SELECT status, count(*) FROM job GROUP BY status"));
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, counts.Step());
    if (!row) break;
    const auto status = ParseJobStatus(counts.Text(0));
    const int64_t count = counts.Int(1);
    if (!status) continue;
    switch (*status) {
      case JobStatus::kQueued: stats.queued = count; break;
      case JobStatus::kRunning: stats.running = count; break;
      case JobStatus::kCompleted: stats.completed = count; break;
      case JobStatus::kFailed: stats.failed = count; break;
      case JobStatus::kCancelled: stats.cancelled = count; break;
    }
  }

  ON_ASSIGN_OR_RETURN(auto oldest, reader->Prepare("SELECT min(created) FROM job WHERE status = 'queued'"));
  ON_ASSIGN_OR_RETURN(bool row, oldest.Step());
  if (row) stats.oldest_queued_created = oldest.OptionalText(0);
  return stats;
}

int SqliteJobStore::AddListener(std::function<void(const JobEvent&)> listener) {
  std::lock_guard lock(listeners_mutex_);
  const int handle = next_listener_++;
  listeners_.emplace(handle, std::move(listener));
  return handle;
}

void SqliteJobStore::RemoveListener(int handle) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.erase(handle);
}

void SqliteJobStore::NotifySubmitted(const std::string& job_id) {
  Notify(JobEvent{JobEvent::Kind::kSubmitted, job_id});
}

void SqliteJobStore::Notify(const JobEvent& event) {
  std::lock_guard lock(listeners_mutex_);
  for (const auto& [handle, listener] : listeners_) listener(event);
}

}  // namespace on::storage::sqlite
