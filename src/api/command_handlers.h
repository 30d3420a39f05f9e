// Background jobs over HTTP: /api/commands/... and the job summary of /api/config.
#pragma once

#include <nlohmann/json.hpp>

#include "api/app_context.h"

namespace on::api {

// {"worker": {...}, "queue": {...}} for /api/config (see jobs/queue_overview.h); both null when
// the storage is not ready or the job tables cannot be read.
nlohmann::json JobSystemOverview(const AppContext& context);

}  // namespace on::api
