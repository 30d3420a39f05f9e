// Background jobs against the real binary: the HTTP endpoints, the worker inside `serve`, separate
// `worker` processes (one killed mid-job) and `open-notebook status`. Uses the test-only
// debug.sleep command (OPEN_NOTEBOOK_ENABLE_TEST_COMMANDS=true).
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "support/server_process.h"
#include "support/temp_dir.h"

namespace on {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Polls `condition` every 50 ms; true when it held within `timeout`.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

class JobsTest : public ::testing::Test {
 protected:
  std::map<std::string, std::string> Env(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> env = {{"OPEN_NOTEBOOK_ENABLE_TEST_COMMANDS", "true"},
                                              {"OPEN_NOTEBOOK_RETRY_WAIT_MIN", "0"},
                                              {"OPEN_NOTEBOOK_WORKER_POLL_MS", "50"}};
    for (auto& [key, value] : extra) env[key] = value;
    return env;
  }

  void StartServer(std::map<std::string, std::string> env) {
    server_ = std::make_unique<test::ServerProcess>(dir_.path() / "data", env);
    const bool started = server_->Start();
    client_ = std::make_unique<test::HttpClient>(server_->Client());  // valid even when the start failed
    ASSERT_TRUE(started) << server_->log();
  }

  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->Stop(), 0) << server_->log();
    }
  }

  std::string Submit(const json& input, const std::string& dedupe_key = "") {
    json body = {{"command", "sleep"}, {"app", "debug"}, {"input", input}};
    if (!dedupe_key.empty()) body["dedupe_key"] = dedupe_key;
    auto submitted = client_->Post("/api/commands/jobs", body);
    EXPECT_EQ(submitted.status, 200) << submitted.body;
    EXPECT_EQ(submitted.Json()["status"], "submitted");
    return submitted.Json().value("job_id", "");
  }

  json GetJob(const std::string& id) {
    auto fetched = client_->Get("/api/commands/jobs/" + id);
    EXPECT_EQ(fetched.status, 200) << fetched.body;
    return fetched.Json();
  }

  // Waits until the job has `status`; returns the last job body seen.
  json WaitForStatus(const std::string& id, const std::string& status, std::chrono::milliseconds timeout = 10s) {
    json job;
    WaitFor([&] {
      job = GetJob(id);
      return job.value("status", "") == status;
    }, timeout);
    EXPECT_EQ(job.value("status", ""), status) << job.dump();
    return job;
  }

  // Runs `open-notebook status` against this test's server and data; returns the exit code.
  int RunStatus(std::string* output) {
    test::ServerProcess status(dir_.path() / "data", Env({{"API_PORT", std::to_string(server_->port())}}), {"status"});
    status.Spawn();
    const int code = status.WaitExit(20s);
    *output = status.log();
    return code;
  }

  test::TempDir dir_;
  std::unique_ptr<test::ServerProcess> server_;
  std::unique_ptr<test::HttpClient> client_;
};

TEST_F(JobsTest, SubmitRunAndInspect) {
  StartServer(Env());

  const std::string id = Submit({{"ms", 100}, {"result", "hello"}});
  EXPECT_EQ(id.rfind("command:", 0), 0u);
  json done = WaitForStatus(id, "completed");
  EXPECT_EQ(done["result"]["result"], "hello");
  EXPECT_EQ(done["attempts"], 1);
  EXPECT_EQ(done["progress"]["percent"], 100);
  EXPECT_TRUE(done["error_message"].is_null());
  EXPECT_FALSE(done.contains("warning"));

  const std::string flaky = Submit({{"ms", 10}, {"fail_transient", 1}});
  json retried = WaitForStatus(flaky, "completed");
  EXPECT_EQ(retried["attempts"], 2);

  const std::string broken = Submit({{"ms", 10}, {"fail_permanent", true}});
  json failed = WaitForStatus(broken, "failed");
  EXPECT_EQ(failed["attempts"], 1);
  EXPECT_EQ(failed["error_code"], "InvalidInput");
  EXPECT_NE(failed["error_message"].get<std::string>().find("fails permanently"), std::string::npos);

  auto config = client_->Get("/api/config");
  ASSERT_EQ(config.status, 200);
  EXPECT_EQ(config.Json()["worker"]["live"], 1);
  EXPECT_EQ(config.Json()["queue"]["completed"], 2);
  EXPECT_EQ(config.Json()["queue"]["failed"], 1);

  auto registry = client_->Get("/api/commands/registry/debug");
  ASSERT_EQ(registry.status, 200);
  const nlohmann::json registered = registry.Json();
  std::vector<std::string> commands;
  for (const auto& item : registered["command_items"]) commands.push_back(item["full_id"]);
  EXPECT_EQ(commands, (std::vector<std::string>{"debug.sleep", "open_notebook.embed_insight", "open_notebook.embed_note",
                                                "open_notebook.embed_source", "open_notebook.generate_podcast",
                                                "open_notebook.process_source", "open_notebook.rebuild_embeddings",
                                                "open_notebook.run_transformation"}));
  EXPECT_EQ(registered["total_commands"], 8);

  std::string status_output;
  EXPECT_EQ(RunStatus(&status_output), 0) << status_output;
  EXPECT_NE(status_output.find("1 live"), std::string::npos) << status_output;
}

