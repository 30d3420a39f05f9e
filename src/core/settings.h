// Every setting of Open Notebook, declared once.
//
// The ON_SETTINGS table below drives environment parsing, `open-notebook --help`, the
// non-secret values shown by GET /api/config and docs/settings.md. To add a setting, add one row.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"

namespace on {

// X(member, environment variable, type, default, min, max, choices, flags, description)
// type is String, Int or Bool; min/max apply to Int; choices ("a|b") restrict a String; flags
// combine kRuntime (PUT /api/settings changes it; every process applies it within seconds),
// kReloadable (SIGHUP re-reads it from OPEN_NOTEBOOK_ENV_FILE) and kSecret (never shown).
// Every kRuntime setting is also kReloadable: both paths end in the same live settings.
#define ON_SETTINGS(X)                                                                                   \
  X(data_dir, "OPEN_NOTEBOOK_DATA_DIR", String, "./data", 0, 0, "", 0,                                   \
    "Directory that holds the SQLite database, uploads/, podcasts/, cache/ and backups/.")               \
  X(env_file, "OPEN_NOTEBOOK_ENV_FILE", String, "", 0, 0, "", 0,                                         \
    "File of KEY=VALUE lines read at start-up for every setting and provider key; variables of the "     \
    "process environment take precedence. SIGHUP re-reads it for the settings marked [reloadable].")     \
  X(database_url, "OPEN_NOTEBOOK_DATABASE_URL", String, "", 0, 0, "", kSecret,                           \
    "Database location: empty for <data_dir>/open-notebook.db, sqlite:///path/file.db for another "     \
    "SQLite file, postgresql://user@host:5432/database for PostgreSQL 15 with pgvector, which several "  \
    "API and worker processes can share.")                                                               \
  X(api_host, "API_HOST", String, "127.0.0.1", 0, 0, "", 0,                                              \
    "Address the API listens on. Use 0.0.0.0 or :: only behind a password and a reverse proxy.")        \
  X(api_port, "API_PORT", Int, "5055", 0, 65535, "", 0, "TCP port of the REST API.")                     \
  X(password, "OPEN_NOTEBOOK_PASSWORD", String, "", 0, 0, "", kSecret,                                   \
    "Shared password; when set every API route except /health, /api/auth/status and /api/config "       \
    "requires 'Authorization: Bearer <password>' (/metrics too, unless OPEN_NOTEBOOK_METRICS_PUBLIC).")   \
  X(password_file, "OPEN_NOTEBOOK_PASSWORD_FILE", String, "", 0, 0, "", 0,                               \
    "File whose first line is the password (for Docker and systemd secrets). Used when "                \
    "OPEN_NOTEBOOK_PASSWORD is empty.")                                                                  \
  X(allow_no_auth, "OPEN_NOTEBOOK_ALLOW_NO_AUTH", Bool, "false", 0, 0, "", 0,                            \
    "Allow listening on a non-loopback address without a password (prints a warning).")                 \
  X(metrics_public, "OPEN_NOTEBOOK_METRICS_PUBLIC", Bool, "false", 0, 0, "", 0,                          \
    "Serve GET /metrics without the password, for a Prometheus that cannot send a bearer token. The "  \
    "metrics hold counts and timings by route pattern, never ids, paths or content.")                  \
  X(cors_origins, "CORS_ORIGINS", String, "*", 0, 0, "", 0,                                              \
    "Comma-separated origins allowed to call the API from a browser, or * for any origin "              \
    "(credentials are never allowed with *).")                                                           \
  X(frontend_host, "FRONTEND_BIND_HOST", String, "127.0.0.1", 0, 0, "", 0,                               \
    "Address the web UI listens on (`open-notebook frontend`, and `serve`).")                            \
  X(frontend_port, "FRONTEND_PORT", Int, "8502", 0, 65535, "", 0,                                        \
    "TCP port of the web UI.")                                                                           \
  X(ui_in_serve, "OPEN_NOTEBOOK_UI_IN_SERVE", Bool, "true", 0, 0, "", 0,                                 \
    "Serve the web UI on FRONTEND_PORT inside `open-notebook serve`. Set to false when a separate "      \
    "`open-notebook frontend` process serves it.")                                                      \
  X(web_dir, "OPEN_NOTEBOOK_WEB_DIR", String, "", 0, 0, "", 0,                                           \
    "Directory of the built web UI (index.html and assets/). Empty: the web/ directory next to the "    \
    "executable when it holds an index.html (an installed copy), else web/dist of the source tree the " \
    "executable was built from (make build puts the UI there).")                                         \
  X(api_url, "API_URL", String, "", 0, 0, "", 0,                                                         \
    "API address the browser uses, returned by the UI's GET /config, without /api (e.g. "               \
    "https://api.example.com). Empty: the browser calls /api on the UI's own origin and the UI "        \
    "server forwards the calls, which also works behind one reverse proxy.")                             \
  X(internal_api_url, "INTERNAL_API_URL", String, "http://127.0.0.1:5055", 0, 0, "", 0,                  \
    "Where `open-notebook frontend` forwards /api requests (http://host:port). `serve` forwards to "    \
    "its own API instead.")                                                                              \
  X(max_upload_size_mb, "OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB", Int, "100", 1, 102400, "", 0,                \
    "Largest request body accepted, in MiB; larger requests get 413 before the body is read.")          \
  X(log_level, "OPEN_NOTEBOOK_LOG_LEVEL", String, "info", 0, 0, "trace|debug|info|warn|error",           \
    kRuntime | kReloadable,                                                                              \
    "Least severe log level written.")                                                                   \
  X(log_format, "OPEN_NOTEBOOK_LOG_FORMAT", String, "text", 0, 0, "text|json", 0,                        \
    "Log line format: text for people, json for log collectors (one object per line).")                 \
  X(access_log, "OPEN_NOTEBOOK_ACCESS_LOG", Bool, "true", 0, 0, "", 0,                                    \
    "Write one info line per HTTP request (client, method, path, status, time, size).")                \
  X(http_threads, "OPEN_NOTEBOOK_HTTP_THREADS", Int, "1", 1, 64, "", 0,                                  \
    "Threads that run the HTTP event loop. Handlers run on their own pool, so one thread serves tens "  \
    "of thousands of requests per second; raise it on machines with many cores.")                       \
  X(handler_threads, "OPEN_NOTEBOOK_HANDLER_THREADS", Int, "8", 1, 256, "", 0,                           \
    "Threads that run request handlers that wait on the database.")                                      \
  X(sse_heartbeat_s, "OPEN_NOTEBOOK_SSE_HEARTBEAT_SECONDS", Int, "15", 1, 3600, "", 0,                  \
    "Seconds an event stream (ask, chat) may stay silent before the server sends a comment line, "   \
    "which keeps proxies from closing it and reveals a client that has gone.")                          \
  X(shutdown_timeout_s, "OPEN_NOTEBOOK_SHUTDOWN_TIMEOUT", Int, "30", 0, 3600, "", 0,                     \
    "Seconds that SIGTERM waits for in-flight requests before closing them.")                            \
  X(db_wait_attempts, "OPEN_NOTEBOOK_DB_WAIT_ATTEMPTS", Int, "0", 0, 1000000, "", 0,                     \
    "Times start-up tries to reach the database (1 s apart, doubling up to 5 s) before the process "     \
    "exits; 0 waits until the database appears, while the API answers /health with 503 and the reason.") \
  X(db_max_size_mb, "OPEN_NOTEBOOK_DB_MAX_SIZE_MB", Int, "0", 0, 16777216, "", 0,                        \
    "Largest size of the SQLite database in MiB; a write that would grow it further fails as if the "    \
    "disk were full, and nothing stored is lost. 0 means no limit other than the disk.")                 \
  X(db_busy_timeout_ms, "OPEN_NOTEBOOK_DB_BUSY_TIMEOUT_MS", Int, "5000", 0, 600000, "", 0,               \
    "Milliseconds SQLite waits for a lock held by another process before failing a statement.")        \
  X(db_pool_size, "OPEN_NOTEBOOK_DB_POOL_SIZE", Int, "10", 1, 1000, "", 0,                              \
    "PostgreSQL only: connections each process keeps open for statements, plus one that listens for "  \
    "changes; a request that finds all of them busy waits up to OPEN_NOTEBOOK_DB_STATEMENT_TIMEOUT_MS " \
    "for one (without a limit when that is 0).")                                                         \
  X(db_statement_timeout_ms, "OPEN_NOTEBOOK_DB_STATEMENT_TIMEOUT_MS", Int, "30000", 0, 3600000, "", 0,   \
    "PostgreSQL only: milliseconds a statement may run before the server cancels it; 0 means no "       \
    "limit.")                                                                                            \
  X(sqlite_synchronous, "OPEN_NOTEBOOK_SQLITE_SYNCHRONOUS", String, "full", 0, 0, "normal|full", 0,      \
    "SQLite synchronous mode: full survives power loss; normal survives process crashes only.")         \
  X(encryption_key, "OPEN_NOTEBOOK_ENCRYPTION_KEY", String, "", 0, 0, "", kSecret,                       \
    "Secret that encrypts provider API keys stored in the database (any string; a long random one is "  \
    "best). Without it, credentials with an API key cannot be saved.")                                   \
  X(encryption_key_file, "OPEN_NOTEBOOK_ENCRYPTION_KEY_FILE", String, "", 0, 0, "", 0,                   \
    "File whose first line is the encryption key (for Docker and systemd secrets). Used when "          \
    "OPEN_NOTEBOOK_ENCRYPTION_KEY is empty.")                                                            \
  X(encryption_key_old, "OPEN_NOTEBOOK_ENCRYPTION_KEY_OLD", String, "", 0, 0, "", kSecret,               \
    "Previous encryption key, read only by `open-notebook credentials rotate-key`, which re-encrypts "  \
    "stored API keys from this key to OPEN_NOTEBOOK_ENCRYPTION_KEY.")                                    \
  X(url_allowlist, "OPEN_NOTEBOOK_URL_ALLOWLIST", String, "", 0, 0, "", kReloadable,                     \
    "Comma-separated CIDRs that URL sources may reach although they are loopback or private "           \
    "(e.g. 127.0.0.1/32 for a local wiki). Everything else private is refused.")                         \
  X(fetch_timeout_s, "OPEN_NOTEBOOK_FETCH_TIMEOUT", Int, "60", 1, 3600, "", kRuntime | kReloadable,      \
    "Seconds a URL source may take to download, redirects included.")                                   \
  X(pdf_timeout_s, "OPEN_NOTEBOOK_PDF_TIMEOUT", Int, "300", 1, 7200, "", kRuntime | kReloadable,         \
    "Seconds pdftotext may run on one PDF before it is stopped.")                                       \
  X(ai_connect_timeout_s, "OPEN_NOTEBOOK_AI_CONNECT_TIMEOUT", Int, "10", 1, 600, "", 0,                  \
    "Seconds a call to an AI provider may take to connect (TCP and TLS).")                              \
  X(ai_idle_timeout_s, "OPEN_NOTEBOOK_AI_IDLE_TIMEOUT", Int, "120", 1, 3600, "", 0,                      \
    "Seconds a call to an AI provider may go without a byte sent or received, the wait for the first "  \
    "one included; a slow stream that keeps sending never times out. Raise it for local models that "  \
    "think long before they answer.")                                                                   \
  X(chunk_size, "OPEN_NOTEBOOK_CHUNK_SIZE", Int, "400", 100, 8192, "", kRuntime | kReloadable,           \
    "Target size of a search chunk in tokens.")                                                          \
  X(chunk_overlap, "OPEN_NOTEBOOK_CHUNK_OVERLAP", Int, "60", 0, 4096, "", kRuntime | kReloadable,        \
    "Tokens each chunk repeats from the previous one (default 15 % of 400).")                            \
  X(context_window_tokens, "OPEN_NOTEBOOK_CONTEXT_WINDOW_TOKENS", Int, "16384", 1024, 10000000, "", 0,   \
    "Context window, in tokens, assumed for a language model whose credential sets no num_ctx. "       \
    "Transformations split longer sources into parts that fit it; a model that rejects a part as "     \
    "too long gets smaller parts. A chat prompt that does not fit (less a reserve for the answer) is " \
    "rejected with 400 before the provider is called.")                                                  \
  X(sync_processing_timeout_s, "OPEN_NOTEBOOK_SYNC_PROCESSING_TIMEOUT", Int, "300", 1, 3600, "",         \
    kRuntime | kReloadable,                                                                              \
    "Seconds POST /api/sources with async_processing=false waits for processing.")                       \
  X(auth_max_failures, "OPEN_NOTEBOOK_AUTH_MAX_FAILURES", Int, "5", 1, 1000, "", 0,                      \
    "Wrong passwords accepted from one client address before it is throttled.")                         \
  X(auth_lockout_s, "OPEN_NOTEBOOK_AUTH_LOCKOUT", Int, "30", 1, 86400, "", 0,                            \
    "Seconds a throttled client waits; doubles with each further failure, up to one hour.")      \
  X(retry_max_attempts, "OPEN_NOTEBOOK_RETRY_MAX_ATTEMPTS", Int, "3", 1, 100, "",                        \
    kRuntime | kReloadable,                                                                              \
    "Runs a background job gets, the first included, when it keeps failing with a transient error "    \
    "(upstream error, timeout, unavailable, rate limited); commands may set their own.")               \
  X(retry_wait_min_s, "OPEN_NOTEBOOK_RETRY_WAIT_MIN", Int, "1", 0, 3600, "", kRuntime | kReloadable,     \
    "Seconds of backoff before the first retry of a job; doubles per attempt up to "                   \
    "OPEN_NOTEBOOK_RETRY_WAIT_MAX, and the actual wait is a random time up to that value.")            \
  X(retry_wait_max_s, "OPEN_NOTEBOOK_RETRY_WAIT_MAX", Int, "30", 0, 86400, "", kRuntime | kReloadable,   \
    "Largest backoff in seconds between two runs of a failing job.")                                   \
  X(worker_max_tasks, "OPEN_NOTEBOOK_WORKER_MAX_TASKS", Int, "5", 1, 256, "", kRuntime | kReloadable,    \
    "Jobs one worker runs at the same time (`open-notebook worker --max-tasks` overrides it).")        \
  X(worker_in_serve, "OPEN_NOTEBOOK_WORKER_IN_SERVE", Bool, "true", 0, 0, "", 0,                         \
    "Run a job worker inside `open-notebook serve`. Set to false when separate "                       \
    "`open-notebook worker` processes run the jobs.")                                                  \
  X(job_lease_s, "OPEN_NOTEBOOK_JOB_LEASE_SECONDS", Int, "60", 1, 86400, "", 0,                          \
    "Seconds a worker holds a job without renewing it; the worker renews every third of it. When a "   \
    "worker dies, its jobs run again elsewhere once this time has passed.")                            \
  X(worker_poll_ms, "OPEN_NOTEBOOK_WORKER_POLL_MS", Int, "500", 10, 60000, "", 0,                        \
    "Milliseconds an idle worker waits between looks for jobs submitted by other processes "          \
    "(jobs submitted in its own process start at once).")                                              \
  X(worker_stop_timeout_s, "OPEN_NOTEBOOK_WORKER_STOP_TIMEOUT", Int, "30", 0, 3600, "", 0,               \
    "Seconds a stopping worker lets running jobs finish; jobs still running then go back to the "      \
    "queue without using up an attempt.")                                                              \
  X(job_retention_days, "OPEN_NOTEBOOK_JOB_RETENTION_DAYS", Int, "30", 0, 36500, "", 0,                  \
    "Days a finished (completed, failed or cancelled) job is kept before workers delete it; 0 keeps "  \
    "jobs forever.")                                                                                   \
  X(backup_dir, "OPEN_NOTEBOOK_BACKUP_DIR", String, "", 0, 0, "", 0,                                     \
    "Directory for backup archives and the record of the last backup; empty for <data_dir>/backups. "    \
    "Keep it on another disk, or copy its archives off the machine.")                                    \
  X(backup_interval_s, "OPEN_NOTEBOOK_BACKUP_INTERVAL", Int, "0", 0, 31536000, "", 0,                    \
    "Seconds between the backups that `open-notebook serve` takes by itself (86400 for daily); 0 "       \
    "turns scheduled backups off. `open-notebook status` reports a problem when the last backup is "     \
    "older than twice this interval.")                                                                   \
  X(backup_keep, "OPEN_NOTEBOOK_BACKUP_KEEP", Int, "7", 1, 100000, "", 0,                                \
    "Scheduled backup archives kept in OPEN_NOTEBOOK_BACKUP_DIR; older ones are deleted after each "     \
    "successful scheduled backup.")                                                                      \
  X(source_chat_context_tokens, "OPEN_NOTEBOOK_SOURCE_CHAT_CONTEXT_TOKENS", Int, "50000", 500, 100000000, \
    "", 0, "Tokens of a source's text and insights that source chat puts in its prompt at most; the "     \
    "chunks that match the question best come first.")                                                   \
  X(default_embedding_option, "OPEN_NOTEBOOK_DEFAULT_EMBEDDING_OPTION", String, "ask", 0, 0,             \
    "ask|always|never", kRuntime | kReloadable,                                                          \
    "Whether new sources are embedded when a request leaves out 'embed': always embeds them, ask and "   \
    "never do not (ask tells the web UI to offer the choice). An explicit 'embed' always wins.")         \
  X(espeak_program, "OPEN_NOTEBOOK_ESPEAK_PROGRAM", String, "espeak-ng", 0, 0, "", 0,                   \
    "The espeak-ng program that speaks podcasts offline when a speaker profile has no text-to-speech "   \
    "model: a name looked up in PATH or an absolute path.")                                             \
  X(podcast_speech_timeout_s, "OPEN_NOTEBOOK_PODCAST_SPEECH_TIMEOUT", Int, "120", 1, 3600, "",           \
    kRuntime | kReloadable,                                                                              \
    "Seconds espeak-ng may run for one line of a podcast transcript before it is killed.")              \
  X(podcast_speech_attempts, "OPEN_NOTEBOOK_PODCAST_SPEECH_ATTEMPTS", Int, "4", 1, 20, "",               \
    kRuntime | kReloadable,                                                                              \
    "Attempts to speak one line of a podcast transcript when the speech engine fails transiently "      \
    "(timeouts, 429, 5xx, lost connections, empty or undecodable audio), with exponential backoff.")   \
  X(enable_test_commands, "OPEN_NOTEBOOK_ENABLE_TEST_COMMANDS", Bool, "false", 0, 0, "", 0,              \
    "For tests only: registers the debug.sleep job command, which sleeps, reports progress and "      \
    "fails on request. Leave false in production.")

enum SettingFlag : unsigned { kReloadable = 1u, kSecret = 2u, kRuntime = 4u };

enum class SettingType { kString, kInt, kBool };

// One row of the settings table.
struct SettingSpec {
  std::string_view member;
  std::string_view env;
  SettingType type;
  std::string_view default_value;
  int64_t min;
  int64_t max;
  std::string_view choices;  // "a|b|c" or empty
  unsigned flags;
  std::string_view description;
};

// Returns the table, in declaration order.
const std::vector<SettingSpec>& SettingSpecs();

// Looks up an environment variable; injectable so tests never touch the process environment.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup ProcessEnv();

#define ON_SETTING_TYPE_String std::string
#define ON_SETTING_TYPE_Int int64_t
#define ON_SETTING_TYPE_Bool bool

// The effective settings of this process.
struct Settings {
#define ON_SETTING_MEMBER(member, env, type, ...) ON_SETTING_TYPE_##type member{};
  ON_SETTINGS(ON_SETTING_MEMBER)
#undef ON_SETTING_MEMBER

