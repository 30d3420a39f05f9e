#include "jobs/worker.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <set>

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "core/logging.h"
#include "core/metrics.h"

namespace on::jobs {

using SteadyClock = std::chrono::steady_clock;

namespace {

// How long a handler may go on after the last successful lease renewal. Other workers may take
// the job once the whole lease has passed, so the handler is asked to stop a third of a lease
// earlier: after two failed renewals in a row.
std::chrono::milliseconds LocalLeaseLimit(std::chrono::milliseconds lease) { return lease * 2 / 3; }

}  // namespace

// One claimed attempt, shared by the runner thread (which calls the handler through the
// JobContext methods) and the maintenance thread (which writes progress and sets stop flags).
struct Worker::RunningJob final : public JobContext {
  RunningJob(storage::Job claimed, const std::string& worker_id, std::chrono::milliseconds lease)
      : job(std::move(claimed)),
        lease{job.id, worker_id, job.attempts},
        claimed_at(SteadyClock::now()),
        lease_valid_until(claimed_at + LocalLeaseLimit(lease)) {}

  const std::string& job_id() const override { return job.id; }
  const nlohmann::json& input() const override { return input_value; }
  int attempt() const override { return job.attempts; }
  int max_attempts() const override { return job.max_attempts; }

  void Progress(std::string_view stage, int percent) override {
    std::lock_guard lock(mutex);
    pending_progress = std::make_pair(std::string(stage.substr(0, 200)), std::clamp(percent, 0, 100));
  }

  bool CancelRequested() const override { return cancel_requested || shutdown || lease_lost; }

  bool SleepFor(std::chrono::milliseconds duration) override {
    std::unique_lock lock(mutex);
    wake.wait_for(lock, duration, [this] { return CancelRequested(); });
    return !CancelRequested();
  }

  // Sets one of the stop flags and wakes a handler blocked in SleepFor.
  void Interrupt(std::atomic<bool>& flag) {
    flag = true;
    std::lock_guard lock(mutex);
    wake.notify_all();
  }

  std::optional<std::pair<std::string, int>> TakeProgress() {
    std::lock_guard lock(mutex);
    auto progress = std::move(pending_progress);
    pending_progress.reset();
    return progress;
  }

  const storage::Job job;
  const storage::JobLease lease;
  const SteadyClock::time_point claimed_at;
  nlohmann::json input_value;  // set by the runner before the handler starts

  std::atomic<bool> cancel_requested{false};  // a cancel request reached this worker
  std::atomic<bool> shutdown{false};          // the worker is stopping and wants the job back
  std::atomic<bool> lease_lost{false};        // the lease could not be renewed in time
  std::atomic<bool> finishing{false};         // the handler returned; the outcome is being written
  std::atomic<SteadyClock::time_point> lease_valid_until;

  mutable std::mutex mutex;
  std::condition_variable wake;
  std::optional<std::pair<std::string, int>> pending_progress;  // guarded by mutex
};

namespace {

// Logs the first failure of a repeating kind at once and then at most once a minute with a count,
// so a database outage does not flood the log. Used from one thread.
class RepeatedLog {
 public:
  void Failure(std::string_view operation, const Status& error) {
    ++failures_;
    const auto now = SteadyClock::now();
    if (failures_ > 1 && now - last_logged_ < std::chrono::minutes(1)) return;
    spdlog::warn("{} failed ({} times in a row): {}", operation, failures_, error.ToString());
    last_logged_ = now;
  }

  void Success(std::string_view operation) {
    if (failures_ > 0) spdlog::info("{} works again after {} failures", operation, failures_);
    failures_ = 0;
  }

 private:
  int failures_ = 0;
  SteadyClock::time_point last_logged_;
};

std::string HostName() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof(buffer) - 1) != 0) return "unknown";
  return buffer;
}

std::string Join(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined.empty() ? "none" : joined;
}

// Calls a store write again after a transient failure (another process holding the write lock
// past the busy timeout), so a finished job's outcome is not lost to a short lock wait.
Result<bool> WithRetries(const std::function<Result<bool>()>& write) {
  auto delay = std::chrono::milliseconds(100);
  for (int attempt = 1;; ++attempt) {
    Result<bool> written = write();
    if (written.ok() || !IsTransient(written.status()) || attempt == 5) return written;
    std::this_thread::sleep_for(delay);
    delay *= 2;
  }
}

