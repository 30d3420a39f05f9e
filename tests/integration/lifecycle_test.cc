// Start-up, shutdown and crash behaviour of the real binary.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "support/data_dir_database.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_backend.h"

namespace on {
namespace {

void ExecuteOnDatabase(const std::filesystem::path& data_dir, const std::string& sql) {
  EXPECT_EQ(test::QueryDataDir(data_dir, sql).error, "");
}

std::string IntegrityCheck(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return "cannot open";
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr);
  std::string verdict = sqlite3_step(stmt) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)) : "no row";
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return verdict;
}

TEST(Lifecycle, TamperedMigrationStopsStartup) {
  test::TempDir dir;
  const auto data = dir.path() / "data";
  {
    test::ServerProcess server(data);
    ASSERT_TRUE(server.Start()) << server.log();
    EXPECT_EQ(server.Stop(), 0);
  }
  ExecuteOnDatabase(data, "UPDATE schema_migrations SET checksum = 'tampered' WHERE version = 1");

  test::ServerProcess restarted(data);
  EXPECT_FALSE(restarted.Start(std::chrono::seconds(10)));
  EXPECT_EQ(restarted.WaitExit(std::chrono::seconds(10)), 1);
  EXPECT_NE(restarted.log().find("was changed after it was applied"), std::string::npos) << restarted.log();
  EXPECT_NE(restarted.log().find("restore"), std::string::npos);
}

TEST(Lifecycle, NewerDatabaseStopsStartup) {
  test::TempDir dir;
  const auto data = dir.path() / "data";
  {
    test::ServerProcess server(data);
    ASSERT_TRUE(server.Start()) << server.log();
    EXPECT_EQ(server.Stop(), 0);
  }
  ExecuteOnDatabase(data, "INSERT INTO schema_migrations VALUES (9999, 'future', 'x', '2031-01-01')");

  test::ServerProcess restarted(data);
  EXPECT_FALSE(restarted.Start(std::chrono::seconds(10)));
  EXPECT_EQ(restarted.WaitExit(std::chrono::seconds(10)), 1);
  EXPECT_NE(restarted.log().find("newer binary"), std::string::npos) << restarted.log();
}

TEST(Lifecycle, NonLoopbackWithoutPasswordRefused) {
  test::TempDir dir;
  test::ServerProcess server(dir.path() / "data", {{"API_HOST", "0.0.0.0"}});
  server.Spawn();
  EXPECT_EQ(server.WaitExit(std::chrono::seconds(10)), 1);
  EXPECT_NE(server.log().find("OPEN_NOTEBOOK_PASSWORD"), std::string::npos) << server.log();
}

TEST(Lifecycle, NonLoopbackOptInWarnsLoudly) {
  test::TempDir dir;
  test::ServerProcess server(dir.path() / "data", {{"API_HOST", "0.0.0.0"}, {"OPEN_NOTEBOOK_ALLOW_NO_AUTH", "true"}});
  ASSERT_TRUE(server.Start()) << server.log();
  EXPECT_NE(server.log().find("NO PASSWORD"), std::string::npos) << server.log();
  EXPECT_EQ(server.Stop(), 0);
}

TEST(Lifecycle, StartupLogNamesTheDatabase) {
  test::TempDir dir;
  test::ServerProcess server(dir.path() / "data");
  ASSERT_TRUE(server.Start()) << server.log();
  const std::string expected = test::TestBackendIsPostgres()
                                   ? "database ready (PostgreSQL postgresql://"
                                   : "database ready (SQLite " + (dir.path() / "data" / "open-notebook.db").string() + ")";
  // /health turns healthy just before the line is written.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server.log().find(expected) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(server.log().find(expected), std::string::npos) << server.log();
}

