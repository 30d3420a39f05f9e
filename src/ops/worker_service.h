// Runs background-job workers: the `worker` subcommand, and the worker inside `serve`.
#pragma once

#include <memory>

#include "core/runtime_config.h"
#include "core/settings.h"
#include "jobs/command_registry.h"
#include "jobs/worker.h"
#include "storage/storage.h"

namespace on::ops {

// Runs a worker until SIGTERM or SIGINT, then drains it (OPEN_NOTEBOOK_WORKER_STOP_TIMEOUT).
// Start-up waits for the database and for its schema to reach this binary's version (the API
// applies migrations, the worker never does), with the backoff of ops/database_wait.h. Returns the exit code: 0 after a clean stop, 1 when start-up fails or a handler
// ignored its stop request.
// Runtime settings come from `config`, which also re-reads the environment file on SIGHUP;
// `--max-tasks` is its command-line layer. `env` is where provider keys are looked up.
int RunWorker(RuntimeConfig& config, EnvLookup env);

// Makes runtime setting changes take effect in this process: the default retry policy of
// `commands`, and the concurrency of `worker` when it is not null. Applies the current settings
// at once. Returns the listener id, which the caller removes before `commands` or `worker` go.
int ApplyRuntimeChanges(RuntimeConfig& config, jobs::CommandRegistry& commands, jobs::Worker* worker);

// Starts the worker that `serve` runs next to the API, on the API's storage and commands, which
// must outlive it.
Result<std::unique_ptr<jobs::Worker>> StartEmbeddedWorker(const Settings& settings, storage::Storage& storage,
                                                          const jobs::CommandRegistry& commands);

// Stops a worker started by StartEmbeddedWorker (no-op for nullptr). When a handler ignores its
// stop request the process exits here with code 1, because destroying the storage under a
// running handler is not safe.
void StopEmbeddedWorker(std::unique_ptr<jobs::Worker>& worker);

}  // namespace on::ops
