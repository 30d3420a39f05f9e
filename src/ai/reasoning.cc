#include "ai/reasoning.h"

#include <cctype>

namespace on::ai {
namespace {

std::size_t FindIgnoringCase(std::string_view text, std::string_view needle, std::size_t from) {
  for (std::size_t i = from; i + needle.size() <= text.size(); ++i) {
    bool match = true;
    for (std::size_t k = 0; k < needle.size() && match; ++k) {
      match = std::tolower(static_cast<unsigned char>(text[i + k])) == needle[k];
    }
    if (match) return i;
  }
  return std::string_view::npos;
}

std::string Trim(std::string_view text) {
  std::size_t start = 0;
  std::size_t end = text.size();
  while (start < end && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  while (end > start && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(start, end - start));
}

}  // namespace

std::string StripReasoning(std::string_view text) {
  constexpr std::string_view kOpen = "<think>";
  constexpr std::string_view kClose = "</think>";

  // A closing tag before any opening tag ends reasoning whose opening tag was lost.
  const std::size_t first_open = FindIgnoringCase(text, kOpen, 0);
  const std::size_t first_close = FindIgnoringCase(text, kClose, 0);
  if (first_close != std::string_view::npos && (first_open == std::string_view::npos || first_close < first_open)) {
    text.remove_prefix(first_close + kClose.size());
  }

  std::string out;
  std::size_t position = 0;
  while (position < text.size()) {
    const std::size_t open = FindIgnoringCase(text, kOpen, position);
    if (open == std::string_view::npos) {
      out.append(text.substr(position));
      break;
    }
    out.append(text.substr(position, open - position));
    const std::size_t close = FindIgnoringCase(text, kClose, open + kOpen.size());
    if (close == std::string_view::npos) break;  // unterminated: the rest is reasoning
    position = close + kClose.size();
  }
  return Trim(out);
}

}  // namespace on::ai
