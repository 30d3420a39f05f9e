// Operations against the real binary: runtime settings across processes, SIGHUP, waiting for the
// database, a full database during ingestion, security headers and secrets in logs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <thread>

#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_backend.h"

namespace on {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream file(path, std::ios::trunc);
  file << text;
}

std::string IntegrityCheck(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open";
  }
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr);
  std::string verdict = sqlite3_step(stmt) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)) : "no row";
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return verdict;
}

// Waits until the process has logged `text`: info lines reach the log within about a second.
bool Logged(const test::ServerProcess& process, const std::string& text) {
  return WaitFor([&] { return process.log().find(text) != std::string::npos; }, 5s);
}

// The max_tasks that live workers report in /api/config, by worker.
std::vector<int> WorkerLimits(const test::HttpClient& client) {
  std::vector<int> limits;
  const json config = client.Get("/api/config").Json();
  if (!config.is_object() || !config["worker"].is_object()) return limits;
  for (const auto& worker : config["worker"]["workers"]) limits.push_back(worker["max_tasks"].get<int>());
  return limits;
}

TEST(RuntimeSettings, ChangeReachesSeparateWorker) {
  test::TempDir dir;
  const std::map<std::string, std::string> env = {{"OPEN_NOTEBOOK_WORKER_IN_SERVE", "false"},
                                                  {"OPEN_NOTEBOOK_WORKER_MAX_TASKS", "2"}};
  test::ServerProcess api(dir.path() / "data", env, {"api"});
  ASSERT_TRUE(api.Start()) << api.log();
  test::ServerProcess worker(dir.path() / "data", env, {"worker"});
  worker.Spawn();
  auto client = api.Client();
  ASSERT_TRUE(WaitFor([&] { return WorkerLimits(client) == std::vector<int>{2}; }, 20s)) << worker.log();
  const pid_t worker_pid = worker.pid();

  auto before = client.Get("/api/settings");
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_EQ(before.Json()["worker_max_tasks"], 2);
  EXPECT_EQ(before.Json()["log_level"], "info");
  const int64_t version = before.Json()["config_version"].get<int64_t>();

  auto changed = client.Put("/api/settings", {{"worker_max_tasks", 4}, {"retry_max_attempts", 5}, {"log_level", "debug"}});
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(changed.Json()["worker_max_tasks"], 4);
  EXPECT_EQ(changed.Json()["config_version"], version + 1);

  // The worker polls the configuration version once a second and publishes its new limit at once.
  EXPECT_TRUE(WaitFor([&] { return WorkerLimits(client) == std::vector<int>{4}; }, 10s)) << worker.log();
  EXPECT_EQ(worker.pid(), worker_pid);
  EXPECT_TRUE(worker.Running()) << "the worker applies the change without a restart";
  EXPECT_TRUE(Logged(worker, "OPEN_NOTEBOOK_WORKER_MAX_TASKS changed from '2' to '4'")) << worker.log();
  EXPECT_TRUE(Logged(worker, "OPEN_NOTEBOOK_RETRY_MAX_ATTEMPTS changed from '3' to '5'")) << worker.log();
  EXPECT_TRUE(Logged(worker, "OPEN_NOTEBOOK_LOG_LEVEL changed from 'info' to 'debug'")) << worker.log();

  const json config = client.Get("/api/config").Json();
  EXPECT_EQ(config["configVersion"], version + 1);
  EXPECT_EQ(config["settings"]["OPEN_NOTEBOOK_WORKER_MAX_TASKS"], 4);
  EXPECT_EQ(config["settings"]["OPEN_NOTEBOOK_LOG_LEVEL"], "debug");

  // Jobs submitted from now on get the new retry policy.
  auto source = client.PostForm("/api/sources", {{"type", "text"}, {"content", "Retry policy check."}});
  ASSERT_EQ(source.status, 200) << source.body;
  const std::string job_id = source.Json()["command_id"];
  auto job = client.Get("/api/commands/jobs/" + job_id);
  ASSERT_EQ(job.status, 200) << job.body;
  EXPECT_EQ(job.Json()["max_attempts"], 5) << job.body;

  // null returns a setting to the environment's value.
  auto reset = client.Put("/api/settings", {{"worker_max_tasks", nullptr}});
  ASSERT_EQ(reset.status, 200) << reset.body;
  EXPECT_EQ(reset.Json()["worker_max_tasks"], 2);
  EXPECT_TRUE(WaitFor([&] { return WorkerLimits(client) == std::vector<int>{2}; }, 10s)) << worker.log();

  EXPECT_EQ(worker.Stop(), 0) << worker.log();
  EXPECT_EQ(api.Stop(), 0) << api.log();
}

