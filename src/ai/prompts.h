// Prompt templates: text files under prompts/ compiled into the binary.
//
// A template marks a value with "{{name}}". Values are inserted in one pass, so text from users
// and documents is always data: "{{name}}" inside a value is never expanded.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/error.h"

namespace on::ai {

// Renders prompts/<name>.txt with `values`. kInternal when the template is missing, names a value
// that `values` lacks, or has an unclosed "{{".
Result<std::string> RenderPrompt(std::string_view name, const std::map<std::string, std::string>& values);

}  // namespace on::ai
