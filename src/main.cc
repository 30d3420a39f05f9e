// open-notebook: one executable, one subcommand per process kind.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "ai/http_client.h"
#include "core/logging.h"
#include "core/runtime_config.h"
#include "core/settings.h"
#include "ops/api_service.h"
#include "ops/credentials_command.h"
#include "ops/db_command.h"
#include "ops/frontend_service.h"
#include "ops/backup_command.h"
#include "ops/migrate_command.h"
#include "ops/status_command.h"
#include "ops/worker_service.h"

namespace {

// Checks a command-line override and records it in `overrides` (member name to value), the top
// layer of the runtime configuration; returns false after printing why it is invalid.
bool ApplyOverride(std::map<std::string, std::string>& overrides, const char* name, const std::string& value) {
  if (value.empty()) return true;
  on::Settings probe;
  on::Status status = probe.Set(name, value);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.message().c_str());
    return false;
  }
  overrides[name] = value;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the shutdown and reload signals before any thread starts; the signal threads of the
  // API and the worker wait for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app("Open Notebook: a self-hosted research notebook, in C++ with the REST API of Open Notebook "
                 "(github.com/lfnovo/open-notebook).");
  app.footer(on::SettingsHelpText());
  app.require_subcommand(1);

  std::string host, port, data_dir;
  auto add_server_options = [&](CLI::App* command) {
    command->add_option("--host", host, "Address to listen on (overrides API_HOST)");
    command->add_option("--port", port, "Port to listen on (overrides API_PORT)");
    command->add_option("--data-dir", data_dir, "Data directory (overrides OPEN_NOTEBOOK_DATA_DIR)");
  };

  std::string ui_host, ui_port;
  CLI::App* serve = app.add_subcommand(
      "serve", "Run the API, a job worker and the web UI (OPEN_NOTEBOOK_WORKER_IN_SERVE=false leaves the worker out, "
               "OPEN_NOTEBOOK_UI_IN_SERVE=false the UI)");
  add_server_options(serve);
  serve->add_option("--ui-port", ui_port, "Port of the web UI (overrides FRONTEND_PORT)");
  CLI::App* frontend = app.add_subcommand(
      "frontend", "Serve the web UI, GET /config, and forward /api/* to the API at INTERNAL_API_URL");
  frontend->add_option("--host", ui_host, "Address to listen on (overrides FRONTEND_BIND_HOST)");
  frontend->add_option("--port", ui_port, "Port to listen on (overrides FRONTEND_PORT)");
  CLI::App* api = app.add_subcommand("api", "Run the REST API only");
  add_server_options(api);

  CLI::App* migrate = app.add_subcommand("migrate", "Show or change the database schema version");
  migrate->add_option("--data-dir", data_dir, "Data directory (overrides OPEN_NOTEBOOK_DATA_DIR)");
  std::string action = "status";
  std::optional<int> target;
  migrate->add_option("action", action, "status, up or down")->check(CLI::IsMember({"status", "up", "down"}));
  migrate->add_option("--to", target, "Version to migrate to (up: latest by default; down: one step back by default)");

  CLI::App* worker = app.add_subcommand("worker", "Run background jobs until SIGTERM (the API must run elsewhere)");
  worker->add_option("--data-dir", data_dir, "Data directory (overrides OPEN_NOTEBOOK_DATA_DIR)");
  std::string max_tasks;
  worker->add_option("--max-tasks", max_tasks, "Jobs run at the same time (overrides OPEN_NOTEBOOK_WORKER_MAX_TASKS)");

  CLI::App* status = app.add_subcommand(
      "status",
      "Check the API, database, workers, job queue and data disk; exit 1 and name the fix when something is wrong, "
      "2 when there are only warnings");
  status->add_option("--host", host, "Address of the API to check (overrides API_HOST)");
  status->add_option("--port", port, "Port of the API to check (overrides API_PORT)");
  status->add_option("--data-dir", data_dir, "Data directory (overrides OPEN_NOTEBOOK_DATA_DIR)");

  CLI::App* credentials = app.add_subcommand("credentials", "Manage stored provider credentials");
  credentials->require_subcommand(1);
  CLI::App* rotate_key = credentials->add_subcommand(
      "rotate-key",
      "Re-encrypt every stored API key from the old encryption key (OPEN_NOTEBOOK_ENCRYPTION_KEY_OLD) to the new "
      "one (OPEN_NOTEBOOK_ENCRYPTION_KEY) in one transaction; changes nothing when any key does not decrypt");
  on::ops::RotateKeyOptions rotate_options;
  rotate_key->add_option("--data-dir", data_dir, "Data directory (overrides OPEN_NOTEBOOK_DATA_DIR)");
  rotate_key->add_option("--old-key-file", rotate_options.old_key_file,
                         "File whose first line is the old key (overrides OPEN_NOTEBOOK_ENCRYPTION_KEY_OLD)");
  rotate_key->add_option("--new-key-file", rotate_options.new_key_file,
                         "File whose first line is the new key (overrides OPEN_NOTEBOOK_ENCRYPTION_KEY)");
  rotate_key->add_flag("--dry-run", rotate_options.dry_run, "Check every stored key and report; change nothing");
  CLI::App* backup = app.add_subcommand("backup", "Create, verify, restore or list backup archives");
  backup->require_subcommand(1);
  std::string archive;
  std::optional<std::string> output;
  CLI::App* backup_create = backup->add_subcommand(
      "create", "Write one archive with a consistent copy of the database, uploads/ and podcasts/ (the server may run)");
  backup_create->add_option("--output", output,
                            "Directory for the timestamped archive, or the archive's file name "
                            "(default: OPEN_NOTEBOOK_BACKUP_DIR, else <data_dir>/backups)");
  backup_create->add_option("--data-dir", data_dir, "Data directory (overrides OPEN_NOTEBOOK_DATA_DIR)");
  CLI::App* backup_verify = backup->add_subcommand(
      "verify", "Check every file of an archive against its manifest and the database's integrity");
  backup_verify->add_option("archive", archive, "Backup archive (.tar.zst)")->required();
  CLI::App* backup_restore = backup->add_subcommand(
      "restore", "Replace the data directory with an archive's content; every open-notebook process using it must be stopped");
  backup_restore->add_option("archive", archive, "Backup archive (.tar.zst)")->required();
  backup_restore->add_option("--data-dir", data_dir, "Data directory to restore into (overrides OPEN_NOTEBOOK_DATA_DIR)");
  CLI::App* backup_list = backup->add_subcommand("list", "List the archives in the backup directory and the last backup");
  backup_list->add_option("--data-dir", data_dir, "Data directory (overrides OPEN_NOTEBOOK_DATA_DIR)");

  CLI::App* db = app.add_subcommand("db", "Copy all data between SQLite and PostgreSQL, or compare two databases");
  db->require_subcommand(1);
  std::string db_from, db_to;
  const char* kLocationHelp = "a SQLite file (a path or sqlite:///path) or a postgresql:// URL";
  CLI::App* db_copy = db->add_subcommand(
      "copy", "Copy every record from one database into an empty one in one transaction, then check each table's "
              "row count and checksum on both sides (stop the API and workers first)");
  db_copy->add_option("--from", db_from, std::string("Source database, at this binary's schema version: ") + kLocationHelp)
      ->required();
  db_copy->add_option("--to", db_to, std::string("Target database, migrated first and then required to hold no data: ") +
                                         kLocationHelp)
      ->required();
  CLI::App* db_verify = db->add_subcommand(
      "verify", "Compare the row count and checksum of every table of two databases; exit 1 when one differs");
  db_verify->add_option("--from", db_from, std::string("First database: ") + kLocationHelp)->required();
  db_verify->add_option("--to", db_to, std::string("Second database: ") + kLocationHelp)->required();

  CLI11_PARSE(app, argc, argv);

  // Only the long-running commands handle SIGHUP; for the others it keeps its default action.
  const bool long_running = serve->parsed() || api->parsed() || worker->parsed();
  if (!long_running) {
    sigset_t hangup;
    sigemptyset(&hangup);
    sigaddset(&hangup, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &hangup, nullptr);
  }

  std::map<std::string, std::string> file_values;
  auto loaded = on::LoadProcessSettings(on::ProcessEnv(), &file_values);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.status().message().c_str());
    return 1;
  }
  std::map<std::string, std::string> overrides;
  if (!ApplyOverride(overrides, "api_host", host) || !ApplyOverride(overrides, "api_port", port) ||
      !ApplyOverride(overrides, "data_dir", data_dir) || !ApplyOverride(overrides, "worker_max_tasks", max_tasks) ||
      !ApplyOverride(overrides, "frontend_host", ui_host) || !ApplyOverride(overrides, "frontend_port", ui_port)) {
    return 1;
  }
  on::RuntimeConfig config(*loaded, overrides, on::ProcessEnv());
  // Provider keys (OPENAI_API_KEY, ...) may be in the environment file too.
  const on::EnvLookup env = on::LayeredEnv(on::ProcessEnv(), file_values);
  const on::SettingsSnapshot settings = config.Current();
  if (on::Status logging = on::InitLogging(settings->log_level, settings->log_format); !logging.ok()) {
    std::fprintf(stderr, "%s\n", logging.message().c_str());
    return 1;
  }
  config.AddListener([](const on::Settings& before, const on::Settings& after) {
    if (before.log_level != after.log_level) (void)on::SetLogLevel(after.log_level);
  });
  if (!settings->env_file.empty()) spdlog::info("settings read from the environment and {}", settings->env_file);

  on::ai::SetProviderTimeouts({std::chrono::seconds(settings->ai_connect_timeout_s),
                                std::chrono::seconds(settings->ai_idle_timeout_s)});

  int exit_code = 1;
  if (serve->parsed()) {
    if (!settings->worker_in_serve) {
      spdlog::info("OPEN_NOTEBOOK_WORKER_IN_SERVE is false: this process runs no jobs; start `open-notebook worker`");
    }
    exit_code = on::ops::RunApi(config, settings->worker_in_serve, true, env, settings->ui_in_serve);
  }
  if (frontend->parsed()) exit_code = on::ops::RunFrontend(*settings);
  if (api->parsed()) exit_code = on::ops::RunApi(config, false, false, env);
  if (worker->parsed()) exit_code = on::ops::RunWorker(config, env);
  if (status->parsed()) exit_code = on::ops::RunStatus(*settings);
  if (rotate_key->parsed()) exit_code = on::ops::RunRotateKey(*settings, rotate_options);
  if (migrate->parsed()) exit_code = on::ops::RunMigrate(*settings, action, target);
  if (backup_create->parsed()) {
    exit_code = on::ops::RunBackupCreate(*settings, output ? std::optional<std::filesystem::path>(*output) : std::nullopt);
  }
  if (db_copy->parsed()) exit_code = on::ops::RunDbCopy(db_from, db_to);
  if (db_verify->parsed()) exit_code = on::ops::RunDbVerify(db_from, db_to);
  if (backup_verify->parsed()) exit_code = on::ops::RunBackupVerify(archive);
  if (backup_restore->parsed()) exit_code = on::ops::RunBackupRestore(*settings, archive);
  if (backup_list->parsed()) exit_code = on::ops::RunBackupList(*settings);
  on::FlushLogs();
  return exit_code;
}
