// The supervised-deployment drill. `make start-all` runs the API, the worker and the web UI under
// Debian's supervisord, and nginx serves deploy/nginx/open-notebook.conf with TLS in front of the
// UI (this test's ports and a self-signed certificate). nginx returns the UI's pages, and a
// document is uploaded and searched over HTTPS through the UI's /api forwarding. The worker is
// killed with SIGKILL while it runs a job, and supervisord starts it again. The interrupted job and
// a job queued meanwhile complete. The UI is killed too and comes back, and `make stop-all` stops
// every process. Everything listens on 127.0.0.1 only.
#include <curl/curl.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/http_client.h"
#include "support/temp_dir.h"
#include "support/test_backend.h"

extern char** environ;

namespace on {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Returns the full path of `program` found in PATH or the sbin directories, else "".
std::string FindProgram(const std::string& program) {
  std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/local/sbin";
  std::stringstream directories(path);
  std::string directory;
  while (std::getline(directories, directory, ':')) {
    if (directory.empty()) continue;
    const fs::path candidate = fs::path(directory) / program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

void WriteFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return condition();
}

// The state supervisorctl prints for `program` ("RUNNING", "BACKOFF", ...), or "" when absent.
std::string ProgramState(const std::string& output, const std::string& program) {
  std::stringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::stringstream words(line);
    std::string name, state;
    words >> name >> state;
    if (name == program) return state;
  }
  return "";
}

bool ProcessAlive(pid_t pid) { return pid > 0 && kill(pid, 0) == 0; }

// Starts `argv` with `env` (NAME=value entries), stdout and stderr going to `log`. Returns the
// child's pid, or -1.
pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, const fs::path& log) {
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return error == 0 ? pid : -1;
}

// Waits up to `timeout` for `pid` to exit; returns its exit code, 128 + signal, or -1 on timeout.
int WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (done < 0 || std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(50ms);
  }
}

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

// Runs a command to completion (at most `timeout`, then SIGKILL) and returns its exit code and
// combined output.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env, const fs::path& log,
                  std::chrono::milliseconds timeout = 180s) {
  fs::remove(log);
  CommandResult result;
  const pid_t pid = Spawn(argv, env, log);
  if (pid < 0) {
    result.output = "could not start " + argv[0];
    return result;
  }
  result.exit_code = WaitExit(pid, timeout);
  if (result.exit_code == -1) {
    kill(pid, SIGKILL);
    WaitExit(pid, 10s);
  }
  result.output = ReadFile(log);
  return result;
}

// Replaces the one occurrence of `from` in `text`; false when it is missing.
bool ReplaceOnce(std::string& text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at == std::string::npos) return false;
  text.replace(at, from.size(), to);
  return true;
}

