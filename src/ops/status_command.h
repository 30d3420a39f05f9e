// The `status` subcommand: a one-screen health report for operators.
#pragma once

#include "core/settings.h"

namespace on::ops {

// Prints the state of the API (GET /health on API_HOST:API_PORT), the database (schema version
// against this binary), the job workers (heartbeats), the job queue and the age of the last backup
// when scheduled backups are on. Each known problem is
// printed with its fix. Returns 0 when nothing is wrong and 1 otherwise.
int RunStatus(const Settings& settings);

}  // namespace on::ops
