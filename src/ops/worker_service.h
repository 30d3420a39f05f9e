// Runs background-job workers: the `worker` subcommand, and the worker inside `serve`.
#pragma once

#include <memory>

#include "core/settings.h"
#include "jobs/command_registry.h"
#include "jobs/worker.h"
#include "ops/component_supervisor.h"
#include "storage/storage.h"

namespace on::ops {

// Runs a worker until SIGTERM or SIGINT, then drains it (OPEN_NOTEBOOK_WORKER_STOP_TIMEOUT).
// Start-up waits for the database and for its schema to reach this binary's version (the API
// applies migrations, the worker never does), each with the OPEN_NOTEBOOK_DB_WAIT_ATTEMPTS
// backoff. Returns the exit code: 0 after a clean stop, 1 when start-up fails, when a worker
// thread died (so the process supervisor restarts it) or when a handler ignored its stop request.
int RunWorker(const Settings& settings, int max_tasks);

// The worker as a component of ComponentSupervisor; `store` and `commands` must outlive it.
std::unique_ptr<SupervisedComponent> MakeWorkerComponent(storage::JobStore& store, const jobs::CommandRegistry& commands,
                                                         jobs::WorkerOptions options);

// Starts supervising the worker that `serve` runs next to the API, on the API's storage and
// commands, which must outlive it. The first start happens on the supervising thread. A worker
// that fails to start, or whose dispatcher or maintenance thread dies, is stopped and replaced
// after a delay of 1 s that doubles with each failure in a row up to 30 s.
std::unique_ptr<ComponentSupervisor> SuperviseEmbeddedWorker(const Settings& settings, storage::Storage& storage,
                                                             const jobs::CommandRegistry& commands);

// Stops the supervised worker (no-op for nullptr): running jobs finish within
// OPEN_NOTEBOOK_WORKER_STOP_TIMEOUT or go back to the queue. When a handler ignores its stop
// request the process exits here with code 1, because destroying the storage under a running
// handler is not safe.
void StopEmbeddedWorker(std::unique_ptr<ComponentSupervisor>& supervisor);

}  // namespace on::ops