// Key of running_: one job may have two attempts here for a moment (see DispatchLoop).
std::string RunningKey(const storage::JobLease& lease) { return lease.job_id + "#" + std::to_string(lease.attempt); }

int64_t MillisecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
}

}  // namespace

WorkerOptions WorkerOptionsFromSettings(const Settings& settings) {
  WorkerOptions options;
  options.max_tasks = static_cast<int>(settings.worker_max_tasks);
  options.lease = std::chrono::seconds(settings.job_lease_s);
  options.poll_interval = std::chrono::milliseconds(settings.worker_poll_ms);
  options.stop_timeout = std::chrono::seconds(settings.worker_stop_timeout_s);
  options.job_retention = std::chrono::hours(24 * settings.job_retention_days);
  return options;
}

Worker::Worker(storage::JobStore& store, const CommandRegistry& registry, WorkerOptions options)
    : store_(store), registry_(registry), options_(std::move(options)) {
  if (options_.worker_id.empty()) options_.worker_id = NewId("worker");
  options_.max_tasks = std::max(1, options_.max_tasks);
  options_.lease = std::max(options_.lease, std::chrono::milliseconds(30));
  commands_ = registry_.FullNames();
  host_ = HostName();
}

Worker::~Worker() {
  Stop();
  for (auto& runner : runners_) {
    if (runner.joinable()) runner.join();
  }
}

Status Worker::Start() {
  {
    std::lock_guard lock(mutex_);
    if (started_) return InternalError("worker " + id() + " was started twice");
    started_ = true;
    max_tasks_ = options_.max_tasks;
    free_slots_ = options_.max_tasks;
  }

  storage::WorkerInfo info{id(), host_, static_cast<int64_t>(getpid()), commands_, options_.max_tasks, 0,
                           options_.lease, "", ""};
  Status saved = store_.SaveWorker(info);
  if (!saved.ok()) {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    stopping_ = true;
    return saved;
  }

  listener_ = store_.AddListener([this](const storage::JobEvent& event) { OnStoreEvent(event); });
  {
    std::lock_guard lock(mutex_);  // SetMaxTasks may add runners from another thread
    for (int i = static_cast<int>(runners_.size()); i < max_tasks_; ++i) runners_.emplace_back([this] { RunnerLoop(); });
  }
  maintenance_ = std::thread([this] { MaintenanceLoop(); });
  dispatcher_ = std::thread([this] { DispatchLoop(); });

  spdlog::info("worker {} started on {} (pid {}): up to {} jobs at a time, lease {} ms, commands: {}", id(), host_,
               getpid(), options_.max_tasks, options_.lease.count(), Join(commands_));
  if (commands_.empty()) spdlog::warn("worker {} has no commands registered, so it will not run any job", id());
  return Status::Ok();
}

void Worker::SetMaxTasks(int max_tasks) {
  max_tasks = std::max(1, max_tasks);
  {
    std::lock_guard lock(mutex_);
    if (!started_ || stopping_ || max_tasks == max_tasks_) return;
    // Slots may go negative: running jobs finish, and no new job starts until a slot is free.
    free_slots_ += max_tasks - max_tasks_;
    max_tasks_ = max_tasks;
    // Runner threads are never removed; surplus ones wait for hand-offs that the slots prevent.
    while (static_cast<int>(runners_.size()) < max_tasks) runners_.emplace_back([this] { RunnerLoop(); });
  }
  spdlog::info("worker {} now runs up to {} jobs at a time", id(), max_tasks);
  dispatcher_wake_.notify_one();
  // Published at once, so /api/config and `open-notebook status` show the new limit.
  SaveHeartbeat();
}

int Worker::max_tasks() const {
  std::lock_guard lock(mutex_);
  return max_tasks_;
}

int Worker::running() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(running_.size());
}

