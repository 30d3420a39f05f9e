#include "ops/status_command.h"

#include <curl/curl.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/timestamps.h"
#include "jobs/queue_overview.h"
#include "ops/backup_service.h"
#include "storage/database_url.h"
#include "storage/storage.h"

namespace on::ops {
namespace {

struct Problem {
  std::string what;
  std::string fix;
};

// Findings of `status`: errors make it exit 1, and warnings alone make it exit 2.
struct Findings {
  std::vector<Problem> problems;
  std::vector<Problem> warnings;
};

struct HealthCheck {
  long status = 0;  // 0 when no HTTP response arrived
  std::string body;
  std::string error;
};

size_t AppendBody(char* data, size_t size, size_t count, void* target) {
  auto* body = static_cast<std::string*>(target);
  if (body->size() < 64 * 1024) body->append(data, size * count);
  return size * count;
}

// The address a local client uses for the API: a wildcard listen address means this machine.
std::string HealthUrl(const Settings& settings) {
  std::string host = settings.api_host;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(settings.api_port) + "/health";
}

HealthCheck GetHealth(const std::string& url) {
  HealthCheck check;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    check.error = "libcurl could not start";
    return check;
  }
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 3000L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &check.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &check.status);
  } else {
    check.error = error[0] != '\0' ? error : curl_easy_strerror(code);
  }
  curl_easy_cleanup(curl);
  return check;
}

void PrintLine(const char* part, const std::string& state, const std::string& detail) {
  std::printf("  %-10s %-9s %s\n", part, state.c_str(), detail.c_str());
}

void CheckApi(const Settings& settings, std::vector<Problem>& problems) {
  const std::string url = HealthUrl(settings);
  const HealthCheck health = GetHealth(url);
  if (health.status == 200) {
    PrintLine("api", "ok", url + " returned 200");
    return;
  }
  if (health.status == 0) {
    PrintLine("api", "DOWN", url + ": " + health.error);
    problems.push_back({"the API does not answer at " + url,
                        "start it with `open-notebook serve` (or `open-notebook api`), or set API_HOST and API_PORT "
                        "(or --host and --port) to the address it listens on"});
    return;
  }
  auto body = nlohmann::json::parse(health.body, nullptr, false);
  const std::string detail = body.is_object() && body.contains("detail") && body["detail"].is_string()
                                 ? body["detail"].get<std::string>()
                                 : health.body.substr(0, 200);
  PrintLine("api", "STARTING", url + " returned " + std::to_string(health.status) + ": " + detail);
  problems.push_back({"the API is running but not ready (" + detail + ")",
                      "wait for start-up to finish; if it does not, read the API log for the cause"});
}

// Returns the storage when the database exists and its schema can be read, else nullptr.
std::unique_ptr<storage::Storage> CheckDatabase(const Settings& settings, std::vector<Problem>& problems,
                                                bool* schema_ok) {
  *schema_ok = false;
  const bool postgres = storage::IsPostgresUrl(settings.database_url);
  auto path = postgres ? Result<std::string>(storage::RedactUrl(settings.database_url)) : settings.SqlitePath();
  if (!path.ok()) {
    PrintLine("database", "ERROR", path.status().message());
    problems.push_back({path.status().message(), "correct OPEN_NOTEBOOK_DATABASE_URL or OPEN_NOTEBOOK_DATA_DIR"});
    return nullptr;
  }
  std::error_code error;
  if (!postgres && !std::filesystem::exists(*path, error)) {
    PrintLine("database", "MISSING", *path);
    problems.push_back({"the database file " + *path + " does not exist",
                        "start `open-notebook serve`, which creates it, or set OPEN_NOTEBOOK_DATA_DIR (or --data-dir) "
                        "to the directory that holds open-notebook.db"});
    return nullptr;
  }

  auto storage = storage::OpenStorage(settings);
  auto schema = storage.ok() ? (*storage)->GetSchemaStatus() : Result<storage::SchemaStatus>(storage.status());
  if (!schema.ok()) {
    PrintLine("database", "ERROR", *path + ": " + schema.status().message());
    problems.push_back({"the database cannot be read: " + schema.status().message(),
                        postgres ? "check that the PostgreSQL server is running and accepts the URL's user, then run "
                                   "`open-notebook migrate status`"
                                 : "check the file's permissions and free disk space, then run "
                                   "`open-notebook migrate status`"});
    return nullptr;
  }

  const std::string version = "schema version " + std::to_string(schema->current_version) + " of " +
                              std::to_string(schema->latest_version);
  Status checked = (*storage)->CheckSchema();
  if (checked.ok()) {
    PrintLine("database", "ok", *path + ", " + version);
  } else if (schema->current_version < schema->latest_version) {
    PrintLine("database", "BEHIND", *path + ", " + version);
    problems.push_back({"the database schema (version " + std::to_string(schema->current_version) +
                            ") is behind this binary (version " + std::to_string(schema->latest_version) + ")",
                        "run `open-notebook migrate up` (`open-notebook serve` also applies migrations when it starts)"});
  } else {
    PrintLine("database", "MISMATCH", *path + ", " + version);
    problems.push_back({checked.message(), "see `open-notebook migrate status` for the migrations that differ"});
  }
  *schema_ok = checked.ok();
  return std::move(storage).value();
}

