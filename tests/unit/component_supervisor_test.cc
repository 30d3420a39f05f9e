// ComponentSupervisor with the real job worker on a real SQLite queue: restart delays, a worker
// whose start fails, a worker whose dispatcher thread dies, and stopping.
#include "ops/component_supervisor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>

#include "jobs/command_registry.h"
#include "jobs/worker.h"
#include "ops/worker_service.h"
#include "storage/sqlite/sqlite_storage.h"
#include "support/temp_dir.h"

namespace on::ops {
namespace {

using namespace std::chrono_literals;
using storage::JobStatus;

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

// Forwards to the SQLite job store, with two injected faults: SaveWorker fails while
// `save_failures` is above zero, and Claim throws an int (not a std::exception) while
// `claim_throws` is above zero. Each fault counts itself down.
class FaultyJobStore final : public storage::JobStore {
 public:
  explicit FaultyJobStore(storage::JobStore& real) : real_(real) {}

  std::atomic<int> save_failures{0};
  std::atomic<int> claim_throws{0};

  Result<storage::SubmitResult> Submit(const storage::JobSpec& spec) override { return real_.Submit(spec); }
  Result<storage::Job> Get(const std::string& id) override { return real_.Get(id); }
  Result<std::vector<storage::Job>> List(const storage::JobQuery& query) override { return real_.List(query); }
  Result<std::optional<storage::Job>> Claim(const storage::ClaimRequest& request) override {
    if (claim_throws.fetch_sub(1) > 0) throw 42;
    return real_.Claim(request);
  }
  Result<std::vector<storage::LeaseRenewal>> RenewLeases(const std::string& worker_id,
                                                         std::chrono::milliseconds lease) override {
    return real_.RenewLeases(worker_id, lease);
  }
  Result<std::vector<std::string>> CancelRequests(const std::string& worker_id) override {
    return real_.CancelRequests(worker_id);
  }
  Result<bool> ReportProgress(const storage::JobLease& lease, std::string_view stage, int percent) override {
    return real_.ReportProgress(lease, stage, percent);
  }
  Result<bool> Complete(const storage::JobLease& lease, std::string_view result_json) override {
    return real_.Complete(lease, result_json);
  }
  Result<bool> Fail(const storage::JobLease& lease, const Status& error) override { return real_.Fail(lease, error); }
  Result<bool> Retry(const storage::JobLease& lease, const Status& error, std::chrono::milliseconds delay) override {
    return real_.Retry(lease, error, delay);
  }
  Result<bool> FinishCancelled(const storage::JobLease& lease) override { return real_.FinishCancelled(lease); }
  Result<bool> Release(const storage::JobLease& lease) override { return real_.Release(lease); }
  Result<storage::CancelOutcome> Cancel(const std::string& id) override { return real_.Cancel(id); }
  Result<int> RequeueExpired() override { return real_.RequeueExpired(); }
  Result<int> PurgeFinished(std::chrono::seconds age, int max_rows) override {
    return real_.PurgeFinished(age, max_rows);
  }
  Status SaveWorker(const storage::WorkerInfo& worker) override {
    if (save_failures.fetch_sub(1) > 0) return Status(ErrorCode::kUnavailable, "injected: database is locked");
    return real_.SaveWorker(worker);
  }
  Status RemoveWorker(const std::string& worker_id) override { return real_.RemoveWorker(worker_id); }
  Result<int> PruneWorkers(std::chrono::seconds silent_for) override { return real_.PruneWorkers(silent_for); }
  Result<std::vector<storage::WorkerInfo>> ListWorkers() override { return real_.ListWorkers(); }
  Result<storage::QueueStats> GetQueueStats() override { return real_.GetQueueStats(); }
  int AddListener(std::function<void(const storage::JobEvent&)> listener) override {
    return real_.AddListener(std::move(listener));
  }
  void RemoveListener(int handle) override { real_.RemoveListener(handle); }
  void NotifySubmitted(const std::string& job_id) override { real_.NotifySubmitted(job_id); }

