#include "ops/worker_service.h"

#include <csignal>
#include <cstdlib>

#include <atomic>
#include <thread>

#include <spdlog/spdlog.h>

#include "ai/credential_cipher.h"
#include "jobs/builtin_commands.h"
#include "ops/data_dir_lock.h"

namespace on::ops {
namespace {

// Sleeps up to `delay` in short steps, returning early once `stopping` is set.
void SleepUnlessStopping(std::chrono::milliseconds delay, const std::atomic<bool>& stopping) {
  for (auto waited = std::chrono::milliseconds(0); waited < delay && !stopping; waited += std::chrono::milliseconds(50)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Opens the database and waits until its schema matches this binary. A schema that is behind is
// waited for (the API migrates it at start); a newer or changed schema fails at once.
Result<std::unique_ptr<storage::Storage>> OpenReadyStorage(const Settings& settings, const std::atomic<bool>& stopping) {
  auto delay = std::chrono::milliseconds(1000);
  Status last_error = Status(ErrorCode::kUnavailable, "stopped before the database was ready");
  for (int attempt = 1; attempt <= settings.db_wait_attempts && !stopping; ++attempt) {
    auto storage = storage::OpenStorage(settings);
    if (storage.ok()) {
      auto schema = (*storage)->GetSchemaStatus();
      Status checked = schema.ok() ? (*storage)->CheckSchema() : schema.status();
      if (checked.ok()) return std::move(storage).value();
      const bool behind = schema.ok() && schema->current_version < schema->latest_version;
      if (checked.code() == ErrorCode::kMigration && !behind) return checked;
      last_error = checked;
    } else {
      last_error = storage.status();
    }

    spdlog::warn("database not ready for the worker (attempt {} of {}): {}; retrying in {} ms. The API applies "
                 "migrations when it starts, or run `open-notebook migrate up`",
                 attempt, settings.db_wait_attempts, last_error.message(), delay.count());
    SleepUnlessStopping(delay, stopping);
    delay = std::min(delay * 2, std::chrono::milliseconds(5000));
  }
  return Status(ErrorCode::kUnavailable, "the database was not ready after " +
                                             std::to_string(settings.db_wait_attempts) + " attempts: " +
                                             last_error.message());
}

// Flushes the log and ends the process without running destructors, for a handler thread that
// could not be stopped.
[[noreturn]] void ExitWithStuckHandler() {
  spdlog::critical("a job handler did not stop; exiting the process to end it (its job is back in the queue)");
  spdlog::default_logger()->flush();
  std::_Exit(1);
}

// Adapts jobs::Worker to ComponentSupervisor; each instance is a new worker with a new id.
class WorkerComponent final : public SupervisedComponent {
 public:
  WorkerComponent(storage::JobStore& store, const jobs::CommandRegistry& commands, jobs::WorkerOptions options)
      : worker_(store, commands, std::move(options)) {}

  Status Start() override { return worker_.Start(); }
  Status Health() const override { return worker_.Health(); }
  bool Stop() override { return worker_.Stop(); }

 private:
  jobs::Worker worker_;
};

}  // namespace

std::unique_ptr<SupervisedComponent> MakeWorkerComponent(storage::JobStore& store, const jobs::CommandRegistry& commands,
                                                         jobs::WorkerOptions options) {
  return std::make_unique<WorkerComponent>(store, commands, std::move(options));
}

std::unique_ptr<ComponentSupervisor> SuperviseEmbeddedWorker(const Settings& settings, storage::Storage& storage,
                                                             const jobs::CommandRegistry& commands) {
  const jobs::WorkerOptions options = jobs::WorkerOptionsFromSettings(settings);
  auto supervisor = std::make_unique<ComponentSupervisor>(
      "the job worker", [&storage, &commands, options] { return MakeWorkerComponent(storage.jobs(), commands, options); });
  supervisor->Start();
  return supervisor;
}

void StopEmbeddedWorker(std::unique_ptr<ComponentSupervisor>& supervisor) {
  if (supervisor == nullptr) return;
  if (!supervisor->Stop()) ExitWithStuckHandler();
  supervisor.reset();
}

int RunWorker(const Settings& settings, int max_tasks) {
  // Held until exit: `backup restore` refuses to replace a data directory in use. The lock is
  // shared, so any number of workers and API processes run together.
  auto data_lock = DataDirLock::AcquireShared(settings.data_dir);
  if (!data_lock.ok()) {
    spdlog::critical("{}", data_lock.status().message());
    return 1;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  std::atomic<bool> stopping{false};
  std::atomic<bool> done{false};
  std::thread signal_thread([&] {
    const timespec poll{0, 200'000'000};
    while (!done) {
      const int signal = sigtimedwait(&signals, nullptr, &poll);
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

  auto storage = OpenReadyStorage(settings, stopping);
  if (!storage.ok()) {
    if (stopping) return finish(0);
    spdlog::critical("worker start-up failed: {}", storage.status().message());
    return finish(1);
  }
  auto cipher = ai::CredentialCipher::FromSettings(settings);
  if (!cipher.ok()) {
    spdlog::critical("worker start-up failed: {}", cipher.status().message());
    return finish(1);
  }
  const ai::CredentialCipher* cipher_pointer = *cipher ? &**cipher : nullptr;
  auto commands = jobs::BuildCommandRegistry(jobs::CommandEnvironment{settings, **storage, cipher_pointer});
  if (!commands.ok()) {
    spdlog::critical("registering job commands failed: {}", commands.status().message());
    return finish(1);
  }

  jobs::WorkerOptions options = jobs::WorkerOptionsFromSettings(settings);
  options.max_tasks = max_tasks;
  jobs::Worker worker((*storage)->jobs(), **commands, options);
  if (Status started = worker.Start(); !started.ok()) {
    spdlog::critical("worker start-up failed: {}", started.message());
    return finish(1);
  }

  Status health;
  while (!stopping && (health = worker.Health()).ok()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
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