TEST_F(JobsTest, ListFiltersAndValidation) {
  StartServer(Env());
  const std::string first = Submit({{"ms", 0}});
  WaitForStatus(first, "completed");
  const std::string second = Submit({{"ms", 0}, {"fail_permanent", true}});
  WaitForStatus(second, "failed");
  const std::string third = Submit({{"ms", 0}});
  WaitForStatus(third, "completed");

  auto all = client_->Get("/api/commands/jobs");
  ASSERT_EQ(all.status, 200);
  ASSERT_EQ(all.Json().size(), 3u);
  EXPECT_EQ(all.Json()[0]["job_id"], third);
  EXPECT_EQ(all.Json()[2]["job_id"], first);

  auto failed = client_->Get("/api/commands/jobs?command_filter=debug.sleep&status_filter=failed");
  ASSERT_EQ(failed.status, 200);
  ASSERT_EQ(failed.Json().size(), 1u);
  EXPECT_EQ(failed.Json()[0]["job_id"], second);
  EXPECT_EQ(client_->Get("/api/commands/jobs?command_filter=sleep&limit=2").Json().size(), 2u);
  EXPECT_EQ(client_->Get("/api/commands/jobs?command_filter=other").Json().size(), 0u);

  auto bad_status = client_->Get("/api/commands/jobs?status_filter=finished");
  EXPECT_EQ(bad_status.status, 400);
  EXPECT_NE(bad_status.Json()["detail"].get<std::string>().find("status_filter"), std::string::npos);
  EXPECT_EQ(client_->Get("/api/commands/jobs?limit=0").status, 422);

  auto unknown = client_->Post("/api/commands/jobs", {{"command", "summon"}, {"app", "debug"}, {"input", json::object()}});
  EXPECT_EQ(unknown.status, 400);
  const std::string detail = unknown.Json()["detail"];
  EXPECT_NE(detail.find("debug.summon"), std::string::npos) << detail;
  EXPECT_NE(detail.find("debug.sleep"), std::string::npos) << detail;
  EXPECT_EQ(client_->Post("/api/commands/jobs", {{"command", "sleep"}, {"app", "debug"}, {"input", 5}}).status, 422);
  EXPECT_EQ(client_->Post("/api/commands/jobs", {{"app", "debug"}}).status, 422);

  EXPECT_EQ(client_->Get("/api/commands/jobs/command:x;DROP").status, 400);
  EXPECT_EQ(client_->Get("/api/commands/jobs/notebook:abc").status, 400);
  EXPECT_EQ(client_->Get("/api/commands/jobs/command:doesnotexist").status, 404);
  EXPECT_EQ(client_->Delete("/api/commands/jobs/command:doesnotexist").status, 404);
}

