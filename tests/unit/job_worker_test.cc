// The job worker against a real SQLite queue: runs, retries, failures, cancel, stop, concurrency.
#include "jobs/worker.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "jobs/builtin_commands.h"
#include "storage/sqlite/sqlite_storage.h"
#include "support/temp_dir.h"

namespace on::jobs {
namespace {

using namespace std::chrono_literals;
using storage::JobStatus;

// Polls `condition` every 10 ms; true when it held within `timeout`.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

class JobWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.path = (dir_.path() / "worker.db").string();
    options_.synchronous = "normal";
    auto storage = storage::sqlite::SqliteStorage::Open(options_);
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_ = std::move(storage).value();
    ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());

    RetryPolicy policy;
    policy.max_attempts = 3;
    policy.wait_min = 10ms;
    policy.wait_max = 40ms;
    registry_ = std::make_unique<CommandRegistry>(policy);
  }

  void TearDown() override {
    for (auto& worker : workers_) worker->Stop();
  }

  WorkerOptions Options() {
    WorkerOptions options;
    options.max_tasks = 2;
    options.lease = 600ms;
    options.poll_interval = 20ms;
    options.progress_interval = 20ms;
    options.stop_timeout = 2s;
    options.stop_grace = 2s;
    return options;
  }

  Worker& StartWorker(WorkerOptions options, storage::JobStore* store = nullptr) {
    workers_.push_back(std::make_unique<Worker>(store != nullptr ? *store : storage_->jobs(), *registry_, options));
    Status started = workers_.back()->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return *workers_.back();
  }

  void Register(std::string name, CommandHandler handler) {
    ASSERT_TRUE(registry_->Register(CommandSpec{"test", std::move(name), "", std::move(handler), std::nullopt}).ok());
  }

  std::string Submit(const std::string& name, nlohmann::json input = nlohmann::json::object(), int max_attempts = 3) {
    storage::JobSpec spec;
    spec.app = "test";
    spec.command = name;
    spec.input_json = input.dump();
    spec.max_attempts = max_attempts;
    auto submitted = storage_->jobs().Submit(spec);
    EXPECT_TRUE(submitted.ok()) << submitted.status().ToString();
    return submitted.ok() ? submitted->job.id : "";
  }

  storage::Job Get(const std::string& id) {
    auto job = storage_->jobs().Get(id);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.ok() ? *job : storage::Job{};
  }

  bool WaitForStatus(const std::string& id, JobStatus status, std::chrono::milliseconds timeout = 5s) {
    return WaitFor([&] { return Get(id).status == status; }, timeout);
  }

  test::TempDir dir_;
  storage::sqlite::ConnectionOptions options_;
  std::unique_ptr<storage::sqlite::SqliteStorage> storage_;
  std::unique_ptr<CommandRegistry> registry_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

TEST_F(JobWorkerTest, RunsJobAndStoresResult) {
  Register("echo", [](JobContext& job) -> Result<nlohmann::json> {
    return nlohmann::json{{"echo", job.input().at("text")}, {"attempt", job.attempt()}};
  });
  StartWorker(Options());
  const std::string id = Submit("echo", {{"text", "hello"}});
  ASSERT_TRUE(WaitForStatus(id, JobStatus::kCompleted));

  storage::Job job = Get(id);
  EXPECT_EQ(nlohmann::json::parse(*job.result_json), (nlohmann::json{{"echo", "hello"}, {"attempt", 1}}));
  EXPECT_EQ(job.attempts, 1);
  EXPECT_EQ(job.progress_percent, 100);
  EXPECT_TRUE(job.completed.has_value());
}

TEST_F(JobWorkerTest, ProgressIsWrittenWhileRunning) {
  std::atomic<bool> release{false};
  Register("slow", [&](JobContext& job) -> Result<nlohmann::json> {
    job.Progress("halfway", 50);
    while (!release) job.SleepFor(5ms);
    return nlohmann::json::object();
  });
  StartWorker(Options());
  const std::string id = Submit("slow");
  EXPECT_TRUE(WaitFor([&] { return Get(id).progress_stage == "halfway"; }));
  EXPECT_EQ(Get(id).progress_percent, 50);
  EXPECT_EQ(Get(id).status, JobStatus::kRunning);
  release = true;
  EXPECT_TRUE(WaitForStatus(id, JobStatus::kCompleted));
}

