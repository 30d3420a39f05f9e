// The job queue of each backend on a real database: claims, leases, retries, cancel, dedupe.
// PostgreSQL runs when OPEN_NOTEBOOK_TEST_POSTGRES_URL names a test server.
#include "storage/sqlite/sqlite_jobs.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "storage/postgres/postgres_jobs.h"
#include "storage/postgres/postgres_storage.h"
#include "storage/sqlite/sqlite_storage.h"
#include "support/test_storage.h"

namespace on::storage {
namespace {

using namespace std::chrono_literals;

// A clock that moves only when the test says so.
class ManualClock {
 public:
  ManualClock() : now_(SystemClock::now()) {}
  SystemClock::time_point Now() const {
    std::lock_guard lock(mutex_);
    return now_;
  }
  void Advance(std::chrono::milliseconds step) {
    std::lock_guard lock(mutex_);
    now_ += step;
  }

 private:
  mutable std::mutex mutex_;
  SystemClock::time_point now_;
};

class JobStoreTest : public ::testing::TestWithParam<test::StorageBackend> {
 protected:
  void SetUp() override {
    database_ = std::make_unique<test::TestStorage>(GetParam());
    if (database_->skip_reason()) GTEST_SKIP() << *database_->skip_reason();
    ASSERT_EQ(database_->error(), "");
    ASSERT_TRUE(database_->storage().MigrateUp(std::nullopt).ok());
    store_ = OpenStore([this] { return clock_.Now(); });
    ASSERT_NE(store_, nullptr);
  }

  bool IsSqlite() const { return GetParam() == test::StorageBackend::kSqlite; }

  // A job store on connections of its own, as another process has. A null clock uses the
  // system clock.
  std::unique_ptr<JobStore> OpenStore(std::function<SystemClock::time_point()> clock = nullptr) {
    if (!clock) clock = [] { return SystemClock::now(); };
    if (IsSqlite()) {
      sqlite::ConnectionOptions options;
      options.path = database_->sqlite_path();
      options.synchronous = "normal";
      auto database = sqlite::Database::Open(options);
      EXPECT_TRUE(database.ok()) << database.status().ToString();
      if (!database.ok()) return nullptr;
      sqlite_databases_.push_back(std::move(database).value());
      return std::make_unique<sqlite::SqliteJobStore>(*sqlite_databases_.back(), clock);
    }
    auto& postgres = dynamic_cast<postgres::PostgresStorage&>(database_->storage());
    auto pool = postgres::Pool::Open(postgres.pool().options());
    EXPECT_TRUE(pool.ok()) << pool.status().ToString();
    if (!pool.ok()) return nullptr;
    postgres_pools_.push_back(std::move(pool).value());
    return std::make_unique<postgres::PostgresJobStore>(*postgres_pools_.back(), clock);
  }

  // Inserts `spec` with the backend's InsertJob and then runs `after_insert`, both in one
  // transaction, which commits when `after_insert` succeeds.
  Result<SubmitResult> InsertInTransaction(const JobSpec& spec, const std::function<Status()>& after_insert) {
    if (IsSqlite()) {
      return sqlite_databases_.front()->writer().Run<SubmitResult>([&](sqlite::Connection& db) -> Result<SubmitResult> {
        ON_ASSIGN_OR_RETURN(auto inserted, sqlite::InsertJob(db, spec, clock_.Now()));
        ON_RETURN_IF_ERROR(after_insert());
        return inserted;
      });
    }
    ON_ASSIGN_OR_RETURN(auto db, postgres_pools_.front()->Acquire());
    std::optional<SubmitResult> inserted;
    ON_RETURN_IF_ERROR(postgres::RunInTransaction(*db, [&]() -> Status {
      ON_ASSIGN_OR_RETURN(inserted, postgres::InsertJob(*db, spec, clock_.Now()));
      return after_insert();
    }));
    return std::move(*inserted);
  }

  JobSpec Spec(std::string command = "sleep", int max_attempts = 3) {
    JobSpec spec;
    spec.app = "debug";
    spec.command = std::move(command);
    spec.input_json = R"({"ms": 1})";
    spec.max_attempts = max_attempts;
    return spec;
  }

  std::string SubmitJob(const JobSpec& spec) {
    auto submitted = store_->Submit(spec);
    EXPECT_TRUE(submitted.ok()) << submitted.status().ToString();
    return submitted.ok() ? submitted->job.id : "";
  }

  std::optional<Job> ClaimJob(const std::string& worker, std::chrono::milliseconds lease = 10s) {
    auto claimed = store_->Claim(ClaimRequest{worker, {"debug.sleep"}, lease});
    EXPECT_TRUE(claimed.ok()) << claimed.status().ToString();
    return claimed.ok() ? *claimed : std::nullopt;
  }