  // Parses every setting from `env`, falling back to defaults. Returns kInvalidInput naming the
  // variable, the value and the accepted range when a value does not parse or is out of range.
  static Result<Settings> Load(const EnvLookup& env);

  // Sets one setting from text, by member or environment name, with the same checks as Load.
  Status Set(std::string_view name, std::string_view value);

  // Checks rules that involve two settings (chunk overlap below chunk size, retry wait minimum not
  // above its maximum). Returns kInvalidInput naming both variables and the fix.
  Status CheckConsistency() const;

  // Non-secret settings as {ENV_NAME: value}.
  nlohmann::json PublicValues() const;

  // The value of one setting (by member or environment name) as the text Set accepts, or nullopt
  // for an unknown name.
  std::optional<std::string> ValueText(std::string_view name) const;

  // The value of one setting as JSON: a number, a boolean or a string.
  nlohmann::json ValueJson(const SettingSpec& spec) const;

  // The password from OPEN_NOTEBOOK_PASSWORD or the first line of OPEN_NOTEBOOK_PASSWORD_FILE.
  Result<std::string> ResolvePassword() const;

  // The encryption key from OPEN_NOTEBOOK_ENCRYPTION_KEY or the first line of
  // OPEN_NOTEBOOK_ENCRYPTION_KEY_FILE; empty when neither is set.
  Result<std::string> ResolveEncryptionKey() const;