TEST_F(JobsTest, CancelRunningAndDedupe) {
  StartServer(Env());
  const std::string id = Submit({{"ms", 30000}}, "double-click");
  EXPECT_EQ(Submit({{"ms", 30000}}, "double-click"), id);
  WaitFor([&] { return GetJob(id)["status"] == "running"; }, 10s);

  auto cancel = client_->Delete("/api/commands/jobs/" + id);
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(cancel.Json()["cancelled"], true);
  json cancelled = WaitForStatus(id, "cancelled", 5s);
  EXPECT_EQ(cancelled["error_code"], "Cancelled");

  auto again = client_->Delete("/api/commands/jobs/" + id);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.Json()["cancelled"], false);
  EXPECT_NE(Submit({{"ms", 0}}, "double-click"), id);
}

TEST_F(JobsTest, QueuedJobWarnsWithoutWorker) {
  StartServer(Env({{"OPEN_NOTEBOOK_WORKER_IN_SERVE", "false"}}));
  const std::string id = Submit({{"ms", 10}});
  std::this_thread::sleep_for(300ms);

  json job = GetJob(id);
  EXPECT_EQ(job["status"], "queued");
  ASSERT_TRUE(job.contains("warning")) << job.dump();
  EXPECT_NE(job["warning"].get<std::string>().find("No worker is running"), std::string::npos);
  EXPECT_NE(job["warning"].get<std::string>().find("open-notebook worker"), std::string::npos);
  EXPECT_EQ(client_->Get("/api/config").Json()["worker"]["live"], 0);

  std::string output;
  EXPECT_EQ(RunStatus(&output), 1) << output;
  EXPECT_NE(output.find("1 jobs are queued but no worker is running"), std::string::npos) << output;
  EXPECT_NE(output.find("open-notebook worker"), std::string::npos) << output;

  auto cancel = client_->Delete("/api/commands/jobs/" + id);
  ASSERT_EQ(cancel.status, 200);
  EXPECT_EQ(cancel.Json()["cancelled"], true);
  EXPECT_EQ(cancel.Json()["status"], "cancelled");
  EXPECT_EQ(GetJob(id)["status"], "cancelled");
}

// A worker killed with SIGKILL mid-job never releases its lease; once the lease expires another
// worker process runs the job to completion as attempt 2.
TEST_F(JobsTest, KilledWorkerJobFinishesElsewhere) {
  const auto env = Env({{"OPEN_NOTEBOOK_WORKER_IN_SERVE", "false"}, {"OPEN_NOTEBOOK_JOB_LEASE_SECONDS", "2"}});
  StartServer(env);
  test::ServerProcess first(dir_.path() / "data", env, {"worker", "--max-tasks", "1"});
  first.Spawn();
  ASSERT_TRUE(WaitFor([&] { return client_->Get("/api/config").Json()["worker"]["live"] == 1; }, 10s)) << first.log();

  const std::string id = Submit({{"ms", 2500}, {"result", "finished elsewhere"}});
  ASSERT_TRUE(WaitFor([&] { return GetJob(id)["status"] == "running"; }, 10s)) << first.log();
  first.Kill();

  test::ServerProcess second(dir_.path() / "data", env, {"worker", "--max-tasks", "1"});
  second.Spawn();
  json done = WaitForStatus(id, "completed", 20s);
  EXPECT_EQ(done["attempts"], 2) << second.log();
  EXPECT_EQ(done["result"]["result"], "finished elsewhere");
  EXPECT_NE(second.log().find("expired during attempt 1 of 3"), std::string::npos) << second.log();
  EXPECT_EQ(second.Stop(), 0) << second.log();
}

TEST_F(JobsTest, StatusNamesFixes) {
  test::ServerProcess migrate(dir_.path() / "data", Env(), {"migrate", "up", "--to", "1"});
  migrate.Spawn();
  ASSERT_EQ(migrate.WaitExit(20s), 0) << migrate.log();

  test::ServerProcess status(dir_.path() / "data", Env(), {"status"});
  status.Spawn();
  EXPECT_EQ(status.WaitExit(20s), 1) << status.log();
  const std::string output = status.log();
  EXPECT_NE(output.find("the API does not answer"), std::string::npos) << output;
  EXPECT_NE(output.find("open-notebook serve"), std::string::npos) << output;
  EXPECT_NE(output.find("is behind this binary"), std::string::npos) << output;
  EXPECT_NE(output.find("open-notebook migrate up"), std::string::npos) << output;
}

}  // namespace
}  // namespace on
