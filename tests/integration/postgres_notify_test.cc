// LISTEN/NOTIFY on the PostgreSQL backend: two PostgresStorage objects on one database stand for
// two processes. A job queued or cancelled through one reaches a worker of the other, a settings
// change reaches the other's runtime configuration, and DataVersion follows the other's writes.
// Worker and watcher poll only every 60 s, so a test can pass only through a notification; each
// waits at most 10 s. Skipped without OPEN_NOTEBOOK_TEST_POSTGRES_URL.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "core/runtime_config.h"
#include "jobs/command_registry.h"
#include "jobs/worker.h"
#include "ops/config_watcher.h"
#include "storage/postgres/postgres_storage.h"
#include "support/postgres_database.h"

namespace on::storage::postgres {
namespace {

using namespace std::chrono_literals;

// Longer than any wait below, so nothing in these tests happens by polling.
constexpr auto kPollInterval = 60s;
constexpr auto kDeadline = 10s;

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout = kDeadline) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

class PostgresNotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::PostgresServerUrl()) GTEST_SKIP() << test::kPostgresSkipMessage;
    database_ = std::make_unique<test::PostgresDatabase>();
    ASSERT_EQ(database_->error(), "");
    first_ = Open();
    ASSERT_NE(first_, nullptr);
    Status migrated = first_->MigrateUp(std::nullopt);
    ASSERT_TRUE(migrated.ok()) << migrated.ToString();
    second_ = Open();
    ASSERT_NE(second_, nullptr);
    ASSERT_TRUE(WaitFor([&] { return first_->listener().connected(); }));
    ASSERT_TRUE(WaitFor([&] { return second_->listener().connected(); }));
  }

  void TearDown() override {
    if (worker_) worker_->Stop();
  }

  std::unique_ptr<PostgresStorage> Open() {
    PoolOptions options;
    options.connection.url = database_->url();
    options.size = 4;
    auto storage = PostgresStorage::Open(options);
    EXPECT_TRUE(storage.ok()) << storage.status().ToString();
    return storage.ok() ? std::move(storage).value() : nullptr;
  }

  // A worker on the second storage that polls only every kPollInterval.
  void StartWorker(const std::string& command, jobs::CommandHandler handler) {
    registry_ = std::make_unique<jobs::CommandRegistry>(RetryPolicy{});
    ASSERT_TRUE(registry_->Register(jobs::CommandSpec{"test", command, "", std::move(handler), std::nullopt}).ok());
    jobs::WorkerOptions options;
    options.max_tasks = 1;
    options.poll_interval = kPollInterval;
    // Lease renewals and cancel-request reads run every min(progress_interval, lease / 3).
    options.lease = 3 * kPollInterval;
    options.progress_interval = kPollInterval;
    options.stop_timeout = 2s;
    options.stop_grace = 2s;
    worker_ = std::make_unique<jobs::Worker>(second_->jobs(), *registry_, options);
    Status started = worker_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  std::string Submit(const std::string& command) {
    JobSpec spec;
    spec.app = "test";
    spec.command = command;
    auto submitted = first_->jobs().Submit(spec);
    EXPECT_TRUE(submitted.ok()) << submitted.status().ToString();
    return submitted.ok() ? submitted->job.id : "";
  }

  bool WaitForStatus(const std::string& id, JobStatus status) {
    return WaitFor([&] {
      auto job = first_->jobs().Get(id);
      return job.ok() && job->status == status;
    });
  }

  // Ends the second storage's listening connection, as a server restart or an administrator does.
  void TerminateListener() {
    const int pid = second_->listener().backend_pid();
    ASSERT_NE(pid, 0);
    ASSERT_EQ(test::PostgresDatabase::ExecuteOnServer("SELECT pg_terminate_backend(" + std::to_string(pid) + ")"), "");
    ASSERT_TRUE(WaitFor([&] {
      const int now = second_->listener().backend_pid();
      return now != 0 && now != pid;
    })) << "the listener did not reconnect";
  }

  std::unique_ptr<test::PostgresDatabase> database_;
  std::unique_ptr<PostgresStorage> first_;
  std::unique_ptr<PostgresStorage> second_;
  std::unique_ptr<jobs::CommandRegistry> registry_;
  std::unique_ptr<jobs::Worker> worker_;
};

TEST_F(PostgresNotifyTest, SubmitWakesWorkerOfOtherProcess) {
  std::atomic<int> runs{0};
  StartWorker("echo", [&](jobs::JobContext&) -> Result<nlohmann::json> {
    ++runs;
    return nlohmann::json::object();
  });

  const std::string id = Submit("echo");
  ASSERT_TRUE(WaitForStatus(id, JobStatus::kCompleted)) << "the worker was not woken by the notification";
  EXPECT_EQ(runs.load(), 1);

  // A second job finds the worker idle again and wakes it the same way.
  const std::string next = Submit("echo");
  ASSERT_TRUE(WaitForStatus(next, JobStatus::kCompleted));
  EXPECT_EQ(runs.load(), 2);
}

