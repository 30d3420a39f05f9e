// Several API and worker processes on one PostgreSQL database, as a deployment across hosts runs
// them: two APIs and three workers ingest 200 sources while chats run, a worker is killed with
// SIGKILL in the middle of a job, and the database server restarts under the load.
//
// The test restarts the database server, so it starts a cluster of its own with
// scripts/test-postgres.sh, which needs root or the postgres user. It runs where the PostgreSQL
// tests run (OPEN_NOTEBOOK_TEST_POSTGRES_URL set).
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/fake_provider_process.h"
#include "support/postgres_database.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_backend.h"

namespace on {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr int kSources = 200;

// Runs a shell command and returns its exit code and output.
std::pair<int, std::string> Shell(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[4096];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string Script() { return std::string("bash ") + ON_SOURCE_DIR + "/scripts/test-postgres.sh"; }

// A cluster of the test's own, stopped and removed when the test ends. Its directory is made
// directly in /tmp: the postgres user cannot enter a test's private temporary directory.
class Cluster {
 public:
  Cluster() {
    char pattern[] = "/tmp/on-scale-pg-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = pattern;
    auto [code, output] = Shell(Script() + " start " + dir_.string());
    if (code != 0) {
      error_ = output;
      return;
    }
    while (!output.empty() && output.back() == '\n') output.pop_back();
    url_ = output.substr(output.rfind('\n') + 1);
  }
  ~Cluster() {
    if (!url_.empty()) Shell(Script() + " stop " + dir_.string());
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  std::string Restart() { return Shell(Script() + " restart " + dir_.string()).second; }
  const std::string& url() const { return url_; }
  const std::string& error() const { return error_; }

 private:
  std::filesystem::path dir_;
  std::string url_;
  std::string error_;
};

// The first column of the first row of `sql`, or the error.
std::string Scalar(const std::string& url, const std::string& sql, const std::vector<std::string>& params) {
  PGconn* connection = PQconnectdb(url.c_str());
  std::string value;
  if (PQstatus(connection) != CONNECTION_OK) {
    value = std::string("connection failed: ") + PQerrorMessage(connection);
  } else {
    std::vector<const char*> values;
    for (const std::string& param : params) values.push_back(param.c_str());
    PGresult* result = PQexecParams(connection, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                    nullptr, nullptr, 0);
    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
      value = std::string("query failed: ") + PQresultErrorMessage(result);
    } else if (PQntuples(result) > 0) {
      value = PQgetvalue(result, 0, 0);
    }
    PQclear(result);
  }
  PQfinish(connection);
  return value;
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return condition();
}

// The worker id a worker process logged when it started.
std::string WorkerId(const test::ServerProcess& worker) {
  std::smatch match;
  const std::string log = worker.log();
  if (std::regex_search(log, match, std::regex("worker (\\S+) started on"))) return match[1];
  return "";
}

TEST(PostgresScale, TwoApisThreeWorkersShareOneDatabase) {
  if (!test::PostgresServerUrl()) GTEST_SKIP() << test::kPostgresSkipMessage;
  // It brings its own database, so the PostgreSQL pass of the integration tests adds nothing.
  if (test::TestBackendIsPostgres()) GTEST_SKIP() << "runs in the first pass, on a cluster of its own";

  test::TempDir dir;
  Cluster cluster;
  ASSERT_EQ(cluster.error(), "") << "cannot start a cluster (the test needs root or the postgres user)";
  test::FakeProviderProcess fake;

  const auto data = dir.path() / "data";  // shared by every process, as one NFS mount would be
  const std::map<std::string, std::string> env = {
      {"OPEN_NOTEBOOK_DATABASE_URL", cluster.url()},
      {"OPEN_NOTEBOOK_DB_POOL_SIZE", "4"},
      {"OPENAI_COMPATIBLE_BASE_URL", fake.BaseUrl("/v1")},
      {"OPEN_NOTEBOOK_ENABLE_TEST_COMMANDS", "true"},
      {"OPEN_NOTEBOOK_JOB_LEASE_SECONDS", "3"},
      {"OPEN_NOTEBOOK_WORKER_POLL_MS", "100"},
      {"OPEN_NOTEBOOK_RETRY_WAIT_MIN", "0"},
      {"OPEN_NOTEBOOK_RETRY_WAIT_MAX", "1"},
      {"OPEN_NOTEBOOK_RETRY_MAX_ATTEMPTS", "5"},
  };
  test::ServerProcess api_a(data, env, {"api"});
  test::ServerProcess api_b(data, env, {"api"});
  api_a.Spawn();
  api_b.Spawn();  // both migrate at once; the advisory lock applies each migration once
  auto a = api_a.Client();
  auto b = api_b.Client();
  ASSERT_TRUE(WaitFor([&] { return a.Get("/health").status == 200; }, 60s)) << api_a.log();
  ASSERT_TRUE(WaitFor([&] { return b.Get("/health").status == 200; }, 60s)) << api_b.log();
  std::vector<std::unique_ptr<test::ServerProcess>> workers;
  for (int i = 0; i < 3; ++i) {
    workers.push_back(std::make_unique<test::ServerProcess>(data, env, std::vector<std::string>{"worker"}));
    workers.back()->Spawn();
  }
  ASSERT_TRUE(WaitFor([&] { return a.Get("/api/config").Json()["worker"].value("live", 0) == 3; }, 30s));

  auto model = a.Post("/api/models", {{"name", "fake-chat"}, {"provider", "openai_compatible"}, {"type", "language"}});
  ASSERT_EQ(model.status, 200) << model.body;
  ASSERT_EQ(a.Put("/api/models/defaults", {{"default_chat_model", model.Json()["id"]}}).status, 200);
  auto notebook = b.Post("/api/notebooks", {{"name", "Scale"}});  // written through the other API
  ASSERT_EQ(notebook.status, 200) << notebook.body;
  const std::string notebook_id = notebook.Json()["id"];

  // Ingestion: two clients, one per API. A request that fails is sent again; only a 200 is an
  // acknowledged write.
  std::mutex mutex;
  std::map<std::string, std::string> acknowledged;  // source id -> title
  std::atomic<int> failed_requests{0};
  auto ingest = [&](test::HttpClient client, int first) {
    for (int i = first; i < kSources; i += 2) {
      const std::string title = "scale-" + std::to_string(i);
      for (int attempt = 0; attempt < 100; ++attempt) {
        auto created = client.PostForm("/api/sources", {{"type", "text"},
                                                        {"title", title},
                                                        {"content", "Shipment " + std::to_string(i) + " of quartz"
                                                                    " lanterns reached harbour " + title + "."},
                                                        {"notebooks", json::array({notebook_id}).dump()},
                                                        {"async_processing", "true"}});
        if (created.status == 200) {
          std::lock_guard lock(mutex);
          acknowledged[created.Json()["id"]] = title;
          break;
        }
        failed_requests++;
        std::this_thread::sleep_for(200ms);
      }
    }
  };
  std::atomic<bool> stop_chats{false};
  std::atomic<int> chats_answered{0};
  // A job that is running when its worker is killed.
  auto sleep = a.Post("/api/commands/jobs",
                      {{"command", "sleep"}, {"app", "debug"}, {"input", {{"ms", 4000}, {"result", "survived"}}}});
  ASSERT_EQ(sleep.status, 200) << sleep.body;
  const std::string sleep_id = sleep.Json()["job_id"];
  std::string owner;
  ASSERT_TRUE(WaitFor([&] {
    auto job = a.Get("/api/commands/jobs/" + sleep_id).Json();
    return job.value("status", "") == "running";
  }, 30s));
  auto acknowledged_count = [&] {
    std::lock_guard lock(mutex);
    return acknowledged.size();
  };
  std::thread chats([&] {
    while (!stop_chats) {
      auto session = b.Post("/api/chat/sessions", {{"notebook_id", notebook_id}});
      if (session.status == 200) {
        auto answer = b.Post("/api/chat/execute", {{"session_id", session.Json()["id"]}, {"message", "Which harbour?"}});
        if (answer.status == 200) chats_answered++;
      }
      std::this_thread::sleep_for(50ms);
    }
  });
  std::thread ingest_a(ingest, a, 0);
  std::thread ingest_b(ingest, b, 1);
  EXPECT_TRUE(WaitFor([&] { return acknowledged_count() >= 20; }, 60s));
  // The worker that logged the job's first attempt holds its lease.
  EXPECT_TRUE(WaitFor([&] {
    for (auto& worker : workers) {
      if (worker->log().find("running debug.sleep (attempt 1") == std::string::npos) continue;
      owner = WorkerId(*worker);
      worker->Kill();
      return true;
    }
    return false;
  }, 10s)) << "no worker logged the sleep job";
  EXPECT_NE(owner, "");

  // The server restarts while both APIs ingest and the chat runs.
  EXPECT_TRUE(WaitFor([&] { return acknowledged_count() >= 60; }, 60s));
  const std::string restart_output = cluster.Restart();
  const size_t acknowledged_at_restart = acknowledged_count();

  ingest_a.join();
  ingest_b.join();
  stop_chats = true;
  chats.join();

  ASSERT_EQ(acknowledged.size(), static_cast<size_t>(kSources)) << "every source was acknowledged once retried";
  EXPECT_LT(acknowledged_at_restart, static_cast<size_t>(kSources)) << "the restart came before the ingestion ended";
  // Every acknowledged source is processed.
  std::set<std::string> pending;
  for (const auto& [id, title] : acknowledged) pending.insert(id);
  EXPECT_TRUE(WaitFor([&] {
    for (auto it = pending.begin(); it != pending.end();) {
      auto status = a.Get("/api/sources/" + *it + "/status");
      if (status.status == 200 && status.Json().value("status", "") == "completed") {
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    return pending.empty();
  }, 180s)) << pending.size() << " sources not completed; first: " << (pending.empty() ? "" : *pending.begin());

  // Exactly once: each acknowledged source has one processing job, completed, and one set of
  // chunks. A title appears twice only when a request was committed but its response was lost
  // in the restart, so the client sent it again.
  for (const auto& [id, title] : acknowledged) {
    EXPECT_EQ(Scalar(cluster.url(), "SELECT count(*) FROM source_chunk WHERE source_id = $1 AND chunk_index = 0", {id}),
              "1")
        << id;
    EXPECT_EQ(Scalar(cluster.url(), "SELECT j.status FROM job j JOIN source s ON s.command_id = j.id WHERE s.id = $1",
                     {id}),
              "completed")
        << id;
  }
  const int sources = std::stoi(Scalar(cluster.url(), "SELECT count(*) FROM source", {}));
  EXPECT_GE(sources, kSources);
  EXPECT_LE(sources, kSources + failed_requests.load());

  // Another worker takes the job over once the killed worker's lease expires.
  json finished;
  EXPECT_TRUE(WaitFor([&] {
    finished = a.Get("/api/commands/jobs/" + sleep_id).Json();
    return finished.value("status", "") == "completed";
  }, 60s)) << finished.dump();
  EXPECT_EQ(finished.value("attempts", 0), 2) << "the killed attempt and the one that finished";
  ASSERT_TRUE(finished["result"].is_object()) << finished.dump();
  EXPECT_EQ(finished["result"].value("result", ""), "survived");
  EXPECT_GT(chats_answered.load(), 0);

  // The processes reconnected: both APIs and the surviving workers still work.
  EXPECT_EQ(a.Get("/api/notebooks").status, 200);
  EXPECT_EQ(b.Get("/api/notebooks").status, 200);
  EXPECT_EQ(api_a.Stop(), 0) << api_a.log();
  EXPECT_EQ(api_b.Stop(), 0) << api_b.log();
  for (auto& worker : workers) {
    if (worker->Running()) {
      EXPECT_EQ(worker->Stop(), 0) << worker->log();
    }
  }
  std::printf("restart after %zu sources: %s; failed requests retried: %d; chats answered: %d\n",
              acknowledged_at_restart, restart_output.c_str(), failed_requests.load(), chats_answered.load());
}

}  // namespace
}  // namespace on