TEST(RuntimeSettings, BadValuesRejectedAndNothingChanged) {
  test::TempDir dir;
  test::ServerProcess server(dir.path() / "data");
  ASSERT_TRUE(server.Start()) << server.log();
  auto client = server.Client();
  const json before = client.Get("/api/settings").Json();

  struct Case {
    json body;
    std::vector<std::string> expected;  // parts of the detail
  };
  const std::vector<Case> cases = {
      {{{"worker_max_tasks", 0}}, {"'0'", "from 1 to 256"}},
      {{{"worker_max_tasks", "3"}}, {"worker_max_tasks", "integer"}},
      {{{"log_level", "loud"}}, {"'loud'", "trace|debug|info|warn|error"}},
      {{{"default_embedding_option", "sometimes"}}, {"'sometimes'", "ask|always|never"}},
      {{{"chunk_overlap", 500}}, {"OPEN_NOTEBOOK_CHUNK_OVERLAP=500", "smaller than OPEN_NOTEBOOK_CHUNK_SIZE=400"}},
      {{{"retry_wait_min_s", 60}, {"retry_wait_max_s", 10}}, {"OPEN_NOTEBOOK_RETRY_WAIT_MIN=60", "raise the maximum"}},
      {{{"api_port", 80}}, {"'api_port' is not a setting that can be changed at run time", "worker_max_tasks"}},
      {{{"log_level", "debug"}, {"worker_max_tasks", 1000}}, {"'1000'"}},
  };
  for (const auto& test_case : cases) {
    auto response = client.Put("/api/settings", test_case.body);
    EXPECT_EQ(response.status, 400) << test_case.body.dump() << " -> " << response.body;
    const std::string detail = response.Json().value("detail", "");
    for (const auto& part : test_case.expected) {
      EXPECT_NE(detail.find(part), std::string::npos) << test_case.body.dump() << " -> " << detail;
    }
  }

  EXPECT_EQ(client.Get("/api/settings").Json(), before) << "a rejected change must change nothing";
  auto stale = client.Put("/api/settings", {{"log_level", "warn"}, {"config_version", before["config_version"].get<int64_t>() + 7}});
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(client.Get("/api/settings").Json()["log_level"], "info");
  EXPECT_EQ(server.Stop(), 0);
}

TEST(RuntimeSettings, DefaultEmbeddingOptionAppliesToNewSources) {
  test::TempDir dir;
  test::ServerProcess server(dir.path() / "data");
  ASSERT_TRUE(server.Start()) << server.log();
  auto client = server.Client();
  // Returns the result of the source's processing job, which records whether embedding was requested.
  auto process = [&](std::vector<test::HttpClient::FormField> fields) {
    fields.push_back({"type", "text"});
    fields.push_back({"content", "Embedding option check."});
    fields.push_back({"async_processing", "false"});
    auto created = client.PostForm("/api/sources", fields);
    EXPECT_EQ(created.status, 200) << created.body;
    return client.Get("/api/commands/jobs/" + created.Json()["command_id"].get<std::string>()).Json()["result"];
  };
  const std::string skipped = "skipped: no default embedding model is configured";
  EXPECT_FALSE(process({}).contains("embedding")) << "ask: sources are not embedded unless the request says so";

  ASSERT_EQ(client.Put("/api/settings", {{"default_embedding_option", "always"}}).status, 200);
  const json implicit = process({});
  const json explicit_off = process({{"embed", "false"}});
  EXPECT_EQ(implicit.value("embedding", ""), skipped) << implicit.dump();
  EXPECT_FALSE(explicit_off.contains("embedding")) << "an explicit value wins over the default: " << explicit_off.dump();
  EXPECT_EQ(server.Stop(), 0);
}

