#include "ai/prompts.h"

#include "core/embedded_assets.h"

namespace on::ai {

Result<std::string> RenderPrompt(std::string_view name, const std::map<std::string, std::string>& values) {
  const std::string path = "prompts/" + std::string(name) + ".txt";
  const std::optional<std::string_view> source = FindEmbeddedAsset(path);
  if (!source) return InternalError("prompt template " + path + " is not built into this binary");

  std::string out;
  out.reserve(source->size() + 1024);
  size_t at = 0;
  for (;;) {
    const size_t open = source->find("{{", at);
    if (open == std::string_view::npos) break;
    const size_t close = source->find("}}", open + 2);
    if (close == std::string_view::npos) return InternalError("prompt template " + path + " has an unclosed {{");
    out.append(source->substr(at, open - at));
    const std::string key(source->substr(open + 2, close - open - 2));
    auto value = values.find(key);
    if (value == values.end()) return InternalError("prompt template " + path + " uses {{" + key + "}}, which has no value");
    out += value->second;
    at = close + 2;
  }
  out.append(source->substr(at));
  return out;
}

}  // namespace on::ai
