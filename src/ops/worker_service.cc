#include "ops/worker_service.h"

#include <csignal>
#include <cstdlib>

#include <atomic>
#include <thread>

#include <spdlog/spdlog.h>

#include "ai/credential_cipher.h"
#include "jobs/builtin_commands.h"
#include "ops/config_watcher.h"
#include "ops/data_dir_lock.h"
#include "ops/database_wait.h"

namespace on::ops {
namespace {

// Opens the database and waits until its schema matches this binary. A schema that is behind is
// waited for (the API migrates it at start); a newer or changed schema fails at once.
Result<OpenedDatabase> OpenReadyStorage(const Settings& settings, const std::atomic<bool>& stopping) {
  DatabaseWait wait(settings, "the worker");
  for (;;) {
    Status failed;
    auto opened = TryOpenDatabase(settings);
    if (opened.ok()) {
      auto schema = opened->storage->GetSchemaStatus();
      failed = schema.ok() ? opened->storage->CheckSchema() : schema.status();
      if (failed.ok()) return std::move(opened).value();
      const bool behind = schema.ok() && schema->current_version < schema->latest_version;
      if (failed.code() == ErrorCode::kMigration && !behind) return failed;
      if (behind) {
        failed = Status(failed.code(), failed.message() + "; the API applies migrations when it starts");
      }
    } else {
      failed = opened.status();
    }
    (void)wait.Record(failed);
    if (!wait.SleepBeforeRetry(stopping)) {
      if (stopping) return Status(ErrorCode::kUnavailable, "stopped before the database was ready");
      return Status(ErrorCode::kUnavailable, "the database was not ready after " + std::to_string(wait.attempt()) +
                                                 " attempts: " + failed.message());
    }
  }
}

// Flushes the log and ends the process without running destructors, for a handler thread that
// could not be stopped.
[[noreturn]] void ExitWithStuckHandler() {
  spdlog::critical("a job handler did not stop; exiting the process to end it (its job is back in the queue)");
  spdlog::default_logger()->flush();
  std::_Exit(1);
}

}  // namespace

Result<std::unique_ptr<jobs::Worker>> StartEmbeddedWorker(const Settings& settings, storage::Storage& storage,
                                                          const jobs::CommandRegistry& commands) {
  auto worker = std::make_unique<jobs::Worker>(storage.jobs(), commands, jobs::WorkerOptionsFromSettings(settings));
  ON_RETURN_IF_ERROR(worker->Start());
  return worker;
}

void StopEmbeddedWorker(std::unique_ptr<jobs::Worker>& worker) {
  if (worker == nullptr) return;
  if (!worker->Stop()) ExitWithStuckHandler();
  worker.reset();
}

int ApplyRuntimeChanges(RuntimeConfig& config, jobs::CommandRegistry& commands, jobs::Worker* worker) {
  auto apply = [&commands, worker](const Settings& settings) {
    commands.SetDefaultPolicy(DefaultRetryPolicy(settings));
    if (worker != nullptr) worker->SetMaxTasks(static_cast<int>(settings.worker_max_tasks));
  };
  const int id = config.AddListener([apply](const Settings&, const Settings& after) { apply(after); });
  // A change published before the listener existed is applied here; applying twice is harmless.
  apply(*config.Current());
  return id;
}

int RunWorker(RuntimeConfig& config, EnvLookup env) {
  // Start-up settings: what is not a runtime setting stays as it is here until a restart.
  const Settings settings = *config.Current();
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  std::atomic<bool> stopping{false};
  std::atomic<bool> done{false};
  std::thread signal_thread([&] {
    const timespec poll{0, 200'000'000};
    while (!done) {
      const int signal = sigtimedwait(&signals, nullptr, &poll);
      if (signal == SIGHUP) {
        spdlog::info("received SIGHUP; re-reading the environment file");
        (void)config.ReloadEnvFile();  // logs what changed, or why nothing did
      }
      if (signal == SIGTERM || signal == SIGINT) {
        spdlog::info("received {}; stopping the worker", signal == SIGTERM ? "SIGTERM" : "SIGINT");
        stopping = true;
      }
    }
  });
  auto finish = [&](int code) {
    done = true;
    signal_thread.join();
    return code;
  };

  // The data directory lock inside is held until exit: `backup restore` refuses to replace a
  // data directory in use. It is shared, so any number of workers and API processes run together.
  auto opened = OpenReadyStorage(settings, stopping);
  if (!opened.ok()) {
    if (stopping) return finish(0);
    spdlog::critical("worker start-up failed: {}", opened.status().message());
    return finish(1);
  }
  std::unique_ptr<storage::Storage>* storage = &opened->storage;
  ConfigWatcher watcher(config, **storage);
  watcher.Start();
  auto cipher = ai::CredentialCipher::FromSettings(settings);
  if (!cipher.ok()) {
    spdlog::critical("worker start-up failed: {}", cipher.status().message());
    return finish(1);
  }
  const ai::CredentialCipher* cipher_pointer = *cipher ? &**cipher : nullptr;
  auto commands = jobs::BuildCommandRegistry(jobs::CommandEnvironment{settings, **storage, cipher_pointer, env, &config});
  if (!commands.ok()) {
    spdlog::critical("registering job commands failed: {}", commands.status().message());
    return finish(1);
  }

  jobs::Worker worker((*storage)->jobs(), **commands, jobs::WorkerOptionsFromSettings(*config.Current()));
  if (Status started = worker.Start(); !started.ok()) {
    spdlog::critical("worker start-up failed: {}", started.message());
    return finish(1);
  }
  const int listener = ApplyRuntimeChanges(config, **commands, &worker);

  while (!stopping) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  watcher.Stop();
  config.RemoveListener(listener);
  if (!worker.Stop()) ExitWithStuckHandler();
  return finish(0);
}

}  // namespace on::ops
