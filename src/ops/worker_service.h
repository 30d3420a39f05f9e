// Runs background-job workers: the `worker` subcommand, and the worker inside `serve`.
#pragma once

#include <functional>
#include <memory>

#include "core/runtime_config.h"
#include "core/settings.h"
#include "jobs/command_registry.h"
#include "jobs/worker.h"
#include "ops/component_supervisor.h"
#include "storage/storage.h"

namespace on::ops {

// Runs a worker until SIGTERM or SIGINT, then drains it (OPEN_NOTEBOOK_WORKER_STOP_TIMEOUT).
// Start-up waits for the database and for its schema to reach this binary's version (the API
// applies migrations, the worker never does), with the backoff of ops/database_wait.h. Returns
// the exit code: 0 after a clean stop, 1 when start-up fails, when a worker thread died (so the
// process supervisor restarts it) or when a handler ignored its stop request.
// Runtime settings come from `config`, which also re-reads the environment file on SIGHUP;
// `--max-tasks` is its command-line layer. `env` is where provider keys are looked up.
int RunWorker(RuntimeConfig& config, EnvLookup env);

// Makes runtime setting changes take effect in this process: the default retry policy of
// `commands`, and the worker concurrency through `set_max_tasks` when it is set. Applies the
// current settings at once. Returns the listener id, which the caller removes before `commands`
// or the worker go.
int ApplyRuntimeChanges(RuntimeConfig& config, jobs::CommandRegistry& commands,
                        std::function<void(int)> set_max_tasks);

// The worker as a component of ComponentSupervisor; `store` and `commands` must outlive it.
std::unique_ptr<SupervisedComponent> MakeWorkerComponent(storage::JobStore& store, const jobs::CommandRegistry& commands,
                                                         jobs::WorkerOptions options);

// The worker that `serve` runs next to the API, under a ComponentSupervisor.
struct EmbeddedWorker {
  std::unique_ptr<ComponentSupervisor> supervisor;
  // Changes the concurrency of the running instance and of every instance started after it.
  std::function<void(int)> set_max_tasks;
};

// Starts supervising the worker that `serve` runs next to the API, on the API's storage and
// commands, which must outlive it. The first start happens on the supervising thread. A worker
// that fails to start, or whose dispatcher or maintenance thread dies, is stopped and replaced
// after a delay of 1 s that doubles with each failure in a row up to 30 s.
EmbeddedWorker SuperviseEmbeddedWorker(const Settings& settings, storage::Storage& storage,
                                       const jobs::CommandRegistry& commands);

// Stops the supervised worker (no-op for nullptr): running jobs finish within
// OPEN_NOTEBOOK_WORKER_STOP_TIMEOUT or go back to the queue. When a handler ignores its stop
// request the process exits here with code 1, because destroying the storage under a running
// handler is not safe.
void StopEmbeddedWorker(std::unique_ptr<ComponentSupervisor>& supervisor);

}  // namespace on::ops
