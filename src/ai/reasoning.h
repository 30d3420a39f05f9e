// Removal of the reasoning text that "thinking" models put before their answer.
#pragma once

#include <string>
#include <string_view>

namespace on::ai {

// Returns `text` without reasoning blocks, trimmed of surrounding whitespace:
//   - every "<think>...</think>" block (tag names matched case-insensitively);
//   - everything before a "</think>" that has no opening tag, which some servers send when they
//     strip the opening tag but not the closing one;
//   - an opening "<think>" that is never closed and everything after it, because the model was
//     cut off while still reasoning.
std::string StripReasoning(std::string_view text);

}  // namespace on::ai
