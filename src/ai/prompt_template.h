// Prompt templates: Markdown files under prompts/, compiled into the binary.
//
// A template contains placeholders "{{name}}". Rendering replaces each one with its value in a
// single pass, and values are never scanned for placeholders, so text from users and documents
// stays data: a document that contains "{{context}}" is shown as written.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/error.h"

namespace on::ai {

// Renders the embedded template `name` ("chat/system" for prompts/chat/system.md) with `values`.
// kInternal when the template is missing, or names a placeholder without a value, because both
// are mistakes in this program rather than in the request.
Result<std::string> RenderPrompt(std::string_view name, const std::map<std::string, std::string>& values);

// Renders `text` as RenderPrompt renders a template.
Result<std::string> RenderPromptText(std::string_view text, const std::map<std::string, std::string>& values);

}  // namespace on::ai