 private:
  storage::JobStore& real_;
};

TEST(RestartBackoff, DoublesThenResets) {
  RestartBackoff backoff{100ms, 800ms, 60s};
  EXPECT_EQ(backoff.Next(0ms, 0ms), 100ms) << "first failure";
  EXPECT_EQ(backoff.Next(100ms, 0ms), 200ms);
  EXPECT_EQ(backoff.Next(200ms, 5s), 400ms) << "a short run counts as a failure in a row";
  EXPECT_EQ(backoff.Next(400ms, 0ms), 800ms);
  EXPECT_EQ(backoff.Next(800ms, 0ms), 800ms) << "capped at max";
  EXPECT_EQ(backoff.Next(800ms, 60s), 100ms) << "a stable run starts over";
}

class ComponentSupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::sqlite::ConnectionOptions options;
    options.path = (dir_.path() / "supervisor.db").string();
    options.synchronous = "normal";
    auto storage = storage::sqlite::SqliteStorage::Open(options);
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_ = std::move(storage).value();
    ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
    faulty_ = std::make_unique<FaultyJobStore>(storage_->jobs());

    registry_ = std::make_unique<jobs::CommandRegistry>(RetryPolicy{});
    ASSERT_TRUE(registry_
                    ->Register(jobs::CommandSpec{"test", "echo", "",
                                                 [](jobs::JobContext& job) -> Result<nlohmann::json> {
                                                   return nlohmann::json{{"attempt", job.attempt()}};
                                                 },
                                                 std::nullopt})
                    .ok());
  }

  std::unique_ptr<ComponentSupervisor> Supervise() {
    jobs::WorkerOptions options;
    options.max_tasks = 2;
    options.lease = 2s;
    options.poll_interval = 20ms;
    options.stop_timeout = 2s;
    options.stop_grace = 1s;
    auto supervisor = std::make_unique<ComponentSupervisor>(
        "test worker", [this, options] { return MakeWorkerComponent(*faulty_, *registry_, options); },
        RestartBackoff{10ms, 40ms, 60s}, 10ms);
    supervisor->Start();
    return supervisor;
  }

  std::string Submit() {
    storage::JobSpec spec;
    spec.app = "test";
    spec.command = "echo";
    spec.input_json = "{}";
    auto submitted = storage_->jobs().Submit(spec);
    EXPECT_TRUE(submitted.ok()) << submitted.status().ToString();
    return submitted.ok() ? submitted->job.id : "";
  }

  bool Completes(const std::string& id) {
    return WaitFor([&] {
      auto job = storage_->jobs().Get(id);
      return job.ok() && job->status == JobStatus::kCompleted;
    });
  }

  test::TempDir dir_;
  std::unique_ptr<storage::sqlite::SqliteStorage> storage_;
  std::unique_ptr<FaultyJobStore> faulty_;
  std::unique_ptr<jobs::CommandRegistry> registry_;
};

TEST_F(ComponentSupervisorTest, FailedStartsAreRetried) {
  faulty_->save_failures = 3;
  auto supervisor = Supervise();
  const std::string id = Submit();
  EXPECT_TRUE(Completes(id));
  EXPECT_EQ(supervisor->starts(), 1) << "three failed starts, then one that worked";
  EXPECT_LE(faulty_->save_failures.load(), 0);
  EXPECT_TRUE(supervisor->Stop());
}

TEST_F(ComponentSupervisorTest, DeadDispatcherIsReplaced) {
  auto supervisor = Supervise();
  ASSERT_TRUE(WaitFor([&] { return supervisor->running(); }));
  auto workers = storage_->jobs().ListWorkers();
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 1u);
  const std::string first_worker = workers->front().id;

  // The next claim throws something that is not a std::exception: the dispatcher thread ends.
  faulty_->claim_throws = 1;
  const std::string id = Submit();
  EXPECT_TRUE(Completes(id)) << "a new worker runs the job";
  EXPECT_TRUE(WaitFor([&] { return supervisor->starts() == 2; }));

  workers = storage_->jobs().ListWorkers();
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 1u) << "the failed worker removed its row when it was stopped";
  EXPECT_NE(workers->front().id, first_worker);
  EXPECT_TRUE(supervisor->Stop());
  EXPECT_FALSE(supervisor->running());
}

TEST_F(ComponentSupervisorTest, StopDuringFailedStarts) {
  faulty_->save_failures = 1'000'000;
  auto supervisor = Supervise();
  EXPECT_TRUE(WaitFor([&] { return faulty_->save_failures.load() < 1'000'000 - 2; }));
  EXPECT_TRUE(supervisor->Stop());
  EXPECT_EQ(supervisor->starts(), 0);
  EXPECT_FALSE(supervisor->running());
  EXPECT_TRUE(supervisor->Stop()) << "a second Stop returns the same result";
}

}  // namespace
}  // namespace on::ops