void Worker::OnStoreEvent(const storage::JobEvent& event) {
  if (event.kind == storage::JobEvent::Kind::kSubmitted) {
    {
      std::lock_guard lock(mutex_);
      submitted_ = true;
    }
    dispatcher_wake_.notify_one();
    return;
  }

  std::vector<std::shared_ptr<RunningJob>> attempts;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, running] : running_) {
      if (running->job.id == event.job_id) attempts.push_back(running);
    }
  }
  for (const auto& running : attempts) running->Interrupt(running->cancel_requested);
}

void Worker::DispatchLoop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      dispatcher_wake_.wait_for(lock, options_.poll_interval,
                                [this] { return stopping_ || (submitted_ && free_slots_ > 0); });
      if (stopping_) return;
      submitted_ = false;
    }
    try {
      ClaimWhileSlotsFree();
    } catch (const std::exception& error) {
      spdlog::error("worker {}: claiming jobs threw an exception: {}; trying again at the next poll", id(),
                    error.what());
    } catch (...) {
      // Nothing is known about this state, so the thread ends and Health() reports it.
      RecordThreadFailure("dispatcher", "claiming jobs threw an exception that is not a std::exception");
      return;
    }
  }
}

// Claims until the slots are full or no job is due.
void Worker::ClaimWhileSlotsFree() {
  static thread_local RepeatedLog claim_log;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || free_slots_ <= 0 || commands_.empty()) break;
    }

    auto claimed = store_.Claim(storage::ClaimRequest{id(), commands_, options_.lease});
    if (!claimed.ok()) {
      claim_log.Failure("claiming a job", claimed.status());
      break;
    }
    claim_log.Success("claiming a job");
    if (!claimed->has_value()) break;

    auto running = std::make_shared<RunningJob>(std::move(**claimed), id(), options_.lease);
    std::vector<std::shared_ptr<RunningJob>> superseded;
    bool handed_off = false;
    {
      std::lock_guard lock(mutex_);
      if (!stopping_) {
        --free_slots_;
        for (const auto& [key, earlier] : running_) {
          if (earlier->job.id == running->job.id) superseded.push_back(earlier);
        }
        running_[RunningKey(running->lease)] = running;
        handoff_.push_back(running);
        handed_off = true;
      }
    }
    // This worker claimed a job it still runs, so the earlier attempt's lease was lost before
    // the maintenance thread noticed. That attempt must stop now.
    for (const auto& earlier : superseded) {
      ScopedLogContext context(earlier->job.id);
      spdlog::warn("attempt {} lost its lease and the job was claimed again; asking its handler to stop",
                   earlier->lease.attempt);
      earlier->Interrupt(earlier->lease_lost);
    }
    if (!handed_off) {
      (void)store_.Release(running->lease);
      break;
    }
    runner_wake_.notify_one();
  }
}

void Worker::RunnerLoop() {
  for (;;) {
    std::shared_ptr<RunningJob> running;
    {
      std::unique_lock lock(mutex_);
      runner_wake_.wait(lock, [this] { return runners_exit_ || !handoff_.empty(); });
      if (handoff_.empty()) return;
      running = handoff_.front();
      handoff_.pop_front();
    }

    try {
      RunJob(running);
    } catch (const std::exception& error) {
      // RunJob catches the handler's exceptions, so this is a failure in recording the outcome.
      ScopedLogContext context(running->job.id);
      spdlog::error("recording the outcome failed with an exception: {}; the job runs again after its lease expires",
                    error.what());
    } catch (...) {
      ScopedLogContext context(running->job.id);
      spdlog::error("recording the outcome failed with an unknown exception; the job runs again after its lease "
                    "expires");
    }

    {
      std::lock_guard lock(mutex_);
      running_.erase(RunningKey(running->lease));
      ++free_slots_;
      submitted_ = true;  // a slot is free: look for the next job at once
    }
    dispatcher_wake_.notify_one();
    idle_.notify_all();
  }
}

