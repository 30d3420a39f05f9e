// JSON shapes of sources, as Open Notebook's API returns them.
#pragma once

#include <nlohmann/json.hpp>

#include "api/app_context.h"

namespace on::api {

// SourceResponse (with_text: full_text and notebooks) or SourceListResponse.
nlohmann::json SourceJson(const AppContext& context, const storage::Source& source, bool with_text);

// {status, message, processing_info, command_id} for GET /api/sources/{id}/status.
nlohmann::json SourceStatusJson(AppContext& context, const storage::Source& source);

}  // namespace on::api