TEST_F(PostgresNotifyTest, CancelReachesWorkerOfOtherProcess) {
  std::atomic<bool> started{false};
  StartWorker("forever", [&](jobs::JobContext& job) -> Result<nlohmann::json> {
    started = true;
    while (job.SleepFor(1s)) {
    }
    return Status(ErrorCode::kCancelled, "stopped on request");
  });
  const std::string id = Submit("forever");
  ASSERT_TRUE(WaitFor([&] { return started.load(); }));

  auto outcome = first_->jobs().Cancel(id);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(*outcome, CancelOutcome::kRequested);
  ASSERT_TRUE(WaitForStatus(id, JobStatus::kCancelled)) << "the cancel request did not reach the worker";
}

TEST_F(PostgresNotifyTest, SettingsChangeReachesOtherRuntimeConfig) {
  auto defaults = Settings::Load([](std::string_view) -> std::optional<std::string> { return std::nullopt; });
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  ASSERT_NE(defaults->fetch_timeout_s, 17);
  auto config = RuntimeConfig::Fixed(*defaults);
  ops::ConfigWatcher watcher(*config, *second_, kPollInterval);
  watcher.Start();

  auto saved = first_->SaveSettings({{"fetch_timeout_s", "17"}});
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_TRUE(WaitFor([&] { return config->Current()->fetch_timeout_s == 17; }))
      << "the other process did not reload its settings";
  EXPECT_EQ(config->version(), saved->version);

  // Every later change arrives the same way.
  auto cleared = first_->SaveSettings({{"fetch_timeout_s", std::nullopt}});
  ASSERT_TRUE(cleared.ok()) << cleared.status().ToString();
  EXPECT_TRUE(WaitFor([&] { return config->Current()->fetch_timeout_s == defaults->fetch_timeout_s; }));
  watcher.Stop();
}

TEST_F(PostgresNotifyTest, ListenerReconnectsAfterServerClosesConnection) {
  std::atomic<int> announcements{0};
  const int handle = second_->AddConfigListener([&] { ++announcements; });
  TerminateListener();
  // Reconnecting announced a possible change, because notifications may have been lost meanwhile.
  ASSERT_GE(announcements.load(), 1);

  const int before = announcements.load();
  auto saved = first_->SaveSettings({{"fetch_timeout_s", "23"}});
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_TRUE(WaitFor([&] { return announcements.load() > before; })) << "no notification after reconnecting";
  second_->RemoveConfigListener(handle);

  // Jobs wake workers again too.
  std::atomic<int> runs{0};
  StartWorker("echo", [&](jobs::JobContext&) -> Result<nlohmann::json> {
    ++runs;
    return nlohmann::json::object();
  });
  TerminateListener();
  const std::string id = Submit("echo");
  ASSERT_TRUE(WaitForStatus(id, JobStatus::kCompleted));
  EXPECT_EQ(runs.load(), 1);
}

TEST_F(PostgresNotifyTest, DataVersionFollowsWritesOfBothProcesses) {
  const uint64_t quiet = second_->DataVersion();
  EXPECT_EQ(second_->DataVersion(), quiet) << "without writes the version must stay, or caches never hit";
  EXPECT_EQ(second_->DataVersion(), quiet);

  // A write of this process changes it at once, before any notification arrives.
  const uint64_t own_before = first_->DataVersion();
  ASSERT_TRUE(first_->CreateNotebook("Local", "").ok());
  EXPECT_NE(first_->DataVersion(), own_before);

  // A write of the other process changes it once its notification arrives.
  EXPECT_TRUE(WaitFor([&] { return second_->DataVersion() != quiet; }));
  const uint64_t settled = second_->DataVersion();
  EXPECT_EQ(second_->DataVersion(), settled);

  // Reads change nothing.
  ASSERT_TRUE(first_->ListNotebooks(NotebookQuery{}).ok());
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(second_->DataVersion(), settled);

  // A statement that changes no row (an idle worker's claim) changes nothing either.
  ClaimRequest claim;
  claim.worker_id = "worker:idle";
  claim.commands = {"test.none"};
  auto claimed = first_->jobs().Claim(claim);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  EXPECT_FALSE(claimed->has_value());
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(second_->DataVersion(), settled);

  // After a reconnect everything counts as changed: notifications sent meanwhile were lost.
  TerminateListener();
  EXPECT_NE(second_->DataVersion(), settled);
}

}  // namespace
}  // namespace on::storage::postgres
