#include "core/embedded_assets.h"

namespace on {

std::optional<std::string_view> FindEmbeddedAsset(std::string_view path) {
  for (const auto& asset : EmbeddedAssets()) {
    if (asset.path == path) return asset.content;
  }
  return std::nullopt;
}

}  // namespace on
