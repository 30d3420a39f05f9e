#include "ops/worker_service.h"

#include <csignal>
#include <cstdlib>

#include <atomic>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "ai/credential_cipher.h"
#include "jobs/builtin_commands.h"
#include "ops/config_watcher.h"
#include "ops/data_dir_lock.h"
#include "ops/database_wait.h"
#include "ops/signal_watcher.h"

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

// The concurrency of the embedded worker, shared by the instances its supervisor starts, so a
// runtime change reaches the running instance and every replacement.
struct WorkerSlot {
  std::mutex mutex;
  jobs::Worker* running = nullptr;  // guarded by mutex
  int max_tasks = 0;                // guarded by mutex
};

// Adapts jobs::Worker to ComponentSupervisor; each instance is a new worker with a new id.
class WorkerComponent final : public SupervisedComponent {
 public:
  WorkerComponent(storage::JobStore& store, const jobs::CommandRegistry& commands, jobs::WorkerOptions options,
                  std::shared_ptr<WorkerSlot> slot = nullptr)
      : worker_(store, commands, std::move(options)), slot_(std::move(slot)) {}

  Status Start() override {
    ON_RETURN_IF_ERROR(worker_.Start());
    if (slot_) {
      std::lock_guard lock(slot_->mutex);
      slot_->running = &worker_;
      // A change made while this instance was being created applies now.
      worker_.SetMaxTasks(slot_->max_tasks);
    }
    return Status::Ok();
  }
  Status Health() const override { return worker_.Health(); }
  bool Stop() override {
    if (slot_) {
      std::lock_guard lock(slot_->mutex);
      if (slot_->running == &worker_) slot_->running = nullptr;
    }
    return worker_.Stop();
  }

 private:
  jobs::Worker worker_;
  std::shared_ptr<WorkerSlot> slot_;
};

}  // namespace

std::unique_ptr<SupervisedComponent> MakeWorkerComponent(storage::JobStore& store, const jobs::CommandRegistry& commands,
                                                         jobs::WorkerOptions options) {
  return std::make_unique<WorkerComponent>(store, commands, std::move(options));
}

EmbeddedWorker SuperviseEmbeddedWorker(const Settings& settings, storage::Storage& storage,
                                       const jobs::CommandRegistry& commands) {
  const jobs::WorkerOptions options = jobs::WorkerOptionsFromSettings(settings);
  auto slot = std::make_shared<WorkerSlot>();
  slot->max_tasks = options.max_tasks;
  EmbeddedWorker worker;
  worker.supervisor = std::make_unique<ComponentSupervisor>("the job worker", [&storage, &commands, options, slot] {
    jobs::WorkerOptions instance_options = options;
    {
      std::lock_guard lock(slot->mutex);
      instance_options.max_tasks = slot->max_tasks;
    }
    return std::make_unique<WorkerComponent>(storage.jobs(), commands, std::move(instance_options), slot);
  });
  worker.set_max_tasks = [slot](int max_tasks) {
    std::lock_guard lock(slot->mutex);
    slot->max_tasks = max_tasks;
    if (slot->running != nullptr) slot->running->SetMaxTasks(max_tasks);
  };
  worker.supervisor->Start();
  return worker;
}

void StopEmbeddedWorker(std::unique_ptr<ComponentSupervisor>& supervisor) {
  if (supervisor == nullptr) return;
  if (!supervisor->Stop()) ExitWithStuckHandler();
  supervisor.reset();
}

int ApplyRuntimeChanges(RuntimeConfig& config, jobs::CommandRegistry& commands,
                        std::function<void(int)> set_max_tasks) {
  auto apply = [&commands, set_max_tasks](const Settings& settings) {
    commands.SetDefaultPolicy(DefaultRetryPolicy(settings));
    if (set_max_tasks) set_max_tasks(static_cast<int>(settings.worker_max_tasks));
  };
  const int id = config.AddListener([apply](const Settings&, const Settings& after) { apply(after); });
  // A change published before the listener existed is applied here; applying twice is harmless.
  apply(*config.Current());
  return id;
}

int RunWorker(RuntimeConfig& config, EnvLookup env) {
  // Start-up settings: what is not a runtime setting stays as it is here until a restart.
  const Settings settings = *config.Current();
  SignalWatcher signals(&config, "stopping the worker");
  std::atomic<bool>& stopping = signals.stopping();
  auto finish = [&](int code) {
    signals.Join();
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
  const int listener =
      ApplyRuntimeChanges(config, **commands, [&worker](int max_tasks) { worker.SetMaxTasks(max_tasks); });

  Status health;
  while (!stopping && (health = worker.Health()).ok()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  watcher.Stop();
  config.RemoveListener(listener);
  if (!health.ok()) {
    // A worker without its dispatcher or maintenance thread would look alive but run nothing, so
    // the process exits with 1 for supervisord or systemd to start a new one.
    spdlog::critical("{}; stopping the worker and exiting so that the process supervisor starts a new one",
                     health.message());
    if (!worker.Stop()) ExitWithStuckHandler();
    return finish(1);
  }
  if (!worker.Stop()) ExitWithStuckHandler();
  return finish(0);
}

}  // namespace on::ops