  static JobLease LeaseOf(const Job& job) { return JobLease{job.id, *job.lease_owner, job.attempts}; }

  Job GetJob(const std::string& id) {
    auto job = store_->Get(id);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.ok() ? *job : Job{};
  }

  ManualClock clock_;
  std::unique_ptr<test::TestStorage> database_;
  std::vector<std::unique_ptr<sqlite::Database>> sqlite_databases_;
  std::vector<std::unique_ptr<postgres::Pool>> postgres_pools_;
  // Declared last, so it is destroyed before the connections it uses.
  std::unique_ptr<JobStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, JobStoreTest, test::kAllStorageBackends, test::StorageBackendName);

TEST_P(JobStoreTest, SubmitStoresQueuedJob) {
  const std::string id = SubmitJob(Spec());
  EXPECT_EQ(id.rfind("command:", 0), 0u);
  Job job = GetJob(id);
  EXPECT_EQ(job.status, JobStatus::kQueued);
  EXPECT_EQ(job.app, "debug");
  EXPECT_EQ(job.command, "sleep");
  EXPECT_EQ(job.FullCommand(), "debug.sleep");
  EXPECT_EQ(job.input_json, R"({"ms": 1})");
  EXPECT_EQ(job.attempts, 0);
  EXPECT_EQ(job.max_attempts, 3);
  EXPECT_FALSE(job.lease_owner.has_value());
  EXPECT_EQ(store_->Get("command:missing").status().code(), ErrorCode::kNotFound);
}

TEST_P(JobStoreTest, SubmitRejectsBadSpec) {
  JobSpec no_app = Spec();
  no_app.app = "";
  EXPECT_EQ(store_->Submit(no_app).status().code(), ErrorCode::kInvalidInput);
  JobSpec no_attempts = Spec("sleep", 0);
  EXPECT_EQ(store_->Submit(no_attempts).status().code(), ErrorCode::kInvalidInput);
  JobSpec bad_id = Spec();
  bad_id.id = "command:has space";
  EXPECT_EQ(store_->Submit(bad_id).status().code(), ErrorCode::kInvalidInput);
}

TEST_P(JobStoreTest, ClaimTakesOldestDueJobOfKnownCommand) {
  const std::string other = SubmitJob(Spec("other"));
  clock_.Advance(1ms);
  const std::string first = SubmitJob(Spec());
  clock_.Advance(1ms);
  const std::string second = SubmitJob(Spec());

  auto claimed = ClaimJob("worker:a");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->id, first);
  EXPECT_EQ(claimed->status, JobStatus::kRunning);
  EXPECT_EQ(claimed->attempts, 1);
  EXPECT_EQ(claimed->lease_owner, "worker:a");
  ASSERT_TRUE(claimed->lease_expires.has_value());
  EXPECT_EQ(*claimed->lease_expires, FormatTimestamp(clock_.Now() + 10s));

  EXPECT_EQ(ClaimJob("worker:a")->id, second);
  EXPECT_FALSE(ClaimJob("worker:a").has_value());
  EXPECT_EQ(GetJob(other).status, JobStatus::kQueued);
}

TEST_P(JobStoreTest, ClaimWaitsForDelay) {
  JobSpec spec = Spec();
  spec.delay = 5s;
  SubmitJob(spec);
  EXPECT_FALSE(ClaimJob("worker:a").has_value());
  clock_.Advance(5s);
  EXPECT_TRUE(ClaimJob("worker:a").has_value());
}

// Two Database objects on one file behave like two processes: separate connections, each with
// its own writer. Every job must be claimed exactly once while 16 threads race.
TEST_P(JobStoreTest, ClaimExactlyOnceUnderRace) {
  constexpr int kJobs = 240;
  for (int i = 0; i < kJobs; ++i) SubmitJob(Spec());

  auto second_store = OpenStore();
  ASSERT_NE(second_store, nullptr);
  std::vector<JobStore*> stores = {store_.get(), second_store.get()};

  std::mutex mutex;
  std::map<std::string, int> claims;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int s = 0; s < 2; ++s) {
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, s, t] {
        const std::string worker = "worker:" + std::to_string(s) + "-" + std::to_string(t);
        for (;;) {
          auto claimed = stores[s]->Claim(ClaimRequest{worker, {"debug.sleep"}, 60s});
          if (!claimed.ok()) {
            ++errors;
            continue;
          }
          if (!claimed->has_value()) return;
          const Job& job = **claimed;
          {
            std::lock_guard lock(mutex);
            ++claims[job.id];
          }
          auto completed = stores[s]->Complete(LeaseOf(job), "{}");
          if (!completed.ok() || !*completed) ++errors;
        }
      });
    }
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(claims.size(), static_cast<size_t>(kJobs));
  for (const auto& [id, count] : claims) EXPECT_EQ(count, 1) << id;
  auto stats = store_->GetQueueStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->completed, kJobs);
  EXPECT_EQ(stats->queued, 0);
}