void Worker::RunJob(const std::shared_ptr<RunningJob>& running) {
  ScopedLogContext context(running->job.id);
  const storage::Job& job = running->job;
  spdlog::info("running {} (attempt {} of {})", job.FullCommand(), job.attempts, job.max_attempts);

  Result<nlohmann::json> outcome = InternalError("the handler did not run");
  try {
    const CommandSpec* command = registry_.FindFull(job.FullCommand());
    running->input_value = nlohmann::json::parse(job.input_json, nullptr, false);
    if (command == nullptr) {
      outcome = InternalError("worker " + id() + " has no handler for command " + job.FullCommand());
    } else if (running->input_value.is_discarded()) {
      outcome = InvalidInput("the input of job " + job.id + " is not valid JSON");
    } else {
      outcome = command->handler(*running);
    }
  } catch (const std::exception& error) {
    outcome = InternalError(std::string("the handler threw an exception: ") + error.what());
  } catch (...) {
    outcome = InternalError("the handler threw an exception that is not a std::exception");
  }
  FinishJob(*running, outcome);
}

void Worker::FinishJob(RunningJob& running, const Result<nlohmann::json>& outcome) {
  running.finishing = true;
  const storage::Job& job = running.job;
  const storage::JobLease& lease = running.lease;
  const int64_t elapsed_ms = MillisecondsSince(running.claimed_at);

  std::string action;
  std::string_view outcome_label;
  auto level = spdlog::level::info;
  Result<bool> recorded = false;
  if (outcome.ok()) {
    const std::string result = outcome->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    recorded = WithRetries([&] { return store_.Complete(lease, result); });
    action = "completed";
    outcome_label = "completed";
  } else if (running.shutdown) {
    recorded = WithRetries([&] { return store_.Release(lease); });
    action = "returned to the queue because worker " + id() + " is stopping";
    outcome_label = "released";
  } else if (running.cancel_requested) {
    recorded = WithRetries([&] { return store_.FinishCancelled(lease); });
    action = "cancelled on request";
    outcome_label = "cancelled";
  } else if (running.lease_lost) {
    recorded = WithRetries([&] { return store_.Release(lease); });
    action = "returned to the queue because its lease could not be renewed";
    outcome_label = "released";
    level = spdlog::level::warn;
  } else {
    const Status& error = outcome.status();
    const CommandSpec* command = registry_.FindFull(job.FullCommand());
    const RetryPolicy policy = command != nullptr ? registry_.PolicyFor(*command) : registry_.default_policy();
    if (IsTransient(error) && job.attempts < job.max_attempts) {
      const auto delay = policy.Delay(job.attempts);
      recorded = WithRetries([&] { return store_.Retry(lease, error, delay); });
      action = "failed with a transient error (" + error.ToString() + "); retrying in " +
               std::to_string(delay.count()) + " ms";
      outcome_label = "retried";
      level = spdlog::level::warn;
    } else {
      recorded = WithRetries([&] { return store_.Fail(lease, error); });
      action = "failed: " + error.ToString();
      if (IsTransient(error)) action += " (transient, but no attempts are left)";
      outcome_label = "failed";
      level = spdlog::level::err;
    }
  }

  metrics::RecordJobAttempt(job.FullCommand(), outcome_label, static_cast<double>(elapsed_ms) / 1000.0);
  if (!recorded.ok()) {
    spdlog::error("attempt {} of {} ended after {} ms ({}), but recording the outcome failed: {}. The job runs "
                  "again after its lease expires", job.attempts, job.max_attempts, elapsed_ms, action,
                  recorded.status().ToString());
  } else if (!*recorded) {
    spdlog::warn("attempt {} of {} ended after {} ms ({}), but the outcome was discarded because the lease was "
                 "lost: another worker may run the job", job.attempts, job.max_attempts, elapsed_ms, action);
  } else {
    spdlog::log(level, "attempt {} of {} ended after {} ms: {}", job.attempts, job.max_attempts, elapsed_ms, action);
  }
}

std::vector<std::shared_ptr<Worker::RunningJob>> Worker::RunningSnapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<RunningJob>> snapshot;
  for (const auto& [key, running] : running_) snapshot.push_back(running);
  return snapshot;
}

