// Files compiled into the binary: SQL migrations, prompt templates and the OpenAPI document.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace on {

struct EmbeddedAsset {
  std::string_view path;  // relative to the repository root, e.g. "src/api/openapi.json"
  std::string_view content;
};

// Returns every embedded file, in the order the build listed them.
const std::vector<EmbeddedAsset>& EmbeddedAssets();

// Returns the content of the embedded file at `path`, or nullopt.
std::optional<std::string_view> FindEmbeddedAsset(std::string_view path);

}  // namespace on