TEST_P(JobStoreTest, ExpiredLeaseRequeuesJob) {
  const std::string id = SubmitJob(Spec());
  auto first = ClaimJob("worker:dead");
  ASSERT_TRUE(first.has_value());

  clock_.Advance(9s);
  EXPECT_EQ(*store_->RequeueExpired(), 0);
  clock_.Advance(2s);
  EXPECT_EQ(*store_->RequeueExpired(), 1);

  Job requeued = GetJob(id);
  EXPECT_EQ(requeued.status, JobStatus::kQueued);
  EXPECT_EQ(requeued.attempts, 1);
  ASSERT_TRUE(requeued.error_message.has_value());
  EXPECT_NE(requeued.error_message->find("worker:dead stopped renewing its lease"), std::string::npos)
      << *requeued.error_message;

  auto second = ClaimJob("worker:alive");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->attempts, 2);
  EXPECT_FALSE(*store_->Complete(LeaseOf(*first), R"({"from": "dead"})"));
  EXPECT_TRUE(*store_->Complete(LeaseOf(*second), R"({"from": "alive"})"));
  EXPECT_EQ(GetJob(id).result_json, R"({"from": "alive"})");
}

TEST_P(JobStoreTest, ExpiredLeaseOnLastAttemptFails) {
  const std::string id = SubmitJob(Spec("sleep", 1));
  ASSERT_TRUE(ClaimJob("worker:dead").has_value());
  clock_.Advance(11s);
  EXPECT_EQ(*store_->RequeueExpired(), 1);

  Job failed = GetJob(id);
  EXPECT_EQ(failed.status, JobStatus::kFailed);
  EXPECT_TRUE(failed.completed.has_value());
  ASSERT_TRUE(failed.error_message.has_value());
  EXPECT_NE(failed.error_message->find("no attempts are left"), std::string::npos) << *failed.error_message;
}

TEST_P(JobStoreTest, RenewalKeepsLease) {
  const std::string id = SubmitJob(Spec());
  ASSERT_TRUE(ClaimJob("worker:a").has_value());
  clock_.Advance(8s);
  auto renewed = store_->RenewLeases("worker:a", 10s);
  ASSERT_TRUE(renewed.ok());
  ASSERT_EQ(renewed->size(), 1u);
  EXPECT_EQ((*renewed)[0].job_id, id);
  EXPECT_FALSE((*renewed)[0].cancel_requested);

  clock_.Advance(8s);
  EXPECT_EQ(*store_->RequeueExpired(), 0);
  EXPECT_EQ(GetJob(id).status, JobStatus::kRunning);
  EXPECT_TRUE(store_->RenewLeases("worker:other", 10s)->empty());
}

TEST_P(JobStoreTest, RetryWaitsThenRunsAgain) {
  const std::string id = SubmitJob(Spec());
  auto first = ClaimJob("worker:a");
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(*store_->Retry(LeaseOf(*first), Status(ErrorCode::kUpstream, "provider returned 503"), 5s));

  Job queued = GetJob(id);
  EXPECT_EQ(queued.status, JobStatus::kQueued);
  EXPECT_EQ(queued.error_code, "Upstream");
  EXPECT_EQ(queued.error_message, "provider returned 503");
  EXPECT_EQ(queued.run_after, FormatTimestamp(clock_.Now() + 5s));
  EXPECT_FALSE(ClaimJob("worker:a").has_value());

  clock_.Advance(5s);
  auto second = ClaimJob("worker:a");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->attempts, 2);
  EXPECT_TRUE(*store_->Complete(LeaseOf(*second), "42"));
  Job done = GetJob(id);
  EXPECT_EQ(done.status, JobStatus::kCompleted);
  EXPECT_FALSE(done.error_message.has_value());
  EXPECT_EQ(done.result_json, "42");
}

TEST_P(JobStoreTest, RetryOnLastAttemptFails) {
  const std::string id = SubmitJob(Spec("sleep", 1));
  auto claimed = ClaimJob("worker:a");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_TRUE(*store_->Retry(LeaseOf(*claimed), Status(ErrorCode::kTimeout, "timed out"), 1s));
  Job job = GetJob(id);
  EXPECT_EQ(job.status, JobStatus::kFailed);
  EXPECT_EQ(job.error_code, "Timeout");
  EXPECT_TRUE(job.completed.has_value());
}