void Worker::MaintenanceLoop() {
  const auto renew_interval = options_.lease / 3;
  const auto tick = std::max(std::chrono::milliseconds(10), std::min(options_.progress_interval, renew_interval));
  auto next_renewal = SteadyClock::now() + renew_interval;
  // The first purge waits a minute so that start-up stays quick; later ones run every 10 minutes.
  auto next_purge = SteadyClock::now() + std::chrono::minutes(1);

  for (;;) {
    {
      std::unique_lock lock(mutex_);
      maintenance_wake_.wait_for(lock, tick, [this] { return maintenance_exit_; });
      if (maintenance_exit_) break;
    }
    try {
      FlushProgress();
      ReadCancelRequests();
      const auto now = SteadyClock::now();
      if (now >= next_renewal) {
        next_renewal = now + renew_interval;
        RenewLeases();
        SaveHeartbeat();
        const bool purge = now >= next_purge;
        if (purge) next_purge = now + std::chrono::minutes(10);
        ReapAndPrune(purge);
      }
    } catch (const std::exception& error) {
      spdlog::error("worker {} maintenance threw an exception: {}; it continues at the next tick", id(), error.what());
    } catch (...) {
      RecordThreadFailure("maintenance", "lease renewal or progress writing threw an exception that is not a "
                                         "std::exception");
      return;
    }
  }
}

void Worker::RecordThreadFailure(std::string_view thread, std::string_view reason) {
  spdlog::critical("worker {}: the {} thread stopped: {}", id(), thread, reason);
  std::lock_guard lock(mutex_);
  if (thread_failure_.ok()) {
    thread_failure_ = InternalError("the " + std::string(thread) + " thread of worker " + id() + " stopped: " +
                                    std::string(reason));
  }
}

Status Worker::Health() const {
  std::lock_guard lock(mutex_);
  return thread_failure_;
}

void Worker::FlushProgress() {
  for (const auto& running : RunningSnapshot()) {
    auto progress = running->TakeProgress();
    if (!progress) continue;
    auto written = store_.ReportProgress(running->lease, progress->first, progress->second);
    if (!written.ok()) {
      ScopedLogContext context(running->job.id);
      spdlog::warn("writing progress failed: {}", written.status().ToString());
    }
  }
}

void Worker::ReadCancelRequests() {
  auto snapshot = RunningSnapshot();
  if (snapshot.empty()) return;
  auto requested = store_.CancelRequests(id());
  if (!requested.ok()) return;  // RenewLeases reports database failures; this read is retried next tick
  const std::set<std::string> ids(requested->begin(), requested->end());
  for (const auto& running : snapshot) {
    if (ids.contains(running->job.id) && !running->cancel_requested) {
      ScopedLogContext context(running->job.id);
      spdlog::info("cancel requested; asking the handler to stop");
      running->Interrupt(running->cancel_requested);
    }
  }
}

void Worker::RenewLeases() {
  static thread_local RepeatedLog renew_log;
  auto snapshot = RunningSnapshot();
  if (snapshot.empty()) return;

  const auto started = SteadyClock::now();
  auto renewed = store_.RenewLeases(id(), options_.lease);
  if (!renewed.ok()) {
    renew_log.Failure("renewing job leases", renewed.status());
  } else {
    renew_log.Success("renewing job leases");
    std::set<std::string> renewed_keys;
    for (const auto& renewal : *renewed) {
      renewed_keys.insert(RunningKey(storage::JobLease{renewal.job_id, id(), renewal.attempt}));
    }
    for (const auto& running : snapshot) {
      if (renewed_keys.contains(RunningKey(running->lease))) {
        running->lease_valid_until = started + LocalLeaseLimit(options_.lease);
      } else if (!running->finishing && !running->lease_lost) {
        ScopedLogContext context(running->job.id);
        spdlog::warn("the lease of this job was lost (it expired and was requeued or cancelled); asking the handler "
                     "to stop");
        running->Interrupt(running->lease_lost);
      }
    }
  }

  // Without renewals the lease runs out; stop the handler before another worker may take the job.
  // NOTE: a handler that ignores CancelRequested() keeps running, so its work can overlap with
  // the next attempt. The lease fence still keeps its outcome from being recorded.
  const auto now = SteadyClock::now();
  for (const auto& running : snapshot) {
    if (now >= running->lease_valid_until.load() && !running->finishing && !running->lease_lost) {
      ScopedLogContext context(running->job.id);
      spdlog::error("the lease of this job expired because it could not be renewed; asking the handler to stop");
      running->Interrupt(running->lease_lost);
    }
  }
}