std::string Seconds(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f s", seconds);
  return buffer;
}

// `schema_ok` is false when a schema problem is already reported: failing reads are then
// expected (the job tables may not exist yet) and add no problem of their own.
void CheckJobs(storage::Storage& storage, bool schema_ok, std::vector<Problem>& problems) {
  const auto now = SystemClock::now();
  auto workers = storage.jobs().ListWorkers();
  auto stats = storage.jobs().GetQueueStats();
  if (!workers.ok() || !stats.ok()) {
    const Status error = workers.ok() ? stats.status() : workers.status();
    PrintLine("jobs", "UNKNOWN", error.message());
    if (schema_ok) {
      problems.push_back({"the job tables cannot be read: " + error.message(), "run `open-notebook migrate status`"});
    }
    return;
  }

  const auto live = jobs::LiveWorkers(*workers, now);
  PrintLine("workers", std::to_string(live.size()) + " live", workers->empty() ? "no worker has registered" : "");
  for (const auto& worker : *workers) {
    const double age = SecondsSince(worker.heartbeat_at, now).value_or(-1);
    const bool is_live = jobs::IsLive(worker, now);
    std::printf("    %s on %s (pid %lld): %s, heartbeat %s ago, running %d of %d\n", worker.id.c_str(),
                worker.host.c_str(), static_cast<long long>(worker.pid), is_live ? "live" : "GONE",
                Seconds(age).c_str(), worker.running, worker.max_tasks);
  }

  std::string queue = std::to_string(stats->queued) + " queued, " + std::to_string(stats->running) + " running, " +
                      std::to_string(stats->completed) + " completed, " + std::to_string(stats->failed) +
                      " failed, " + std::to_string(stats->cancelled) + " cancelled";
  std::optional<double> oldest;
  if (stats->oldest_queued_created) oldest = SecondsSince(*stats->oldest_queued_created, now);
  if (oldest) queue += "; oldest queued job waits for " + Seconds(*oldest);
  PrintLine("queue", stats->queued > 0 && live.empty() ? "STUCK" : "ok", queue);

  if (stats->queued > 0 && live.empty()) {
    problems.push_back({std::to_string(stats->queued) + " jobs are queued but no worker is running",
                        std::string(jobs::kStartWorkerHint)});
  }
}

// With scheduled backups on, a backup older than two intervals means at least one scheduled run
// failed or did not happen (the server was stopped, the disk is full, the directory is read-only).
void CheckBackups(const Settings& settings, std::vector<Problem>& problems) {
  const auto directory = BackupDir(settings);
  const auto last = ReadLastBackup(directory);
  const auto now = SystemClock::now();
  std::optional<double> age;
  if (last) age = SecondsSince(last->completed_at, now);
  const std::string last_text = last ? last->archive + " at " + last->completed_at : "none recorded in " + directory.string();

  if (settings.backup_interval_s <= 0) {
    PrintLine("backups", "off", "OPEN_NOTEBOOK_BACKUP_INTERVAL is 0; last backup: " + last_text);
    return;
  }
  const double allowed = 2.0 * static_cast<double>(settings.backup_interval_s);
  const std::string fix = "read the serve log for 'scheduled backup failed' (disk full, permissions), make sure "
                          "`open-notebook serve` is running, and take one now with `open-notebook backup create`";
  if (!last || !age) {
    PrintLine("backups", "MISSING", last_text);
    problems.push_back({"scheduled backups are on (every " + std::to_string(settings.backup_interval_s) +
                            " s) but no backup has completed in " + directory.string(), fix});
    return;
  }
  if (*age > allowed) {
    PrintLine("backups", "STALE", "last " + last_text + ", " + Seconds(*age) + " ago");
    problems.push_back({"the last backup is " + Seconds(*age) + " old, more than twice OPEN_NOTEBOOK_BACKUP_INTERVAL (" +
                            std::to_string(settings.backup_interval_s) + " s)", fix});
    return;
  }
  PrintLine("backups", "ok", "last " + last_text + ", " + Seconds(*age) + " ago");
}

