// Runs the REST API: the `api` and `serve` subcommands.
#pragma once

#include "core/runtime_config.h"
#include "core/settings.h"

namespace on::ops {

// Serves the API until SIGTERM or SIGINT, then drains in-flight requests. Start-up order:
// listen (so /health can report progress) -> wait for the database with backoff (see
// ops/database_wait.h for what counts as unavailable) -> apply pending migrations -> serve ->
// start a supervised job worker when `with_worker` is true (a worker that fails to start or whose
// threads die is replaced with backoff, see SuperviseEmbeddedWorker), and the backup schedule
// (OPEN_NOTEBOOK_BACKUP_INTERVAL) when `with_backups` is true. At shutdown the API drains its
// requests first, then the worker finishes or releases its running jobs. The process holds the
// shared data directory lock throughout.
// Returns the process exit code: 0 after a clean shutdown, 1 when start-up fails (unreadable
// settings, port taken, schema mismatch, or the database still unavailable after
// OPEN_NOTEBOOK_DB_WAIT_ATTEMPTS attempts when that is not 0).
// Runtime settings come from `config` (core/runtime_config.h), which also re-reads the
// environment file on SIGHUP; `env` is where provider keys (OPENAI_API_KEY, ...) are looked up.
int RunApi(RuntimeConfig& config, bool with_worker, bool with_backups, EnvLookup env);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace on::ops