void Worker::SaveHeartbeat() {
  static thread_local RepeatedLog heartbeat_log;
  int max_tasks = 0;
  int running_jobs = 0;
  {
    std::lock_guard lock(mutex_);
    max_tasks = max_tasks_;
    running_jobs = static_cast<int>(running_.size());
  }
  storage::WorkerInfo info{id(), host_, static_cast<int64_t>(getpid()), commands_, max_tasks, running_jobs,
                           options_.lease, "", ""};
  Status saved = store_.SaveWorker(info);
  if (saved.ok()) {
    heartbeat_log.Success("saving the worker heartbeat");
  } else {
    heartbeat_log.Failure("saving the worker heartbeat", saved);
  }
}

void Worker::ReapAndPrune(bool purge) {
  static thread_local RepeatedLog reap_log;
  auto requeued = store_.RequeueExpired();
  if (!requeued.ok()) {
    reap_log.Failure("requeueing jobs with expired leases", requeued.status());
  } else if (*requeued > 0) {
    {
      std::lock_guard lock(mutex_);
      submitted_ = true;
    }
    dispatcher_wake_.notify_one();
  }
  if (!purge) return;

  if (options_.job_retention.count() > 0) {
    auto purged = store_.PurgeFinished(options_.job_retention, 1000);
    if (!purged.ok()) {
      spdlog::warn("deleting finished jobs older than {} days failed: {}", options_.job_retention.count() / 86400,
                   purged.status().ToString());
    } else if (*purged > 0) {
      spdlog::info("deleted {} finished jobs older than {} days", *purged, options_.job_retention.count() / 86400);
    }
  }

  // A crashed worker never deletes its row; keep it a while so `open-notebook status` can show it.
  const auto forget_after = std::max<std::chrono::seconds>(std::chrono::hours(1),
                                                           std::chrono::duration_cast<std::chrono::seconds>(options_.lease * 3));
  auto pruned = store_.PruneWorkers(forget_after);
  if (!pruned.ok()) spdlog::warn("deleting rows of stopped workers failed: {}", pruned.status().ToString());
}

bool Worker::WaitUntilIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return running_.empty(); });
}

bool Worker::Stop() {
  std::deque<std::shared_ptr<RunningJob>> not_started;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || !started_) {
      stopped_ = true;
      return stop_result_;
    }
    stopped_ = true;
    stopping_ = true;
    not_started.swap(handoff_);
    for (const auto& running : not_started) {
      running_.erase(RunningKey(running->lease));
      ++free_slots_;
    }
  }
  dispatcher_wake_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
  store_.RemoveListener(listener_);

  for (const auto& running : not_started) (void)store_.Release(running->lease);

  const int running_at_stop = running();
  if (running_at_stop > 0) {
    spdlog::info("worker {} stopping: waiting up to {} ms for {} running jobs", id(), options_.stop_timeout.count(),
                 running_at_stop);
  }
  bool idle = WaitUntilIdle(options_.stop_timeout);
  if (!idle) {
    spdlog::warn("worker {}: jobs still running after {} ms; asking them to stop and returning them to the queue",
                 id(), options_.stop_timeout.count());
    for (const auto& running : RunningSnapshot()) running->Interrupt(running->shutdown);
    idle = WaitUntilIdle(options_.stop_grace);
  }
  if (!idle) {
    for (const auto& running : RunningSnapshot()) {
      ScopedLogContext context(running->job.id);
      spdlog::error("the handler did not stop within {} ms of the stop request; the job goes back to the queue, but "
                    "its thread keeps running until the process exits", options_.stop_grace.count());
      (void)store_.Release(running->lease);
    }
  }

  {
    std::lock_guard lock(mutex_);
    runners_exit_ = true;
    maintenance_exit_ = true;
    stop_result_ = idle;
  }
  runner_wake_.notify_all();
  maintenance_wake_.notify_all();
  if (idle) {
    for (auto& runner : runners_) runner.join();
  }
  if (maintenance_.joinable()) maintenance_.join();

  Status removed = store_.RemoveWorker(id());
  if (!removed.ok()) spdlog::warn("worker {}: removing its row failed: {}", id(), removed.ToString());
  spdlog::info("worker {} stopped", id());
  return idle;
}

}  // namespace on::jobs