size_t AppendToString(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

struct HttpsResult {
  long status = 0;  // 0 when no response arrived
  std::string body;
  std::string location;
  std::string error;
  json Json() const { return json::parse(body, nullptr, false); }
};

// A libcurl client that trusts only the test's self-signed certificate, as a browser would trust
// a real one: the certificate and the host name (127.0.0.1) are verified.
class HttpsClient {
 public:
  HttpsClient(std::string base_url, fs::path ca_file) : base_url_(std::move(base_url)), ca_file_(std::move(ca_file)) {}

  HttpsResult Get(const std::string& target) const { return Send("GET", target, {}, ""); }

  HttpsResult PostJson(const std::string& target, const json& body) const { return Send("POST", target, {}, body.dump()); }

  // POSTs multipart/form-data: `fields` as text parts, and `file` (when not empty) as the part "file".
  HttpsResult PostForm(const std::string& target, const std::map<std::string, std::string>& fields,
                       const fs::path& file = {}) const {
    return Send("POST", target, [&](CURL* curl) {
      curl_mime* mime = curl_mime_init(curl);
      for (const auto& [name, value] : fields) {
        curl_mimepart* part = curl_mime_addpart(mime);
        curl_mime_name(part, name.c_str());
        curl_mime_data(part, value.c_str(), CURL_ZERO_TERMINATED);
      }
      if (!file.empty()) {
        curl_mimepart* part = curl_mime_addpart(mime);
        curl_mime_name(part, "file");
        curl_mime_filedata(part, file.c_str());
        curl_mime_type(part, "text/plain");
      }
      return mime;
    }, "");
  }

  static HttpsResult GetPlain(const std::string& url) {
    HttpsClient client(url, {});
    return client.Send("GET", "", {}, "");
  }

 private:
  // Sends a request: multipart when `make_mime` is set, else a JSON body for POST.
  HttpsResult Send(const std::string& method, const std::string& target,
                   const std::function<curl_mime*(CURL*)>& make_mime, const std::string& json_body) const {
    HttpsResult result;
    CURL* curl = curl_easy_init();
    if (curl == nullptr) {
      result.error = "curl_easy_init failed";
      return result;
    }
    char error[CURL_ERROR_SIZE] = {};
    const std::string url = base_url_ + target;
    curl_slist* headers = nullptr;
    curl_mime* mime = make_mime ? make_mime(curl) : nullptr;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendToString);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
    if (!ca_file_.empty()) {
      curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file_.c_str());
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (mime != nullptr) {
      curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
    } else if (method == "POST") {
      headers = curl_slist_append(headers, "Content-Type: application/json");
      curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json_body.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(json_body.size()));
    }
    const CURLcode code = curl_easy_perform(curl);
    if (code == CURLE_OK) {
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
      char* location = nullptr;
      if (curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location != nullptr) {
        result.location = location;
      }
    } else {
      result.error = error[0] != '\0' ? error : curl_easy_strerror(code);
    }
    curl_slist_free_all(headers);
    curl_mime_free(mime);
    curl_easy_cleanup(curl);
    return result;
  }

  std::string base_url_;
  fs::path ca_file_;
};

class Drill : public ::testing::Test {
 protected:
  void SetUp() override {
    supervisord_ = FindProgram("supervisord");
    nginx_ = FindProgram("nginx");
    if (supervisord_.empty() || FindProgram("supervisorctl").empty() || nginx_.empty()) {
      GTEST_SKIP() << "the drill needs Debian's supervisor and nginx (nginx-light): run scripts/install-deps.sh";
    }
    openssl_ = FindProgram("openssl");
    make_ = FindProgram("make");
    ASSERT_FALSE(openssl_.empty()) << "openssl is missing; it comes with ca-certificates";
    ASSERT_FALSE(make_.empty()) << "make is missing; it comes with build-essential";

    const std::vector<uint16_t> ports = test::FreePorts(4);
    api_port_ = ports[0];
    ui_port_ = ports[1];
    https_port_ = ports[2];
    http_port_ = ports[3];
    data_dir_ = dir_.path() / "data";
    run_dir_ = dir_.path() / "run";
    nginx_dir_ = dir_.path() / "nginx";
    fs::create_directories(nginx_dir_ / "temp");

    // A UI directory of the test's own, so the pages checked here do not depend on the Vite build
    // and their content proves that the UI server returned them.
    web_dir_ = dir_.path() / "web";
    fs::create_directories(web_dir_ / "assets");
    WriteFile(web_dir_ / "index.html",
              "<!doctype html><title>drill</title><div id=\"root\">drill-ui-index</div>"
              "<script type=\"module\" src=\"/assets/app-3f9a2c.js\"></script>\n");
    WriteFile(web_dir_ / "assets/app-3f9a2c.js", "console.log('drill-ui-script');\n");
  }

  void TearDown() override {
    // After a failure part-way, stop whatever still runs; each step is a no-op otherwise.
    if (supervisor_started_) Make("stop-all");
    if (nginx_pid_ > 0) StopNginx();
  }