TEST_F(JobWorkerTest, TransientFailureIsRetriedWithBackoff) {
  std::mutex mutex;
  std::vector<std::chrono::steady_clock::time_point> runs;
  Register("flaky", [&](JobContext& job) -> Result<nlohmann::json> {
    {
      std::lock_guard lock(mutex);
      runs.push_back(std::chrono::steady_clock::now());
    }
    if (job.attempt() < 3) return Status(ErrorCode::kUpstream, "provider returned 503");
    return nlohmann::json{{"attempt", job.attempt()}};
  });
  StartWorker(Options());
  const std::string id = Submit("flaky");
  ASSERT_TRUE(WaitForStatus(id, JobStatus::kCompleted));

  storage::Job job = Get(id);
  EXPECT_EQ(job.attempts, 3);
  EXPECT_FALSE(job.error_message.has_value());
  std::lock_guard lock(mutex);
  ASSERT_EQ(runs.size(), 3u);
  // The policy allows at most 10 ms after attempt 1 and 20 ms after attempt 2; the poll
  // interval and scheduling add some time, so only a loose upper bound is checked.
  EXPECT_LT(runs[1] - runs[0], 1s);
  EXPECT_LT(runs[2] - runs[1], 1s);
}

TEST_F(JobWorkerTest, PermanentFailureFailsAtOnce) {
  std::atomic<int> calls{0};
  Register("broken", [&](JobContext&) -> Result<nlohmann::json> {
    ++calls;
    return InvalidInput("the url 'ftp://x' is invalid: use http or https");
  });
  StartWorker(Options());
  const std::string id = Submit("broken");
  ASSERT_TRUE(WaitForStatus(id, JobStatus::kFailed));

  storage::Job job = Get(id);
  EXPECT_EQ(job.attempts, 1);
  EXPECT_EQ(job.error_code, "InvalidInput");
  EXPECT_EQ(job.error_message, "the url 'ftp://x' is invalid: use http or https");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(JobWorkerTest, MaxAttemptsEndsRetries) {
  std::atomic<int> calls{0};
  Register("down", [&](JobContext&) -> Result<nlohmann::json> {
    ++calls;
    return Status(ErrorCode::kTimeout, "the provider timed out after 30 s");
  });
  StartWorker(Options());
  const std::string id = Submit("down", nlohmann::json::object(), 3);
  ASSERT_TRUE(WaitForStatus(id, JobStatus::kFailed));

  storage::Job job = Get(id);
  EXPECT_EQ(job.attempts, 3);
  EXPECT_EQ(job.error_code, "Timeout");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(calls.load(), 3);
}

TEST_F(JobWorkerTest, ExceptionFailsJob) {
  Register("throws", [](JobContext&) -> Result<nlohmann::json> { throw std::runtime_error("boom"); });
  StartWorker(Options());
  const std::string id = Submit("throws");
  ASSERT_TRUE(WaitForStatus(id, JobStatus::kFailed));
  storage::Job job = Get(id);
  EXPECT_EQ(job.error_code, "Internal");
  EXPECT_NE(job.error_message->find("boom"), std::string::npos) << *job.error_message;
  EXPECT_EQ(job.attempts, 1);
}

TEST_F(JobWorkerTest, InvalidInputJsonFailsJob) {
  Register("echo", [](JobContext&) -> Result<nlohmann::json> { return nlohmann::json::object(); });
  storage::JobSpec spec;
  spec.app = "test";
  spec.command = "echo";
  spec.input_json = "{not json";
  auto submitted = storage_->jobs().Submit(spec);
  ASSERT_TRUE(submitted.ok());
  StartWorker(Options());
  ASSERT_TRUE(WaitForStatus(submitted->job.id, JobStatus::kFailed));
  EXPECT_EQ(Get(submitted->job.id).error_code, "InvalidInput");
}

TEST_F(JobWorkerTest, CancelRunningJob) {
  std::atomic<bool> started{false};
  Register("forever", [&](JobContext& job) -> Result<nlohmann::json> {
    started = true;
    while (job.SleepFor(1s)) {
    }
    return Status(ErrorCode::kCancelled, "stopped on request");
  });
  StartWorker(Options());
  const std::string id = Submit("forever");
  ASSERT_TRUE(WaitFor([&] { return started.load(); }));

  EXPECT_EQ(*storage_->jobs().Cancel(id), storage::CancelOutcome::kRequested);
  ASSERT_TRUE(WaitForStatus(id, JobStatus::kCancelled, 2s));
  EXPECT_EQ(Get(id).attempts, 1);
}

// A cancel made through another store object (another process) reaches the worker by polling.
TEST_F(JobWorkerTest, CancelFromOtherProcess) {
  std::atomic<bool> started{false};
  Register("forever", [&](JobContext& job) -> Result<nlohmann::json> {
    started = true;
    while (job.SleepFor(1s)) {
    }
    return Status(ErrorCode::kCancelled, "stopped on request");
  });
  StartWorker(Options());
  const std::string id = Submit("forever");
  ASSERT_TRUE(WaitFor([&] { return started.load(); }));

  auto other = storage::sqlite::SqliteStorage::Open(options_);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*(*other)->jobs().Cancel(id), storage::CancelOutcome::kRequested);
  ASSERT_TRUE(WaitForStatus(id, JobStatus::kCancelled, 2s));
}