TEST(Lifecycle, SigtermDrainsInFlightRequests) {
  test::TempDir dir;
  test::ServerProcess server(dir.path() / "data");
  ASSERT_TRUE(server.Start()) << server.log();
  auto client = server.Client();

  // Requests keep arriving while SIGTERM lands; each one either completes with 200 or is never
  // accepted (connection refused); none gets a truncated or 5xx response.
  std::atomic<bool> stop{false};
  std::atomic<int> completed{0}, refused{0}, broken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      while (!stop) {
        auto result = client.Post("/api/notebooks", {{"name", "drain"}});
        if (result.status == 200) {
          completed++;
        } else if (result.status == 0) {
          refused++;
        } else {
          broken++;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(server.pid(), SIGTERM);
  EXPECT_EQ(server.WaitExit(std::chrono::seconds(30)), 0) << server.log();
  stop = true;
  for (auto& thread : threads) thread.join();

  EXPECT_GT(completed.load(), 0);
  EXPECT_EQ(broken.load(), 0);
  EXPECT_NE(server.log().find("shutting down"), std::string::npos);
}

TEST(Lifecycle, SigkillDuringWritesLosesNoAcknowledgedWrite) {
  test::TempDir dir;
  const auto data = dir.path() / "data";
  test::ServerProcess server(data);
  ASSERT_TRUE(server.Start()) << server.log();
  auto client = server.Client();
  const std::string notebook_id = client.Post("/api/notebooks", {{"name", "crash"}}).Json()["id"];

  constexpr int kWrites = 200;
  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 32; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < kWrites; i = next++) {
        auto result = client.Post("/api/notes", {{"content", "write " + std::to_string(i)}, {"notebook_id", notebook_id}});
        if (result.status == 200) {
          std::lock_guard lock(mutex);
          acknowledged.push_back(result.Json()["id"]);
        }
      }
    });
  }
  // Kill once part of the writes are acknowledged, while the rest are in flight.
  for (int waited = 0; waited < 500; ++waited) {
    {
      std::lock_guard lock(mutex);
      if (acknowledged.size() >= kWrites / 3) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  server.Kill();
  for (auto& thread : threads) thread.join();
  ASSERT_GT(acknowledged.size(), 0u);
  EXPECT_LT(acknowledged.size(), static_cast<size_t>(kWrites)) << "the kill should land while writes are in flight";

  if (!test::TestBackendIsPostgres()) {
    EXPECT_EQ(IntegrityCheck(data / "open-notebook.db"), "ok");
  }
  test::ServerProcess restarted(data);
  ASSERT_TRUE(restarted.Start()) << restarted.log();
  auto after = restarted.Client();
  for (const auto& id : acknowledged) EXPECT_EQ(after.Get("/api/notes/" + id).status, 200) << id;
  EXPECT_EQ(restarted.Stop(), 0);
}

// SIGTERM to `serve` while two jobs run: the short one finishes within the worker's stop
// timeout, the long one goes back to the queue without counting its attempt, and the process exits 0.
TEST(Lifecycle, SigtermFinishesOrReleasesJobs) {
  test::TempDir dir;
  const std::map<std::string, std::string> env = {{"OPEN_NOTEBOOK_ENABLE_TEST_COMMANDS", "true"},
                                                  {"OPEN_NOTEBOOK_WORKER_POLL_MS", "50"},
                                                  {"OPEN_NOTEBOOK_WORKER_STOP_TIMEOUT", "4"}};
  auto server = std::make_unique<test::ServerProcess>(dir.path() / "data", env);
  ASSERT_TRUE(server->Start()) << server->log();
  auto client = server->Client();
  auto submit = [&](int sleep_ms) {
    auto submitted = client.Post("/api/commands/jobs", {{"app", "debug"}, {"command", "sleep"},
                                                        {"input", {{"ms", sleep_ms}, {"steps", 100}}}});
    EXPECT_EQ(submitted.status, 200) << submitted.body;
    return submitted.Json().value("job_id", "");
  };
  auto job_status = [&](test::HttpClient& http, const std::string& id) {
    return http.Get("/api/commands/jobs/" + id).Json();
  };
  auto wait_for = [&](test::HttpClient& http, const std::string& id, const std::string& status) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (job_status(http, id).value("status", "") == status) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };

  const std::string short_job = submit(1500);
  const std::string long_job = submit(600000);
  ASSERT_TRUE(wait_for(client, short_job, "running"));
  ASSERT_TRUE(wait_for(client, long_job, "running"));
  kill(server->pid(), SIGTERM);
  EXPECT_EQ(server->WaitExit(std::chrono::seconds(30)), 0) << server->log();
  EXPECT_NE(server->log().find("returned to the queue because worker"), std::string::npos) << server->log();

  // A new server finds the finished job completed and runs the released one again as attempt 1.
  server = std::make_unique<test::ServerProcess>(dir.path() / "data", env);
  ASSERT_TRUE(server->Start()) << server->log();
  auto restarted = server->Client();
  EXPECT_EQ(job_status(restarted, short_job).value("status", ""), "completed");
  ASSERT_TRUE(wait_for(restarted, long_job, "running")) << job_status(restarted, long_job).dump();
  EXPECT_EQ(job_status(restarted, long_job).value("attempts", 0), 1) << "a released attempt is not counted";
  EXPECT_EQ(server->Stop(), 0) << server->log();
}

TEST(Lifecycle, MigrateCommand) {
  test::TempDir dir;
  const auto data = dir.path() / "data";
  const std::string binary = ON_BINARY_PATH;
  std::string prefix = "OPEN_NOTEBOOK_DATA_DIR=" + data.string() + " " + binary + " migrate ";
  if (test::TestBackendIsPostgres()) {
    std::string error;
    prefix = "OPEN_NOTEBOOK_DATABASE_URL='" + test::PostgresUrlForDataDir(data, &error) + "' " + prefix;
    ASSERT_EQ(error, "");
  }
  EXPECT_EQ(WEXITSTATUS(std::system((prefix + "status > /dev/null 2>&1").c_str())), 2) << "no database yet";
  EXPECT_FALSE(std::filesystem::exists(data / "open-notebook.db")) << "status must not create the database";
  EXPECT_EQ(WEXITSTATUS(std::system((prefix + "up > /dev/null 2>&1").c_str())), 0);
  EXPECT_EQ(WEXITSTATUS(std::system((prefix + "status > /dev/null 2>&1").c_str())), 0);
  EXPECT_EQ(WEXITSTATUS(std::system((prefix + "down --to 0 > /dev/null 2>&1").c_str())), 0);
  EXPECT_EQ(WEXITSTATUS(std::system((prefix + "status > /dev/null 2>&1").c_str())), 2);
}

}  // namespace
}  // namespace on
