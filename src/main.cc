// open-notebook: one executable, one subcommand per process kind.
#include <csignal>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "core/logging.h"
#include "core/settings.h"
#include "ops/api_service.h"
#include "ops/migrate_command.h"
#include "ops/status_command.h"
#include "ops/worker_service.h"

namespace {

// Applies command-line overrides on top of the environment; returns false after printing why.
bool ApplyOverride(on::Settings& settings, const char* name, const std::string& value) {
  if (value.empty()) return true;
  on::Status status = settings.Set(name, value);
  if (!status.ok()) std::fprintf(stderr, "%s\n", status.message().c_str());
  return status.ok();
}

}  // namespace

int main(int argc, char** argv) {
  // Block the shutdown signals before any thread starts; the API's signal thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
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

  CLI::App* serve = app.add_subcommand(
      "serve", "Run the API and a job worker (OPEN_NOTEBOOK_WORKER_IN_SERVE=false leaves the worker out)");
  add_server_options(serve);
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

  CLI11_PARSE(app, argc, argv);

  auto settings = on::Settings::Load(on::ProcessEnv());
  if (!settings.ok()) {
    std::fprintf(stderr, "%s\n", settings.status().message().c_str());
    return 1;
  }
  if (!ApplyOverride(*settings, "api_host", host) || !ApplyOverride(*settings, "api_port", port) ||
      !ApplyOverride(*settings, "data_dir", data_dir) || !ApplyOverride(*settings, "worker_max_tasks", max_tasks)) {
    return 1;
  }
  if (on::Status logging = on::InitLogging(settings->log_level, settings->log_format); !logging.ok()) {
    std::fprintf(stderr, "%s\n", logging.message().c_str());
    return 1;
  }

  int exit_code = 1;
  if (serve->parsed()) {
    if (!settings->worker_in_serve) {
      spdlog::info("OPEN_NOTEBOOK_WORKER_IN_SERVE is false: this process runs no jobs; start `open-notebook worker`");
    }
    exit_code = on::ops::RunApi(*settings, settings->worker_in_serve);
  }
  if (api->parsed()) exit_code = on::ops::RunApi(*settings, false);
  if (worker->parsed()) exit_code = on::ops::RunWorker(*settings, static_cast<int>(settings->worker_max_tasks));
  if (status->parsed()) exit_code = on::ops::RunStatus(*settings);
  if (migrate->parsed()) exit_code = on::ops::RunMigrate(*settings, action, target);
  on::FlushLogs();
  return exit_code;
}
