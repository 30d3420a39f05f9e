// GET /metrics and the data disk check of `open-notebook status`, against the real binary.
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "support/prometheus_text.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace on {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using Labels = std::map<std::string, std::string>;

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

class MetricsTest : public ::testing::Test {
 protected:
  void StartServer(std::map<std::string, std::string> env = {}) {
    env["OPEN_NOTEBOOK_ENABLE_TEST_COMMANDS"] = "true";
    env["OPEN_NOTEBOOK_WORKER_POLL_MS"] = "50";
    server_ = std::make_unique<test::ServerProcess>(dir_.path() / "data", env);
    const bool started = server_->Start();
    client_ = std::make_unique<test::HttpClient>(server_->Client());  // valid even when the start failed
    ASSERT_TRUE(started) << server_->log();
  }

  void TearDown() override {
    if (server_ && server_->Running()) {
      EXPECT_EQ(server_->Stop(), 0) << server_->log();
    }
  }

  // Scrapes /metrics and parses it strictly. `text` receives the body.
  test::PromText Scrape(std::string* text = nullptr) {
    auto response = client_->Get("/metrics");
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    std::vector<std::string> errors;
    test::PromText parsed = test::ParsePromText(response.body, &errors);
    for (const auto& error : errors) ADD_FAILURE() << error;
    if (text != nullptr) *text = response.body;
    return parsed;
  }

  int RunStatus(std::map<std::string, std::string> env, std::string* output) {
    env["API_PORT"] = std::to_string(server_->port());
    test::ServerProcess status(dir_.path() / "data", env, {"status"});
    status.Spawn();
    const int code = status.WaitExit(20s);
    *output = status.log();
    return code;
  }

  test::TempDir dir_;
  std::unique_ptr<test::ServerProcess> server_;
  std::unique_ptr<test::HttpClient> client_;
};

double Delta(const test::PromText& before, const test::PromText& after, const std::string& name, const Labels& labels) {
  return after.Sum(name, labels) - before.Sum(name, labels);
}

TEST_F(MetricsTest, CountsRequestsByRoutePattern) {
  StartServer();
  const test::PromText before = Scrape();
  EXPECT_EQ(before.Value("open_notebook_ready"), 1);

  auto created = client_->Post("/api/notebooks", {{"name", "Metrics"}});
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = created.Json()["id"];
  EXPECT_EQ(client_->Get("/api/notebooks/" + id).status, 200);
  EXPECT_EQ(client_->Get("/api/notebooks/" + id + "?cachebuster=123").status, 200);
  EXPECT_EQ(client_->Get("/api/notebooks/notebook:missing4242").status, 404);
  EXPECT_EQ(client_->Post("/api/notebooks", json::array({1, 2})).status, 422);
  EXPECT_EQ(client_->Get("/no/such/path/secret-segment").status, 404);
  // The HTTP parser rejects a method it does not know, so the request is counted as unmatched.
  const auto brew = client_->Send("BREW", "/api/notebooks");
  EXPECT_EQ(brew.status, 400) << brew.body << brew.error;
  const auto patch = client_->Send("PATCH", "/api/notebooks");
  EXPECT_EQ(patch.status, 405) << patch.body << patch.error;

  std::string text;
  const test::PromText after = Scrape(&text);
  const std::string requests = "open_notebook_http_requests_total";
  const std::string pattern = "/api/notebooks/{notebook_id}";
  EXPECT_EQ(Delta(before, after, requests, {{"route", pattern}, {"method", "GET"}, {"status", "200"}}), 2) << text;
  EXPECT_EQ(Delta(before, after, requests, {{"route", pattern}, {"method", "GET"}, {"status", "404"}}), 1) << text;
  EXPECT_EQ(Delta(before, after, requests, {{"route", "/api/notebooks"}, {"method", "POST"}, {"status", "200"}}), 1);
  EXPECT_EQ(Delta(before, after, requests, {{"route", "/api/notebooks"}, {"method", "POST"}, {"status", "422"}}), 1);
  EXPECT_EQ(Delta(before, after, requests, {{"route", "unmatched"}, {"method", "GET"}, {"status", "404"}}), 1);
  EXPECT_EQ(Delta(before, after, requests, {{"route", "unmatched"}, {"method", "other"}, {"status", "400"}}), 1);
  EXPECT_EQ(Delta(before, after, requests, {{"route", "/api/notebooks"}, {"method", "PATCH"}, {"status", "405"}}), 1);
  // The first scrape is counted once it has been answered.
  EXPECT_EQ(Delta(before, after, requests, {{"route", "/metrics"}, {"method", "GET"}, {"status", "200"}}), 1);
  EXPECT_EQ(Delta(before, after, "open_notebook_http_request_duration_seconds_count", {{"route", pattern}, {"method", "GET"}}),
            3);

  // Raw paths, ids and query strings never become label values.
  for (const std::string& raw : {id, std::string("missing4242"), std::string("secret-segment"),
                                 std::string("cachebuster"), std::string("BREW")}) {
    EXPECT_EQ(text.find(raw), std::string::npos) << raw << " appears in\n" << text;
  }
  for (const auto& sample : after.samples) {
    auto route = sample.labels.find("route");
    if (route == sample.labels.end()) continue;
    EXPECT_TRUE(route->second == "unmatched" || route->second.find(':') == std::string::npos) << route->second;
  }

  for (const char* name : {"process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds",
                           "open_notebook_data_dir_free_bytes", "open_notebook_build_info"}) {
    EXPECT_TRUE(after.families.count(name)) << name << " missing from\n" << text;
  }
}