TEST_F(JobWorkerTest, StopReturnsRunningJobToQueue) {
  std::atomic<bool> started{false};
  Register("forever", [&](JobContext& job) -> Result<nlohmann::json> {
    started = true;
    while (job.SleepFor(1s)) {
    }
    return Status(ErrorCode::kCancelled, "stopped on request");
  });
  WorkerOptions options = Options();
  options.stop_timeout = 50ms;
  Worker& worker = StartWorker(options);
  const std::string id = Submit("forever");
  ASSERT_TRUE(WaitFor([&] { return started.load(); }));

  EXPECT_TRUE(worker.Stop());
  storage::Job job = Get(id);
  EXPECT_EQ(job.status, JobStatus::kQueued);
  EXPECT_EQ(job.attempts, 0);
  EXPECT_TRUE(storage_->jobs().ListWorkers()->empty());
}

TEST_F(JobWorkerTest, StopLetsShortJobsFinish) {
  std::atomic<bool> started{false};
  Register("short", [&](JobContext& job) -> Result<nlohmann::json> {
    started = true;
    job.SleepFor(200ms);
    return nlohmann::json{{"finished", true}};
  });
  Worker& worker = StartWorker(Options());
  const std::string id = Submit("short");
  ASSERT_TRUE(WaitFor([&] { return started.load(); }));
  EXPECT_TRUE(worker.Stop());
  EXPECT_EQ(Get(id).status, JobStatus::kCompleted);
}

TEST_F(JobWorkerTest, RespectsMaxTasks) {
  std::atomic<int> active{0};
  std::atomic<int> peak{0};
  Register("busy", [&](JobContext& job) -> Result<nlohmann::json> {
    const int now = ++active;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    job.SleepFor(60ms);
    --active;
    return nlohmann::json::object();
  });
  StartWorker(Options());
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(Submit("busy"));
  for (const auto& id : ids) EXPECT_TRUE(WaitForStatus(id, JobStatus::kCompleted)) << id;
  EXPECT_EQ(peak.load(), 2);
}

TEST_F(JobWorkerTest, WorkerRowShowsHeartbeat) {
  Register("echo", [](JobContext&) -> Result<nlohmann::json> { return nlohmann::json::object(); });
  Worker& worker = StartWorker(Options());
  auto workers = storage_->jobs().ListWorkers();
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 1u);
  EXPECT_EQ((*workers)[0].id, worker.id());
  EXPECT_EQ((*workers)[0].commands, std::vector<std::string>{"test.echo"});
  EXPECT_EQ((*workers)[0].max_tasks, 2);
}