TEST_P(JobStoreTest, FailRecordsError) {
  const std::string id = SubmitJob(Spec());
  auto claimed = ClaimJob("worker:a");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_TRUE(*store_->Fail(LeaseOf(*claimed), InvalidInput("url is invalid")));
  Job job = GetJob(id);
  EXPECT_EQ(job.status, JobStatus::kFailed);
  EXPECT_EQ(job.error_code, "InvalidInput");
  EXPECT_EQ(job.error_message, "url is invalid");
  EXPECT_FALSE(*store_->Complete(LeaseOf(*claimed), "{}"));
}

TEST_P(JobStoreTest, ReleaseDoesNotCountAttempt) {
  const std::string id = SubmitJob(Spec());
  auto claimed = ClaimJob("worker:a");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_TRUE(*store_->Release(LeaseOf(*claimed)));
  Job job = GetJob(id);
  EXPECT_EQ(job.status, JobStatus::kQueued);
  EXPECT_EQ(job.attempts, 0);
  EXPECT_EQ(ClaimJob("worker:b")->attempts, 1);
}

TEST_P(JobStoreTest, CancelQueuedJob) {
  const std::string id = SubmitJob(Spec());
  EXPECT_EQ(*store_->Cancel(id), CancelOutcome::kCancelled);
  Job job = GetJob(id);
  EXPECT_EQ(job.status, JobStatus::kCancelled);
  EXPECT_TRUE(job.completed.has_value());
  EXPECT_FALSE(ClaimJob("worker:a").has_value());
  EXPECT_EQ(*store_->Cancel(id), CancelOutcome::kAlreadyFinal);
  EXPECT_EQ(store_->Cancel("command:missing").status().code(), ErrorCode::kNotFound);
}

TEST_P(JobStoreTest, CancelRunningJobIsRequested) {
  const std::string id = SubmitJob(Spec());
  auto claimed = ClaimJob("worker:a");
  ASSERT_TRUE(claimed.has_value());

  std::vector<JobEvent> events;
  const int handle = store_->AddListener([&](const JobEvent& event) { events.push_back(event); });
  EXPECT_EQ(*store_->Cancel(id), CancelOutcome::kRequested);
  store_->RemoveListener(handle);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, JobEvent::Kind::kCancelRequested);
  EXPECT_EQ(events[0].job_id, id);

  EXPECT_EQ(GetJob(id).status, JobStatus::kRunning);
  EXPECT_EQ(*store_->CancelRequests("worker:a"), std::vector<std::string>{id});
  EXPECT_TRUE((*store_->RenewLeases("worker:a", 10s))[0].cancel_requested);
  EXPECT_TRUE(*store_->FinishCancelled(LeaseOf(*claimed)));
  EXPECT_EQ(GetJob(id).status, JobStatus::kCancelled);
}

TEST_P(JobStoreTest, CancelRequestWinsOverRetry) {
  const std::string id = SubmitJob(Spec());
  auto claimed = ClaimJob("worker:a");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(*store_->Cancel(id), CancelOutcome::kRequested);
  EXPECT_TRUE(*store_->Retry(LeaseOf(*claimed), Status(ErrorCode::kUnavailable, "busy"), 0ms));
  EXPECT_EQ(GetJob(id).status, JobStatus::kCancelled);
}

TEST_P(JobStoreTest, DedupeKeyReturnsActiveJob) {
  JobSpec spec = Spec();
  spec.dedupe_key = "source:abc/process";
  auto first = store_->Submit(spec);
  auto second = store_->Submit(spec);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->job.id, first->job.id);

  auto claimed = ClaimJob("worker:a");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(store_->Submit(spec)->job.id, first->job.id);

  EXPECT_TRUE(*store_->Complete(LeaseOf(*claimed), "{}"));
  auto after = store_->Submit(spec);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->created);
  EXPECT_NE(after->job.id, first->job.id);
}

TEST_P(JobStoreTest, ProgressIsStoredWhileLeaseHolds) {
  const std::string id = SubmitJob(Spec());
  auto claimed = ClaimJob("worker:a");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_TRUE(*store_->ReportProgress(LeaseOf(*claimed), "extracting", 40));
  Job job = GetJob(id);
  EXPECT_EQ(job.progress_stage, "extracting");
  EXPECT_EQ(job.progress_percent, 40);

  EXPECT_TRUE(*store_->ReportProgress(LeaseOf(*claimed), "embedding", 250));
  EXPECT_EQ(GetJob(id).progress_percent, 100);

  JobLease stale = LeaseOf(*claimed);
  stale.worker_id = "worker:b";
  EXPECT_FALSE(*store_->ReportProgress(stale, "stale", 1));
  EXPECT_EQ(GetJob(id).progress_stage, "embedding");
}

