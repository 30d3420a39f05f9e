#include "ai/prompts.h"

#include "core/embedded_assets.h"

namespace on::ai {

Result<std::string> FillPromptFile(std::string_view path, const PromptValueLookup& lookup, bool strict) {
  const std::optional<std::string_view> source = FindEmbeddedAsset(path);
  if (!source) return InternalError("prompt template " + std::string(path) + " is not built into this binary");

  std::string out;
  out.reserve(source->size() + 1024);
  size_t at = 0;
  for (;;) {
    const size_t open = source->find("{{", at);
    if (open == std::string_view::npos) break;
    const size_t close = source->find("}}", open + 2);
    if (close == std::string_view::npos) {
      if (strict) return InternalError("prompt template " + std::string(path) + " has an unclosed {{");
      break;
    }
    out.append(source->substr(at, open - at));
    const std::string_view key = source->substr(open + 2, close - open - 2);
    if (const std::optional<std::string_view> value = lookup(key)) {
      out.append(*value);
    } else if (strict) {
      return InternalError("prompt template " + std::string(path) + " uses {{" + std::string(key) +
                           "}}, which has no value");
    } else {
      out.append(source->substr(open, close + 2 - open));
    }
    at = close + 2;
  }
  out.append(source->substr(at));
  return out;
}

Result<std::string> RenderPrompt(std::string_view name, const std::map<std::string, std::string>& values) {
  const std::string path = "prompts/" + std::string(name) + ".txt";
  return FillPromptFile(path, [&values](std::string_view key) -> std::optional<std::string_view> {
    auto value = values.find(std::string(key));
    if (value == values.end()) return std::nullopt;
    return value->second;
  }, true);
}

}  // namespace on::ai