// Two workers, each on its own database connections as separate processes would be, share one
// queue: every job runs exactly once.
TEST_F(JobWorkerTest, TwoWorkersRunEachJobOnce) {
  std::mutex mutex;
  std::map<std::string, int> runs;
  Register("count", [&](JobContext& job) -> Result<nlohmann::json> {
    {
      std::lock_guard lock(mutex);
      ++runs[job.job_id()];
    }
    job.SleepFor(2ms);
    return nlohmann::json::object();
  });
  auto other = storage::sqlite::SqliteStorage::Open(options_);
  ASSERT_TRUE(other.ok());
  WorkerOptions options = Options();
  options.max_tasks = 4;
  StartWorker(options);
  StartWorker(options, &(*other)->jobs());

  std::vector<std::string> ids;
  for (int i = 0; i < 60; ++i) ids.push_back(Submit("count"));
  for (const auto& id : ids) ASSERT_TRUE(WaitForStatus(id, JobStatus::kCompleted)) << id;

  std::lock_guard lock(mutex);
  EXPECT_EQ(runs.size(), ids.size());
  for (const auto& [id, count] : runs) EXPECT_EQ(count, 1) << id;
  for (auto& worker : workers_) worker->Stop();
}

// When another worker's reaper takes a job away (its lease looked expired), the handler is
// asked to stop and its outcome is not recorded; the job runs again as a new attempt.
TEST_F(JobWorkerTest, LostLeaseStopsHandler) {
  std::atomic<bool> first_started{false};
  std::atomic<bool> first_stopped{false};
  Register("long", [&](JobContext& job) -> Result<nlohmann::json> {
    if (job.attempt() > 1) return nlohmann::json{{"attempt", job.attempt()}};
    first_started = true;
    while (job.SleepFor(1s)) {
    }
    first_stopped = true;
    return Status(ErrorCode::kCancelled, "stopped");
  });
  StartWorker(Options());
  const std::string id = Submit("long");
  ASSERT_TRUE(WaitFor([&] { return first_started.load(); }));

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  const std::string expire = "UPDATE job SET lease_expires = '2000-01-01T00:00:00.000000+00:00' WHERE id = '" + id + "'";
  EXPECT_EQ(sqlite3_exec(db, expire.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto other = storage::sqlite::SqliteStorage::Open(options_);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*(*other)->jobs().RequeueExpired(), 1);

  EXPECT_TRUE(WaitFor([&] { return first_stopped.load(); }));
  ASSERT_TRUE(WaitForStatus(id, JobStatus::kCompleted));
  EXPECT_EQ(Get(id).attempts, 2);
}

TEST_F(JobWorkerTest, DebugSleepFailsTransientlyThenSucceeds) {
  ASSERT_TRUE(RegisterDebugCommands(*registry_).ok());
  StartWorker(Options());
  storage::JobSpec spec;
  spec.app = "debug";
  spec.command = "sleep";
  spec.input_json = R"({"ms": 20, "fail_transient": 2, "result": "ok"})";
  spec.max_attempts = 3;
  auto submitted = storage_->jobs().Submit(spec);
  ASSERT_TRUE(submitted.ok());
  ASSERT_TRUE(WaitForStatus(submitted->job.id, JobStatus::kCompleted));
  storage::Job job = Get(submitted->job.id);
  EXPECT_EQ(job.attempts, 3);
  EXPECT_EQ(nlohmann::json::parse(*job.result_json)["result"], "ok");
}

TEST_F(JobWorkerTest, RegistryRejectsBadNames) {
  auto handler = [](JobContext&) -> Result<nlohmann::json> { return nlohmann::json(); };
  EXPECT_EQ(registry_->Register(CommandSpec{"Test", "x", "", handler, std::nullopt}).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(registry_->Register(CommandSpec{"test", "a.b", "", handler, std::nullopt}).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(registry_->Register(CommandSpec{"test", "x", "", nullptr, std::nullopt}).code(), ErrorCode::kInvalidInput);
  ASSERT_TRUE(registry_->Register(CommandSpec{"test", "x", "", handler, std::nullopt}).ok());
  EXPECT_EQ(registry_->Register(CommandSpec{"test", "x", "", handler, std::nullopt}).code(), ErrorCode::kInvalidInput);

  EXPECT_TRUE(registry_->Find("test", "x").ok());
  EXPECT_TRUE(registry_->Find("", "x").ok());
  EXPECT_TRUE(registry_->Find("", "test.x").ok());
  auto unknown = registry_->Find("test", "y");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown command 'test.y'"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("test.x"), std::string::npos);
}

}  // namespace
}  // namespace on::jobs
