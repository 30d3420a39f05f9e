// Helpers shared by the libFuzzer targets: an invariant check that aborts with a message (so
// libFuzzer saves the input as a crash), and a strict UTF-8 decoder.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

// Aborts with the failed condition and its location, so libFuzzer writes the input to crash-*.
#define FUZZ_CHECK(condition)                                                                   \
  do {                                                                                          \
    if (!(condition)) {                                                                         \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition);     \
      std::abort();                                                                             \
    }                                                                                           \
  } while (false)

namespace on::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Decodes `text` as UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
// Returns nullopt when the text is not valid UTF-8.
inline std::optional<std::vector<char32_t>> DecodeUtf8(std::string_view text) {
  std::vector<char32_t> code_points;
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    // Sequence length, payload bits of the lead byte, smallest value that needs this length.
    size_t length = 1;
    char32_t value = lead;
    char32_t minimum = 0;
    if ((lead & 0xE0) == 0xC0) {
      length = 2;
      value = lead & 0x1F;
      minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      value = lead & 0x0F;
      minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      value = lead & 0x07;
      minimum = 0x10000;
    } else if (lead >= 0x80) {
      return std::nullopt;
    }
    if (i + length > text.size()) return std::nullopt;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return std::nullopt;
      value = (value << 6) | (next & 0x3F);
    }
    if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return std::nullopt;
    code_points.push_back(value);
    i += length;
  }
  return code_points;
}

inline bool IsValidUtf8(std::string_view text) { return DecodeUtf8(text).has_value(); }

// True for a Unicode control character (general category Cc): U+0000..U+001F and U+007F..U+009F.
inline bool IsControl(char32_t code_point) {
  return code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F);
}

}  // namespace on::fuzz