  // Environment of make and, through supervisord, of the API, the worker and the UI.
  std::vector<std::string> Environment() const {
    std::vector<std::string> env = {
        std::string("PATH=") + (std::getenv("PATH") != nullptr ? std::getenv("PATH") : "/usr/bin:/bin"),
        "HOME=" + dir_.path().string(),
        "OPEN_NOTEBOOK_ENABLE_TEST_COMMANDS=true",
        // A killed worker's job goes back to the queue once its lease expires.
        "OPEN_NOTEBOOK_JOB_LEASE_SECONDS=3",
        "OPEN_NOTEBOOK_WORKER_POLL_MS=100",
        "OPEN_NOTEBOOK_RETRY_WAIT_MIN=0",
        "OPEN_NOTEBOOK_RETRY_WAIT_MAX=1",
        "OPEN_NOTEBOOK_WEB_DIR=" + web_dir_.string(),
    };
    for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TMPDIR"}) {
      if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
    }
    return env;
  }

  // Runs `make TARGET` in the source directory with this test's binary, ports and directories.
  CommandResult Make(const std::string& target) {
    return RunCommand({make_, "-s", "--no-print-directory", "-C", ON_SOURCE_DIR, target, std::string("ON_BIN=") + ON_BINARY_PATH,
                "DATA_DIR=" + data_dir_.string(), "RUN_DIR=" + run_dir_.string(), "API_PORT=" + std::to_string(api_port_),
                "FRONTEND_PORT=" + std::to_string(ui_port_), "START_TIMEOUT=120", "LOG_FOLLOW="},
               Environment(), dir_.path() / ("make-" + target + ".log"));
  }

  // The pid supervisord reports for `program`, or 0 when it does not run.
  pid_t ProgramPid(const std::string& program) {
    std::vector<std::string> env = Environment();
    env.push_back("ON_RUN_DIR=" + run_dir_.string());
    auto result = RunCommand({FindProgram("supervisorctl"), "-c", std::string(ON_SOURCE_DIR) + "/deploy/supervisord.conf", "pid",
                       program},
                      env, dir_.path() / "supervisorctl.log", 30s);
    return static_cast<pid_t>(std::atol(result.output.c_str()));
  }

  void MakeCertificate() {
    auto generated = RunCommand({openssl_, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                     "-keyout", (nginx_dir_ / "key.pem").string(), "-out", (nginx_dir_ / "cert.pem").string()},
                    Environment(), dir_.path() / "openssl.log", 60s);
    ASSERT_EQ(generated.exit_code, 0) << generated.output;
  }

  // Writes an nginx configuration around the shipped example, with this test's ports, certificate,
  // pid file, logs and temporary directories, and starts nginx in the foreground as this user.
  void StartNginx() {
    std::string site = ReadFile(fs::path(ON_SOURCE_DIR) / "deploy/nginx/open-notebook.conf");
    const std::vector<std::pair<std::string, std::string>> replacements = {
        {"server 127.0.0.1:8502;", "server 127.0.0.1:" + std::to_string(ui_port_) + ";"},
        {"listen 80;", "listen 127.0.0.1:" + std::to_string(http_port_) + ";"},
        {"listen [::]:80;", ""},
        {"listen 443 ssl http2;", "listen 127.0.0.1:" + std::to_string(https_port_) + " ssl http2;"},
        {"listen [::]:443 ssl http2;", ""},
        {"/etc/ssl/certs/open-notebook.pem", (nginx_dir_ / "cert.pem").string()},
        {"/etc/ssl/private/open-notebook.key", (nginx_dir_ / "key.pem").string()},
    };
    for (const auto& [from, to] : replacements) {
      ASSERT_TRUE(ReplaceOnce(site, from, to)) << "deploy/nginx/open-notebook.conf no longer contains '" << from
                                               << "'; update this test with the example";
    }
    WriteFile(nginx_dir_ / "open-notebook.conf", site);

    const fs::path temp = nginx_dir_ / "temp";
    std::string main_config;
    // The workers run as this user too; a root master would otherwise switch them to the user "nobody".
    if (getuid() == 0) {
      const passwd* user = getpwuid(getuid());
      main_config += "user " + std::string(user != nullptr ? user->pw_name : "root") + ";\n";
    }
    main_config += "worker_processes 1;\ndaemon off;\npid " + (nginx_dir_ / "nginx.pid").string() + ";\n" +
                   "error_log " + (nginx_dir_ / "error.log").string() + " info;\n" +
                   "events { worker_connections 64; }\n"
                   "http {\n"
                   "  access_log " + (nginx_dir_ / "access.log").string() + ";\n" +
                   "  client_body_temp_path " + (temp / "body").string() + ";\n" +
                   "  proxy_temp_path " + (temp / "proxy").string() + ";\n" +
                   "  fastcgi_temp_path " + (temp / "fastcgi").string() + ";\n" +
                   "  uwsgi_temp_path " + (temp / "uwsgi").string() + ";\n" +
                   "  scgi_temp_path " + (temp / "scgi").string() + ";\n" +
                   "  include " + (nginx_dir_ / "open-notebook.conf").string() + ";\n"
                   "}\n";
    WriteFile(nginx_dir_ / "nginx.conf", main_config);

    const std::vector<std::string> command = {nginx_, "-p", nginx_dir_.string(), "-c", (nginx_dir_ / "nginx.conf").string(),
                                              "-e", (nginx_dir_ / "error.log").string()};
    std::vector<std::string> check = command;
    check.push_back("-t");
    auto checked = RunCommand(check, Environment(), dir_.path() / "nginx-check.log", 30s);
    ASSERT_EQ(checked.exit_code, 0) << checked.output << ReadFile(nginx_dir_ / "error.log");

    nginx_pid_ = Spawn(command, Environment(), dir_.path() / "nginx.log");
    ASSERT_GT(nginx_pid_, 0);
    ASSERT_TRUE(WaitFor([&] { return Https().Get("/health").status != 0; }, 20s))
        << ReadFile(dir_.path() / "nginx.log") << ReadFile(nginx_dir_ / "error.log");
  }

  void StopNginx() {
    kill(nginx_pid_, SIGQUIT);
    if (WaitExit(nginx_pid_, 15s) == -1) {
      kill(nginx_pid_, SIGKILL);
      WaitExit(nginx_pid_, 5s);
    }
    nginx_pid_ = -1;
  }

  HttpsClient Https() const { return HttpsClient("https://127.0.0.1:" + std::to_string(https_port_), nginx_dir_ / "cert.pem"); }

  // Polls a job (GET /api/commands/jobs/{id}) through nginx until it reaches `status`.
  json WaitForJob(const std::string& id, const std::string& status, std::chrono::milliseconds timeout) {
    json job;
    WaitFor([&] {
      job = Https().Get("/api/commands/jobs/" + id).Json();
      return job.is_object() && job.value("status", "") == status;
    }, timeout);
    return job;
  }

  test::TempDir dir_;
  std::string supervisord_, nginx_, openssl_, make_;
  uint16_t api_port_ = 0, ui_port_ = 0, https_port_ = 0, http_port_ = 0;
  fs::path data_dir_, run_dir_, nginx_dir_, web_dir_;
  pid_t nginx_pid_ = -1;
  bool supervisor_started_ = false;
};