TEST_P(JobStoreTest, ListFiltersNewestFirst) {
  const std::string sleep_one = SubmitJob(Spec());
  clock_.Advance(1ms);
  const std::string other = SubmitJob(Spec("other"));
  clock_.Advance(1ms);
  const std::string sleep_two = SubmitJob(Spec());
  ASSERT_EQ(*store_->Cancel(sleep_two), CancelOutcome::kCancelled);

  auto all = store_->List(JobQuery{});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, sleep_two);
  EXPECT_EQ((*all)[2].id, sleep_one);

  auto by_name = store_->List(JobQuery{"sleep", std::nullopt, 50});
  ASSERT_EQ(by_name->size(), 2u);
  EXPECT_EQ(store_->List(JobQuery{"debug.other", std::nullopt, 50})->at(0).id, other);
  auto queued = store_->List(JobQuery{"sleep", JobStatus::kQueued, 50});
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ((*queued)[0].id, sleep_one);
  EXPECT_EQ(store_->List(JobQuery{std::nullopt, std::nullopt, 1})->size(), 1u);
}

TEST_P(JobStoreTest, InsertJobJoinsCallerTransaction) {
  JobSpec spec = Spec();
  spec.id = "command:joined";
  auto rolled_back =
      InsertInTransaction(spec, [] { return InvalidInput("the caller's other insert failed"); });
  EXPECT_FALSE(rolled_back.ok());
  EXPECT_EQ(store_->Get("command:joined").status().code(), ErrorCode::kNotFound);

  std::vector<std::string> submitted;
  const int handle = store_->AddListener([&](const JobEvent& event) { submitted.push_back(event.job_id); });
  auto committed = InsertInTransaction(spec, [] { return Status::Ok(); });
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  store_->NotifySubmitted(committed->job.id);
  store_->RemoveListener(handle);
  EXPECT_EQ(GetJob("command:joined").status, JobStatus::kQueued);
  EXPECT_EQ(submitted, std::vector<std::string>{"command:joined"});
}

TEST_P(JobStoreTest, PurgeDeletesOldFinishedJobs) {
  const std::string old_done = SubmitJob(Spec());
  ASSERT_EQ(*store_->Cancel(old_done), CancelOutcome::kCancelled);
  const std::string still_queued = SubmitJob(Spec());
  clock_.Advance(std::chrono::hours(48));
  const std::string new_done = SubmitJob(Spec("other"));
  ASSERT_EQ(*store_->Cancel(new_done), CancelOutcome::kCancelled);

  EXPECT_EQ(*store_->PurgeFinished(std::chrono::hours(24), 100), 1);
  EXPECT_EQ(store_->Get(old_done).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store_->Get(still_queued).ok());
  EXPECT_TRUE(store_->Get(new_done).ok());
}

TEST_P(JobStoreTest, WorkersAndQueueStats) {
  WorkerInfo worker{"worker:one", "host", 42, {"debug.sleep"}, 4, 0, 30s, "", ""};
  ASSERT_TRUE(store_->SaveWorker(worker).ok());
  clock_.Advance(10s);
  worker.running = 2;
  ASSERT_TRUE(store_->SaveWorker(worker).ok());

  auto workers = store_->ListWorkers();
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 1u);
  const WorkerInfo& saved = (*workers)[0];
  EXPECT_EQ(saved.running, 2);
  EXPECT_EQ(saved.commands, std::vector<std::string>{"debug.sleep"});
  EXPECT_EQ(saved.lease, 30s);
  EXPECT_EQ(saved.heartbeat_at, FormatTimestamp(clock_.Now()));
  EXPECT_LT(saved.started, saved.heartbeat_at);

  clock_.Advance(std::chrono::hours(2));
  EXPECT_EQ(*store_->PruneWorkers(std::chrono::hours(1)), 1);
  EXPECT_TRUE(store_->ListWorkers()->empty());

  SubmitJob(Spec());
  clock_.Advance(1s);
  SubmitJob(Spec());
  ASSERT_TRUE(ClaimJob("worker:a").has_value());
  auto stats = store_->GetQueueStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->queued, 1);
  EXPECT_EQ(stats->running, 1);
  ASSERT_TRUE(stats->oldest_queued_created.has_value());
}

}  // namespace
}  // namespace on::storage
