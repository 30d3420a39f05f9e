// Turns a stored source into searchable text: fetch or read, extract, chunk, save.
//
// Used by the process_source job. Errors follow the job system's rules: transient codes
// (kUpstream, kTimeout, kUnavailable, kRateLimited) are retried, everything else fails the
// source at once with a message meant for its owner.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/settings.h"
#include "ingest/url_fetcher.h"
#include "storage/storage.h"

namespace on::ingest {

struct ProcessorDeps {
  storage::Storage* storage = nullptr;
  const Settings* settings = nullptr;
  HostResolver* resolver = nullptr;  // DNS for URL sources; tests inject a fixed table
  // Reports a stage name and percent; may be empty.
  std::function<void(std::string_view stage, int percent)> progress;
  // True when the job should stop; may be empty.
  std::function<bool()> cancelled;
};

// Processes source `source_id` and returns a summary ({"chunks", "characters", "kind", "pages"}).
Result<nlohmann::json> ProcessSource(const ProcessorDeps& deps, const std::string& source_id);

}  // namespace on::ingest