TEST_F(Drill, SupervisedStackThroughNginx) {
  // The make targets start the stack on its SQLite default, so a second run adds nothing.
  if (test::TestBackendIsPostgres()) GTEST_SKIP() << "the drill runs once, on SQLite";
  MakeCertificate();

  // Start-up: supervisord starts the API, then the worker, then the UI once the API is healthy;
  // start-all returns once all three run and the UI's /health returns 200.
  supervisor_started_ = true;
  auto started = Make("start-all");
  ASSERT_EQ(started.exit_code, 0) << started.output << ReadFile(run_dir_ / "logs/api.log")
                                  << ReadFile(run_dir_ / "supervisord.log");
  auto status = Make("status");
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_EQ(ProgramState(status.output, "api"), "RUNNING") << status.output;
  EXPECT_EQ(ProgramState(status.output, "worker"), "RUNNING") << status.output;
  EXPECT_EQ(ProgramState(status.output, "frontend"), "RUNNING") << status.output;
  EXPECT_NE(status.output.find("/health returned 200"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find(":" + std::to_string(ui_port_) + "/health returned 200"), std::string::npos)
      << status.output;
  EXPECT_NE(status.output.find("workers    1 live"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("Everything looks fine."), std::string::npos) << status.output;
  const pid_t api_pid = ProgramPid("api");
  const pid_t first_worker = ProgramPid("worker");
  const pid_t first_ui = ProgramPid("frontend");
  ASSERT_GT(api_pid, 0);
  ASSERT_GT(first_worker, 0);
  ASSERT_GT(first_ui, 0);

  ASSERT_NO_FATAL_FAILURE(StartNginx());
  auto health = Https().Get("/health");
  ASSERT_EQ(health.status, 200) << health.error << health.body;
  auto redirect = HttpsClient::GetPlain("http://127.0.0.1:" + std::to_string(http_port_) + "/health");
  EXPECT_EQ(redirect.status, 301) << redirect.error;
  EXPECT_EQ(redirect.location.rfind("https://", 0), 0u) << redirect.location;

  // The UI through nginx: its page, a client route that falls back to the page, a hashed asset,
  // and /config, which names no other origin, so the browser calls /api through nginx too.
  auto page = Https().Get("/");
  EXPECT_EQ(page.status, 200) << page.error;
  EXPECT_NE(page.body.find("drill-ui-index"), std::string::npos) << page.body;
  auto client_route = Https().Get("/notebooks/some-notebook");
  EXPECT_EQ(client_route.status, 200) << client_route.error;
  EXPECT_NE(client_route.body.find("drill-ui-index"), std::string::npos) << client_route.body;
  auto script = Https().Get("/assets/app-3f9a2c.js");
  EXPECT_EQ(script.status, 200) << script.error;
  EXPECT_NE(script.body.find("drill-ui-script"), std::string::npos) << script.body;
  auto config = Https().Get("/config");
  ASSERT_EQ(config.status, 200) << config.error << config.body;
  EXPECT_EQ(config.Json().value("apiUrl", "missing"), "") << config.body;
  auto notebooks = Https().Get("/api/notebooks");
  EXPECT_EQ(notebooks.status, 200) << notebooks.error << notebooks.body;
  EXPECT_TRUE(notebooks.Json().is_array()) << notebooks.body;

  // A job that runs while the worker is killed: its lease expires and the next worker runs it.
  auto submitted = Https().PostJson("/api/commands/jobs",
                                    {{"app", "debug"}, {"command", "sleep"}, {"input", {{"ms", 1500}, {"steps", 15}}}});
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  const std::string interrupted_job = submitted.Json().value("job_id", "");
  ASSERT_EQ(WaitForJob(interrupted_job, "running", 30s).value("status", ""), "running");

  ASSERT_EQ(kill(first_worker, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return !ProcessAlive(first_worker); }, 10s));

  // Queued while no worker runs: an upload larger than nginx's default 1 MB body limit, so it
  // also shows that the example's client_max_body_size lets large uploads through.
  const fs::path document = dir_.path() / "harbour-log.txt";
  {
    std::string text = "# Harbour log\n\nThe tide gauge reads quillwort at the north pier.\n\n";
    while (text.size() < 1536 * 1024) {
      text += "Boats were counted, ropes were coiled and the crane was oiled before the evening shift began. ";
    }
    WriteFile(document, text);
  }
  auto uploaded = Https().PostForm("/api/sources", {{"type", "upload"}, {"async_processing", "true"}}, document);
  ASSERT_EQ(uploaded.status, 200) << uploaded.error << uploaded.body;
  const std::string source_id = uploaded.Json().value("id", "");
  ASSERT_FALSE(source_id.empty()) << uploaded.body;

  // supervisord starts a new worker process by itself.
  pid_t second_worker = 0;
  ASSERT_TRUE(WaitFor([&] {
    second_worker = ProgramPid("worker");
    return second_worker > 0 && second_worker != first_worker;
  }, 60s)) << ReadFile(run_dir_ / "supervisord.log");
  EXPECT_NE(ReadFile(run_dir_ / "supervisord.log").find("exited: worker (terminated by SIGKILL"), std::string::npos)
      << ReadFile(run_dir_ / "supervisord.log");

  json source;
  ASSERT_TRUE(WaitFor([&] {
    source = Https().Get("/api/sources/" + source_id + "/status").Json();
    return source.is_object() && (source.value("status", "") == "completed" || source.value("status", "") == "failed");
  }, 120s)) << source.dump();
  ASSERT_EQ(source.value("status", ""), "completed") << source.dump();

  json finished = WaitForJob(interrupted_job, "completed", 60s);
  EXPECT_EQ(finished.value("status", ""), "completed") << finished.dump();
  EXPECT_GE(finished.value("attempts", 0), 2) << "the killed worker's attempt was the first";

  auto search = Https().PostJson("/api/search", {{"query", "quillwort"}, {"type", "text"}, {"minimum_score", 0}});
  ASSERT_EQ(search.status, 200) << search.body;
  const json results = search.Json()["results"];
  ASSERT_EQ(results.size(), 1u) << search.body;
  EXPECT_EQ(results[0]["id"], source_id);

  status = Make("status");
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("workers    1 live"), std::string::npos) << status.output;

  // A UI process that dies is started again, and pages answer through nginx once more.
  ASSERT_EQ(kill(first_ui, SIGKILL), 0);
  pid_t second_ui = 0;
  ASSERT_TRUE(WaitFor([&] {
    second_ui = ProgramPid("frontend");
    return second_ui > 0 && second_ui != first_ui;
  }, 60s)) << ReadFile(run_dir_ / "supervisord.log");
  HttpsResult page_again;
  ASSERT_TRUE(WaitFor([&] {
    page_again = Https().Get("/");
    return page_again.status == 200;
  }, 60s)) << page_again.status << " " << page_again.error << ReadFile(run_dir_ / "logs/frontend.log");
  EXPECT_NE(page_again.body.find("drill-ui-index"), std::string::npos) << page_again.body;

  // stop-all returns once supervisord and the three programs have exited.
  auto stopped = Make("stop-all");
  EXPECT_EQ(stopped.exit_code, 0) << stopped.output;
  supervisor_started_ = false;
  EXPECT_FALSE(ProcessAlive(api_pid));
  EXPECT_FALSE(ProcessAlive(second_worker));
  EXPECT_FALSE(ProcessAlive(second_ui));
  EXPECT_EQ(test::HttpClient(api_port_).Get("/health").status, 0) << "the API still answers";
  EXPECT_EQ(test::HttpClient(ui_port_).Get("/health").status, 0) << "the UI still answers";
  EXPECT_NE(ReadFile(run_dir_ / "logs/worker.log").find("stopping the worker"), std::string::npos);
  EXPECT_NE(Make("status").exit_code, 0) << "status fails with everything stopped";
  StopNginx();

  // clean-cache deletes only rebuildable files.
  fs::create_directories(data_dir_ / "cache");
  WriteFile(data_dir_ / "cache/entry", "x");
  fs::create_directories(data_dir_ / "vectors");
  WriteFile(data_dir_ / "vectors/index", "x");
  auto cleaned = Make("clean-cache");
  EXPECT_EQ(cleaned.exit_code, 0) << cleaned.output;
  EXPECT_FALSE(fs::exists(data_dir_ / "cache"));
  EXPECT_FALSE(fs::exists(data_dir_ / "vectors"));
  EXPECT_TRUE(fs::exists(data_dir_ / "open-notebook.db"));
  EXPECT_FALSE(fs::is_empty(data_dir_ / "uploads"));
}

}  // namespace
}  // namespace on
