// Appending JSON values to a string, for responses too large to build as nlohmann::json trees
// first: search results are hundreds of objects, and building the tree costs more than writing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace on::http {

// Appends `text` as a JSON string with its quotes. Each byte of invalid UTF-8 (a stray
// continuation byte, a truncated or overlong sequence, a surrogate, a code point above U+10FFFF)
// becomes U+FFFD, so the output is always valid JSON. nlohmann::json's replace handler differs
// only in writing one U+FFFD for a truncated sequence.
void AppendJsonString(std::string& out, std::string_view text);

// Appends the shortest decimal form that reads back as `value`; null when it is not finite,
// because JSON has no NaN or infinity.
void AppendJsonNumber(std::string& out, double value);
void AppendJsonNumber(std::string& out, int64_t value);

}  // namespace on::http