TEST_F(MetricsTest, ReportsJobsAndDatabaseTime) {
  StartServer();
  auto submitted = client_->Post("/api/commands/jobs", {{"command", "sleep"}, {"app", "debug"}, {"input", {{"ms", 10}}}});
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  const std::string job = submitted.Json()["job_id"];
  ASSERT_TRUE(WaitFor([&] { return client_->Get("/api/commands/jobs/" + job).Json().value("status", "") == "completed"; },
                      20s));
  auto search = client_->Post("/api/search", {{"query", "anything"}, {"type", "text"}});
  EXPECT_EQ(search.status, 200) << search.body;

  std::string text;
  const test::PromText scraped = Scrape(&text);
  EXPECT_EQ(scraped.Value("open_notebook_jobs", {{"state", "completed"}}), 1) << text;
  EXPECT_EQ(scraped.Value("open_notebook_jobs", {{"state", "queued"}}), 0) << text;
  EXPECT_EQ(scraped.Value("open_notebook_job_queue_depth"), 0) << text;
  EXPECT_EQ(scraped.Value("open_notebook_job_duration_seconds_count", {{"command", "debug.sleep"}, {"outcome", "completed"}}),
            1)
      << text;
  EXPECT_EQ(scraped.Value("open_notebook_workers_live"), 1) << text;
  EXPECT_GE(scraped.Value("open_notebook_worker_heartbeat_age_seconds").value_or(-1), 0) << text;
  EXPECT_GE(scraped.Value("open_notebook_db_statement_duration_seconds_count", {{"operation", "job_claim"}}).value_or(0), 1)
      << text;
  EXPECT_GE(scraped.Value("open_notebook_db_statement_duration_seconds_count", {{"operation", "search"}}).value_or(0), 1)
      << text;
  // The provider families exist before any provider is called, so dashboards find them.
  EXPECT_EQ(scraped.families.at("open_notebook_provider_requests_total").type, "counter");
  EXPECT_EQ(scraped.families.at("open_notebook_provider_request_duration_seconds").type, "histogram");
}

TEST_F(MetricsTest, PasswordProtectsMetrics) {
  StartServer({{"OPEN_NOTEBOOK_PASSWORD", "metrics-secret"}});
  auto rejected = client_->Get("/metrics");
  EXPECT_EQ(rejected.status, 401) << rejected.body;
  EXPECT_EQ(rejected.Header("www-authenticate"), "Bearer");
  client_->set_password("metrics-secret");
  std::string text;
  const test::PromText scraped = Scrape(&text);
  EXPECT_EQ(scraped.Value("open_notebook_http_requests_total", {{"route", "/metrics"}, {"status", "401"}}), 1) << text;
  EXPECT_EQ(text.find("metrics-secret"), std::string::npos);
  EXPECT_EQ(server_->Stop(), 0) << server_->log();

  StartServer({{"OPEN_NOTEBOOK_PASSWORD", "metrics-secret"}, {"OPEN_NOTEBOOK_METRICS_PUBLIC", "true"}});
  EXPECT_EQ(client_->Get("/metrics").status, 200);
  EXPECT_EQ(client_->Get("/api/notebooks").status, 401) << "only /metrics becomes public";
}

TEST_F(MetricsTest, StatusReportsLowDataDisk) {
  StartServer();
  std::string output;
  EXPECT_EQ(RunStatus({}, &output), 0) << output;
  EXPECT_NE(output.find("disk       ok"), std::string::npos) << output;

  // A threshold above any real disk's free space forces the finding without filling a disk.
  EXPECT_EQ(RunStatus({{"OPEN_NOTEBOOK_TEST_DISK_WARN_BYTES", "18000000000000000000"}}, &output), 2) << output;
  EXPECT_NE(output.find("disk       LOW"), std::string::npos) << output;
  EXPECT_NE(output.find("WARNING: the data disk is running low"), std::string::npos) << output;
  EXPECT_NE(output.find("fix: free space on that disk"), std::string::npos) << output;
  EXPECT_EQ(output.find("PROBLEM:"), std::string::npos) << output;

  EXPECT_EQ(RunStatus({{"OPEN_NOTEBOOK_TEST_DISK_ERROR_BYTES", "18000000000000000000"}}, &output), 1) << output;
  EXPECT_NE(output.find("disk       FULL"), std::string::npos) << output;
  EXPECT_NE(output.find("PROBLEM: the data disk is nearly full"), std::string::npos) << output;
  EXPECT_NE(output.find("OPEN_NOTEBOOK_DATA_DIR"), std::string::npos) << output;
}

}  // namespace
}  // namespace on