  // SQLite database file: from database_url when it is sqlite://, else <data_dir>/open-notebook.db.
  // kInvalidInput for a PostgreSQL URL (storage::IsPostgresUrl), which names no file.
  Result<std::string> SqlitePath() const;
};

// Text for --help: one paragraph per setting with its variable, default and description.
std::string SettingsHelpText();

// The row of a setting, by member or environment name; nullptr when there is none.
const SettingSpec* FindSetting(std::string_view name);

// Reads an environment file: one KEY=VALUE per line, blank lines and lines starting with '#'
// ignored, an optional leading "export ", and a value optionally in single or double quotes.
// kInvalidInput naming the file and line for anything else; kNotFound when it cannot be read.
Result<std::map<std::string, std::string>> ReadEnvFile(const std::string& path);

// Looks names up in `primary` first and then in `fallback`.
EnvLookup LayeredEnv(EnvLookup primary, std::map<std::string, std::string> fallback);

// Loads the settings of this process: the process environment, then the file named by
// OPEN_NOTEBOOK_ENV_FILE when it is set, then the defaults. `file_values` receives the file's
// content (empty without a file) so that provider keys in it can be found too.
Result<Settings> LoadProcessSettings(const EnvLookup& process_env, std::map<std::string, std::string>* file_values);

}  // namespace on
