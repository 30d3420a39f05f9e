// Record ids of the form "table:key", as in Open Notebook's API (e.g. "notebook:k3x9...").
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace on {

// Maximum length of the key after "table:".
inline constexpr size_t kMaxIdKeyLength = 64;

// Returns "table:<20 random lowercase letters and digits>".
std::string NewId(std::string_view table);

// Accepts "table:key" or a bare "key" and returns "table:key". The key is 1 to 64 ASCII letters,
// digits, '_' or '-'. Anything else, or another table's prefix, returns kInvalidInput naming
// `field` and the value.
Result<std::string> NormalizeId(std::string_view table, std::string_view value, std::string_view field);

// The current UTC time as ISO 8601 with microseconds: "2026-12-04T20:15:03.123456+00:00".
// Lexicographic order equals time order, so the database sorts these strings directly.
std::string NowTimestamp();

}  // namespace on
