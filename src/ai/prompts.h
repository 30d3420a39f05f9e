// Prompt templates: text files under prompts/ compiled into the binary.
//
// A template marks a value with "{{name}}". Values are inserted in one pass, so text from users
// and documents is always data: "{{name}}" inside a value is never expanded.
#pragma once

#include <functional>
#include <optional>
#include <map>
#include <string>
#include <string_view>

#include "core/error.h"

namespace on::ai {

// The value of a "{{name}}" marker, or nullopt when there is none.
using PromptValueLookup = std::function<std::optional<std::string_view>(std::string_view)>;

// Returns the embedded file `path` with each "{{name}}" marker replaced by its value, inserted as
// data and never scanned for markers. With `strict`, an unknown or unclosed marker is kInternal.
// Otherwise it stays as written. kInternal when the file is not embedded.
Result<std::string> FillPromptFile(std::string_view path, const PromptValueLookup& lookup, bool strict);

// Renders prompts/<name>.txt with `values`. kInternal when the template is missing, names a value
// that `values` lacks, or has an unclosed "{{".
Result<std::string> RenderPrompt(std::string_view name, const std::map<std::string, std::string>& values);

}  // namespace on::ai
