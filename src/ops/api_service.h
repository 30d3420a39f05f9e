// Runs the REST API: the `api` and `serve` subcommands.
#pragma once

#include "core/settings.h"

namespace on::ops {

// Serves the API until SIGTERM or SIGINT, then drains in-flight requests. Start-up order:
// listen (so /health can report progress) -> wait for the database with bounded backoff ->
// apply pending migrations -> serve. Returns the process exit code: 0 after a clean shutdown,
// 1 when start-up fails (unreadable settings, port taken, database unreachable, schema mismatch).
// With `run_worker` (the `serve` command, unless OPEN_NOTEBOOK_WORKER_IN_SERVE=false) a job
// worker starts in the same process once the API is ready, and stops after the API has drained.
int RunApi(const Settings& settings, bool run_worker);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace on::ops