std::string Size(uint64_t bytes) {
  char buffer[32];
  if (bytes >= (uint64_t{1} << 30)) {
    std::snprintf(buffer, sizeof(buffer), "%.1f GiB", static_cast<double>(bytes) / (1 << 30));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.0f MiB", static_cast<double>(bytes) / (1 << 20));
  }
  return buffer;
}

// Returns a free-space threshold in bytes: the value of `variable`, else `fallback`. The variables
// let tests force a low-disk finding without filling a disk, so they are not settings.
uint64_t Threshold(const char* variable, uint64_t fallback) {
  const char* text = std::getenv(variable);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  return end != nullptr && *end == '\0' ? value : fallback;
}

// Warns below 10 % or 1 GiB free and fails below 2 % or 200 MiB, because a full disk fails every
// write: SQLite's write-ahead log and uploaded files both need room.
void CheckDisk(const Settings& settings, Findings& findings) {
  struct statvfs disk {};
  if (statvfs(settings.data_dir.c_str(), &disk) != 0) {
    const std::string reason = std::strerror(errno);
    PrintLine("disk", "UNKNOWN", settings.data_dir + ": " + reason);
    findings.problems.push_back({"the data directory " + settings.data_dir + " cannot be examined: " + reason,
                                 "create it or set OPEN_NOTEBOOK_DATA_DIR (or --data-dir) to the directory that holds "
                                 "open-notebook.db"});
    return;
  }
  const uint64_t unit = disk.f_frsize;
  const uint64_t free_bytes = static_cast<uint64_t>(disk.f_bavail) * unit;
  const uint64_t total = static_cast<uint64_t>(disk.f_blocks) * unit;
  const double percent = total > 0 ? 100.0 * static_cast<double>(free_bytes) / static_cast<double>(total) : 0;
  const uint64_t warn_bytes = Threshold("OPEN_NOTEBOOK_TEST_DISK_WARN_BYTES", uint64_t{1} << 30);
  const uint64_t error_bytes = Threshold("OPEN_NOTEBOOK_TEST_DISK_ERROR_BYTES", uint64_t{200} << 20);

  char detail[160];
  std::snprintf(detail, sizeof(detail), "%s free of %s (%.1f %%) on the disk of %s", Size(free_bytes).c_str(),
                Size(total).c_str(), percent, settings.data_dir.c_str());
  const std::string fix = "free space on that disk (old backups, uploads of deleted sources, other programs' files) or "
                          "move OPEN_NOTEBOOK_DATA_DIR to a larger disk";
  if (free_bytes < error_bytes || percent < 2.0) {
    PrintLine("disk", "FULL", detail);
    findings.problems.push_back({std::string("the data disk is nearly full: ") + detail +
                                     "; writes fail once it is full",
                                 fix});
  } else if (free_bytes < warn_bytes || percent < 10.0) {
    PrintLine("disk", "LOW", detail);
    findings.warnings.push_back({std::string("the data disk is running low: ") + detail, fix});
  } else {
    PrintLine("disk", "ok", detail);
  }
}

}  // namespace

int RunStatus(const Settings& settings) {
  std::printf("open-notebook %s status\n", ON_VERSION);
  Findings findings;
  std::vector<Problem>& problems = findings.problems;
  CheckApi(settings, problems);
  bool schema_ok = false;
  auto storage = CheckDatabase(settings, problems, &schema_ok);
  if (storage) CheckJobs(*storage, schema_ok, problems);
  CheckBackups(settings, problems);
  CheckDisk(settings, findings);

  if (problems.empty() && findings.warnings.empty()) {
    std::printf("\nEverything looks fine.\n");
    return 0;
  }
  std::printf("\n");
  for (const auto& problem : problems) {
    std::printf("PROBLEM: %s\n  fix: %s\n", problem.what.c_str(), problem.fix.c_str());
  }
  for (const auto& warning : findings.warnings) {
    std::printf("WARNING: %s\n  fix: %s\n", warning.what.c_str(), warning.fix.c_str());
  }
  return problems.empty() ? 2 : 1;
}

}  // namespace on::ops