TEST(RuntimeSettings, SighupRereadsEnvFile) {
  test::TempDir dir;
  const auto env_file = dir.path() / "open-notebook.env";
  const std::string password = "hup-password-5f1c";
  WriteFile(env_file, "# settings\nOPEN_NOTEBOOK_LOG_LEVEL=info\nexport OPEN_NOTEBOOK_CHUNK_SIZE=\"500\"\n"
                      "OPEN_NOTEBOOK_PASSWORD='" + password + "'\n");
  test::ServerProcess server(dir.path() / "data", {{"OPEN_NOTEBOOK_ENV_FILE", env_file.string()}});
  ASSERT_TRUE(server.Start()) << server.log();
  auto client = server.Client();
  EXPECT_EQ(client.Get("/api/notebooks").status, 401) << "the password comes from the file";
  EXPECT_EQ(client.Get("/api/config").Json()["settings"]["OPEN_NOTEBOOK_CHUNK_SIZE"], 500);

  const std::string new_password = "hup-password-9d2e";
  WriteFile(env_file, "OPEN_NOTEBOOK_LOG_LEVEL=debug\nOPEN_NOTEBOOK_CHUNK_SIZE=600\nOPEN_NOTEBOOK_HANDLER_THREADS=3\n"
                      "OPEN_NOTEBOOK_PASSWORD=" + new_password + "\n");
  ASSERT_EQ(kill(server.pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitFor([&] {
    return client.Get("/api/config").Json()["settings"]["OPEN_NOTEBOOK_LOG_LEVEL"] == "debug";
  }, 10s)) << server.log();
  json settings = client.Get("/api/config").Json()["settings"];
  EXPECT_EQ(settings["OPEN_NOTEBOOK_CHUNK_SIZE"], 600);
  EXPECT_EQ(settings["OPEN_NOTEBOOK_HANDLER_THREADS"], 8) << "not reloadable: needs a restart";
  EXPECT_TRUE(Logged(server, "OPEN_NOTEBOOK_LOG_LEVEL changed from 'info' to 'debug'")) << server.log();
  EXPECT_TRUE(Logged(server, "OPEN_NOTEBOOK_CHUNK_SIZE changed from '500' to '600'")) << server.log();
  EXPECT_TRUE(Logged(server, "OPEN_NOTEBOOK_HANDLER_THREADS changed in")) << server.log();
  EXPECT_TRUE(Logged(server, "OPEN_NOTEBOOK_PASSWORD changed in")) << server.log();
  EXPECT_TRUE(Logged(server, "restart the process to apply it")) << server.log();
  client.set_password(password);
  EXPECT_EQ(client.Get("/api/notebooks").status, 200) << "the password is not reloadable";

  // A broken file changes nothing, and the server keeps running.
  WriteFile(env_file, "OPEN_NOTEBOOK_LOG_LEVEL=warn\nOPEN_NOTEBOOK_CHUNK_SIZE=many\n");
  ASSERT_EQ(kill(server.pid(), SIGHUP), 0);
  EXPECT_TRUE(Logged(server, "failed: OPEN_NOTEBOOK_CHUNK_SIZE='many'")) << server.log();
  settings = client.Get("/api/config").Json()["settings"];
  EXPECT_EQ(settings["OPEN_NOTEBOOK_LOG_LEVEL"], "debug");
  EXPECT_EQ(settings["OPEN_NOTEBOOK_CHUNK_SIZE"], 600);
  EXPECT_TRUE(server.Running());

  EXPECT_EQ(server.Stop(), 0);
  const std::string log = server.log();
  EXPECT_EQ(log.find(password), std::string::npos) << "secrets from the file must never be logged";
  EXPECT_EQ(log.find(new_password), std::string::npos) << "secrets from the file must never be logged";
}

TEST(DatabaseWait, ApiWaitsForMissingVolume) {
  test::TempDir dir;
  const auto volume = dir.path() / "volume";
  const auto data = volume / "data";
  test::ServerProcess server(dir.path() / "unused", {{"OPEN_NOTEBOOK_DATA_DIR", data.string()}});
  server.Spawn();
  auto client = server.Client();

  test::HttpResult health;
  ASSERT_TRUE(WaitFor([&] {
    health = client.Get("/health");
    return health.status == 503;
  }, 20s)) << server.log();
  const std::string detail = health.Json().value("detail", "");
  EXPECT_NE(detail.find("waiting for the database"), std::string::npos) << detail;
  EXPECT_NE(detail.find(volume.string()), std::string::npos) << detail;
  EXPECT_NE(detail.find("mount the data volume"), std::string::npos) << detail;
  EXPECT_EQ(client.Get("/api/notebooks").status, 503);

  // Still waiting after several attempts, without exiting or creating the missing directories.
  std::this_thread::sleep_for(3s);
  EXPECT_TRUE(server.Running()) << server.log();
  EXPECT_FALSE(std::filesystem::exists(volume));
  EXPECT_EQ(client.Get("/health").status, 503);

  std::filesystem::create_directories(volume);
  EXPECT_TRUE(WaitFor([&] { return client.Get("/health").status == 200; }, 15s)) << server.log();
  EXPECT_EQ(client.Post("/api/notebooks", {{"name", "after the mount"}}).status, 200);
  if (!test::TestBackendIsPostgres()) {
    EXPECT_TRUE(std::filesystem::exists(data / "open-notebook.db"));
  }
  EXPECT_EQ(server.Stop(), 0) << server.log();
}

TEST(DatabaseWait, ApiWaitsForRestoreToFinish) {
  test::TempDir dir;
  const auto data = dir.path() / "data";
  std::filesystem::create_directories(data);
  // The lock that `backup restore` takes while it replaces the data directory.
  const int lock = open((data / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(flock(lock, LOCK_EX | LOCK_NB), 0);

  test::ServerProcess server(data);
  server.Spawn();
  auto client = server.Client();
  test::HttpResult health;
  ASSERT_TRUE(WaitFor([&] {
    health = client.Get("/health");
    return health.status == 503 && health.body.find("backup restore") != std::string::npos;
  }, 20s)) << health.body << server.log();
  EXPECT_NE(health.Json().value("detail", "").find("waiting for the database"), std::string::npos);

  flock(lock, LOCK_UN);
  close(lock);
  EXPECT_TRUE(WaitFor([&] { return client.Get("/health").status == 200; }, 15s)) << server.log();
  EXPECT_EQ(server.Stop(), 0) << server.log();
}

TEST(DiskFull, IngestionFailsAndDatabaseStaysIntact) {
  ON_SKIP_UNLESS_SQLITE_BACKEND();  // fills the SQLite file up to its size limit
  test::TempDir dir;
  const auto data = dir.path() / "data";
  // A database size limit replaces a full disk here, because SQLite fails the write with SQLITE_FULL
  // in both cases.
  test::ServerProcess server(data, {{"OPEN_NOTEBOOK_DB_MAX_SIZE_MB", "2"}});
  ASSERT_TRUE(server.Start()) << server.log();
  auto client = server.Client();

  auto first = client.PostForm("/api/sources", {{"type", "text"},
                                                {"content", "The lighthouse keeper logs the zephyrine beacon."},
                                                {"async_processing", "false"}});
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(first.Json()["status"], "completed") << first.body;

  // About 3 MiB of distinct words: its text, chunks and index entries cannot fit in 2 MiB.
  std::string big;
  for (int i = 0; big.size() < (3u << 20); ++i) big += "paragraph" + std::to_string(i) + " word" + std::to_string(i * 7) + ". ";
  auto second = client.PostForm("/api/sources", {{"type", "upload"},
                                                 {"file", big, "large.txt", "", "text/plain"},
                                                 {"async_processing", "true"}});
  ASSERT_EQ(second.status, 200) << second.body.substr(0, 500);
  const std::string status_path = "/api/sources/" + second.Json()["id"].get<std::string>() + "/status";
  json failed;
  EXPECT_TRUE(WaitFor([&] {
    failed = client.Get(status_path).Json();
    return failed.value("status", "") == "failed";
  }, 30s)) << failed.dump();
  const std::string message = failed.dump();
  EXPECT_NE(message.find("is full"), std::string::npos) << message;
  EXPECT_NE(message.find(data.string()), std::string::npos) << "the error names the disk: " << message;
  EXPECT_NE(message.find("df -h"), std::string::npos) << "the error names the fix: " << message;

  EXPECT_EQ(IntegrityCheck(data / "open-notebook.db"), "ok");
  auto search = client.Post("/api/search", {{"query", "zephyrine"}, {"type", "text"}});
  ASSERT_EQ(search.status, 200) << search.body;
  ASSERT_EQ(search.Json()["results"].size(), 1u) << search.body;
  EXPECT_EQ(search.Json()["results"][0]["id"], first.Json()["id"]);
  EXPECT_EQ(client.Post("/api/notebooks", {{"name", "still writable"}}).status, 200)
      << "small writes go on after the failed one was rolled back";
  EXPECT_EQ(server.Stop(), 0) << server.log();
  EXPECT_EQ(IntegrityCheck(data / "open-notebook.db"), "ok");
}

TEST(Hardening, SecurityHeadersOnEveryResponse) {
  test::TempDir dir;
  test::ServerProcess server(dir.path() / "data", {{"OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB", "1"}});
  ASSERT_TRUE(server.Start()) << server.log();
  auto client = server.Client();
  EXPECT_TRUE(Logged(server, "listening on 127.0.0.1:")) << "loopback is the default address: " << server.log();

  const std::vector<std::pair<std::string, test::HttpResult>> responses = {
      {"health", client.Get("/health")},
      {"not found", client.Get("/api/notebooks/notebook:missing")},
      {"no route", client.Get("/no/such/route")},
      {"invalid body", client.Send("POST", "/api/notebooks", "{", {{"Content-Type", "application/json"}})},
      {"metrics", client.Get("/metrics")},
      {"too large", client.Send("POST", "/api/notebooks", std::string(2u << 20, 'x'),
                                {{"Content-Type", "application/json"}})},
  };
  for (const auto& [name, response] : responses) {
    ASSERT_NE(response.status, 0) << name << ": " << response.error;
    EXPECT_EQ(response.Header("x-content-type-options"), "nosniff") << name;
    EXPECT_EQ(response.Header("x-frame-options"), "DENY") << name;
    EXPECT_EQ(response.Header("referrer-policy"), "no-referrer") << name;
    EXPECT_NE(response.Header("content-security-policy").find("frame-ancestors 'none'"), std::string::npos) << name;
  }
  const auto& metrics = responses[4].second;
  EXPECT_NE(metrics.Header("content-security-policy").find("script-src 'self'"), std::string::npos)
      << "non-JSON responses get the UI policy: " << metrics.Header("content-security-policy");
  EXPECT_EQ(responses[0].second.Header("content-security-policy"), "default-src 'none'; frame-ancestors 'none'");
  EXPECT_EQ(server.Stop(), 0);
}

TEST(Hardening, LogsContainNoSecrets) {
  test::TempDir dir;
  const std::string password = "pw-7c41e9-never-logged";
  const std::string encryption_key = "key-0b9d77-never-logged";
  const std::string api_key = "sk-test-3f8a2c-never-logged";
  test::ServerProcess server(dir.path() / "data", {{"OPEN_NOTEBOOK_PASSWORD", password},
                                                   {"OPEN_NOTEBOOK_ENCRYPTION_KEY", encryption_key},
                                                   {"OPEN_NOTEBOOK_LOG_LEVEL", "trace"}});
  ASSERT_TRUE(server.Start()) << server.log();
  auto client = server.Client();
  client.set_password(password);

  auto credential = client.Post("/api/credentials", {{"name", "OpenAI"}, {"provider", "openai"}, {"api_key", api_key}});
  ASSERT_EQ(credential.status, 201) << credential.body;
  const std::string id = credential.Json()["id"];
  EXPECT_EQ(client.Get("/api/credentials/" + id).body.find(api_key), std::string::npos);
  EXPECT_EQ(client.Put("/api/credentials/" + id, {{"api_key", api_key + "-rotated"}}).status, 200);
  // A malformed request with the key in it, a wrong password, and a settings change.
  (void)client.Post("/api/credentials", {{"name", "Bad"}, {"provider", "no-such-provider"}, {"api_key", api_key}});
  test::HttpClient anonymous = server.Client();
  (void)anonymous.Send("GET", "/api/notebooks", "", {{"Authorization", "Bearer " + password + "x"}});
  EXPECT_EQ(client.Put("/api/settings", {{"log_level", "debug"}}).status, 200);
  ASSERT_EQ(kill(server.pid(), SIGHUP), 0);
  std::this_thread::sleep_for(500ms);

  EXPECT_EQ(server.Stop(), 0);
  const std::string log = server.log();
  EXPECT_FALSE(log.empty());
  EXPECT_EQ(log.find(password), std::string::npos) << log;
  EXPECT_EQ(log.find(encryption_key), std::string::npos) << log;
  EXPECT_EQ(log.find(api_key), std::string::npos) << log;
}

}  // namespace
}  // namespace on
