#include "ai/prompt_template.h"

#include "core/embedded_assets.h"

namespace on::ai {

Result<std::string> RenderPromptText(std::string_view text, const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(text.size());
  size_t position = 0;
  for (;;) {
    const size_t open = text.find("{{", position);
    if (open == std::string_view::npos) break;
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    const std::string name(text.substr(open + 2, close - open - 2));
    auto value = values.find(name);
    if (value == values.end()) return InternalError("prompt placeholder {{" + name + "}} has no value");
    out.append(text.substr(position, open - position));
    out += value->second;
    position = close + 2;
  }
  out.append(text.substr(position));
  return out;
}

Result<std::string> RenderPrompt(std::string_view name, const std::map<std::string, std::string>& values) {
  const std::string path = "prompts/" + std::string(name) + ".md";
  auto text = FindEmbeddedAsset(path);
  if (!text) return InternalError("prompt template " + path + " is not compiled into this binary");
  return RenderPromptText(*text, values);
}

}  // namespace on::ai
