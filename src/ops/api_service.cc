#include "ops/api_service.h"

#include <atomic>
#include <thread>

#include <spdlog/spdlog.h>

#include "api/app_context.h"
#include "http/server.h"
#include "jobs/builtin_commands.h"
#include "ops/backup_service.h"
#include "ops/config_watcher.h"
#include "ops/data_dir_lock.h"
#include "ops/database_wait.h"
#include "ops/frontend_service.h"
#include "ops/signal_watcher.h"
#include "ops/worker_service.h"
#include "storage/database_url.h"

namespace on::ops {
namespace {

// Opens and migrates the database, retrying while it is unavailable (ops/database_wait.h).
// Returns the error that stops start-up: the attempts ran out, or the schema cannot be used.
Result<OpenedDatabase> WaitForDatabase(const Settings& settings, api::AppContext& context,
                                       const std::atomic<bool>& stopping) {
  DatabaseWait wait(settings, "the API");
  for (;;) {
    Status failed;
    auto opened = TryOpenDatabase(settings);
    if (opened.ok()) {
      context.SetStartupState("applying database migrations");
      failed = opened->storage->MigrateUp(std::nullopt);
      if (failed.ok()) failed = opened->storage->CheckSchema();
      if (failed.ok()) return std::move(opened).value();
      // A schema this binary cannot use does not fix itself; a locked or unreadable file may.
      if (failed.code() == ErrorCode::kMigration) return failed;
    } else {
      failed = opened.status();
    }
    context.SetStartupState(wait.Record(failed));
    if (!wait.SleepBeforeRetry(stopping)) {
      if (stopping) return Status(ErrorCode::kUnavailable, "stopped while waiting for the database");
      return Status(ErrorCode::kUnavailable, "the database was still unavailable after " +
                                                 std::to_string(wait.attempt()) + " attempts: " + failed.message());
    }
  }
}

// Brings the database up and marks the context ready; returns the error that stops start-up.
// The data directory lock moves to `data_lock`, which the caller holds until exit.
Status StartStorage(const Settings& settings, api::AppContext& context, const std::atomic<bool>& stopping,
                    std::optional<DataDirLock>& data_lock) {
  ON_ASSIGN_OR_RETURN(OpenedDatabase opened, WaitForDatabase(settings, context, stopping));
  data_lock.emplace(std::move(opened.lock));
  ON_ASSIGN_OR_RETURN(context.commands,
                      jobs::BuildCommandRegistry(jobs::CommandEnvironment{settings, *opened.storage, context.cipher(),
                                                                          context.env, &context.config()}));
  context.SetReady(std::move(opened.storage));
  if (storage::IsPostgresUrl(settings.database_url)) {
    spdlog::info("database ready (PostgreSQL {}); serving requests", storage::RedactUrl(settings.database_url));
  } else {
    auto path = settings.SqlitePath();
    spdlog::info("database ready (SQLite {}); serving requests", path.ok() ? *path : settings.database_url);
  }
  return Status::Ok();
}

}  // namespace

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

int RunApi(RuntimeConfig& config, bool with_worker, bool with_backups, EnvLookup env, bool with_ui) {
  // Start-up settings: what is not a runtime setting stays as it is here until a restart.
  const Settings settings = *config.Current();
  auto password = settings.ResolvePassword();
  if (!password.ok()) {
    spdlog::critical("{}", password.status().message());
    return 1;
  }
  if (password->empty() && !IsLoopbackHost(settings.api_host)) {
    if (!settings.allow_no_auth) {
      spdlog::critical("refusing to listen on {} without a password: anyone who can reach this address could read and "
                       "change every notebook. Set OPEN_NOTEBOOK_PASSWORD, or set OPEN_NOTEBOOK_ALLOW_NO_AUTH=true if "
                       "another layer protects the port", settings.api_host);
      return 1;
    }
    spdlog::warn("**************************************************************************");
    spdlog::warn("* WARNING: the API listens on {} with NO PASSWORD.", settings.api_host);
    spdlog::warn("* Anyone who can reach this address can read and change all data.");
    spdlog::warn("* Set OPEN_NOTEBOOK_PASSWORD to protect it.");
    spdlog::warn("**************************************************************************");
  }
  if (settings.cors_origins == "*") {
    spdlog::info("CORS_ORIGINS is '*': any web origin may call the API without credentials; list your origins to restrict it");
  }

  auto cipher = ai::CredentialCipher::FromSettings(settings);
  if (!cipher.ok()) {
    spdlog::critical("{}", cipher.status().message());
    return 1;
  }
  if (*cipher) {
    spdlog::info("credential encryption key configured (key version {})", (*cipher)->key_version());
  } else {
    spdlog::warn("OPEN_NOTEBOOK_ENCRYPTION_KEY is not set: provider API keys cannot be saved in the database; "
                 "set it (any long random string) to store credentials");
  }
  // Taken once the database is available and held until exit: `backup restore` refuses to
  // replace a data directory in use.
  std::optional<DataDirLock> data_lock;

  api::AppContext context(config);
  context.env = std::move(env);
  context.auth_enabled = !password->empty();
  context.SetCipher(std::move(*cipher));
  http::Router router;
  api::RegisterRoutes(router, context);
  http::CorsPolicy cors(settings.cors_origins);
  http::PasswordGuard guard(*password, static_cast<int>(settings.auth_max_failures),
                            std::chrono::seconds(settings.auth_lockout_s));
  http::PipelineOptions pipeline_options;
  if (settings.metrics_public) pipeline_options.public_paths.push_back("/metrics");
  pipeline_options.readiness = [&context] { return context.Readiness(); };
  // Before the database is ready nothing is cached, and version 0 matches no stored entry.
  pipeline_options.data_version = [&context]() -> uint64_t { return context.ready() ? context.storage().DataVersion() + 1 : 0; };
  http::Pipeline pipeline(router, cors, guard, pipeline_options);

  http::ServerOptions options;
  options.host = settings.api_host;
  options.port = static_cast<uint16_t>(settings.api_port);
  options.io_threads = static_cast<int>(settings.http_threads);
  options.handler_threads = static_cast<int>(settings.handler_threads);
  options.max_body_bytes = static_cast<uint64_t>(settings.max_upload_size_mb) << 20;
  options.shutdown_timeout = std::chrono::seconds(settings.shutdown_timeout_s);
  options.access_log = settings.access_log;
  options.event_heartbeat = std::chrono::seconds(settings.sse_heartbeat_s);
  http::Server server(options, pipeline);
  if (Status listening = server.Listen(); !listening.ok()) {
    spdlog::critical("{}", listening.message());
    return 1;
  }
  spdlog::info("open-notebook {} API listening on {}:{} (auth {})", ON_VERSION, settings.api_host, server.port(),
               context.auth_enabled ? "on" : "off");

  // The UI listens before start-up goes on, so a taken port fails start-up at once and by name.
  std::unique_ptr<EmbeddedFrontend> frontend;
  if (with_ui) {
    auto started_ui = EmbeddedFrontend::Start(settings, LocalEndpointFor(settings.api_host, server.port()));
    if (!started_ui.ok()) {
      spdlog::critical("{}", started_ui.status().message());
      return 1;
    }
    frontend = std::move(started_ui).value();
  }

  SignalWatcher signals(&config, "shutting down", [&] {
    server.Shutdown();
    if (frontend) frontend->Shutdown();
  });
  std::atomic<bool>& stopping = signals.stopping();

  std::atomic<int> exit_code{0};
  EmbeddedWorker worker;
  std::unique_ptr<ConfigWatcher> watcher;
  int listener = 0;
  BackupScheduler backups(settings);
  // Start-up order: the listener is already open (so /health reports progress), then the
  // database (waited for with backoff), the migrations, the API routes (ready), the worker, and
  // the backup schedule. The UI, when there is one, already listens and forwards /api to this
  // listener, which reports start-up progress until the routes are ready.
  std::thread startup([&] {
    Status started = StartStorage(settings, context, stopping, data_lock);
    if (started.ok() && !stopping) {
      watcher = std::make_unique<ConfigWatcher>(config, context.storage());
      watcher->Start();
    }
    if (started.ok() && with_worker && !stopping) {
      worker = SuperviseEmbeddedWorker(*config.Current(), context.storage(), *context.commands);
    }
    if (started.ok() && with_backups && !stopping) backups.Start();
    if (started.ok() && !stopping) {
      listener = ApplyRuntimeChanges(config, *context.commands, worker.set_max_tasks);
    }
    if (!started.ok() && !stopping) {
      spdlog::critical("start-up failed: {}", started.message());
      exit_code = 1;
      stopping = true;
      server.Shutdown();
    }
  });

  server.Run();
  stopping = true;
  if (frontend) frontend->Shutdown();
  startup.join();
  if (watcher) watcher->Stop();
  config.RemoveListener(listener);
  backups.Stop();
  StopEmbeddedWorker(worker.supervisor);
  signals.Join();
  frontend.reset();  // after the signal thread, which may still call Shutdown() on it
  spdlog::info("open-notebook stopped");
  return exit_code;
}

}  // namespace on::ops
