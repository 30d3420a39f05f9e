// libFuzzer target for search snippets (search/snippet.h) over any text and query.
//
// Input: a query, a NUL byte, then the text (any bytes; without a NUL the whole input is both).
//
// Invariants checked:
// - match markers come in pairs (kMatchBegin, a non-empty word, kMatchEnd), never nested;
// - with the markers and the "… " / " …" cut marks removed, the snippet is a part of the text
//   with its marker bytes dropped and its whitespace runs folded to one space;
// - valid UTF-8 text gives a valid UTF-8 snippet.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_checks.h"
#include "search/snippet.h"

namespace {

std::string Folded(std::string_view text) {
  std::string folded;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
    if (!space) {
      folded.push_back(c);
    } else if (!folded.empty() && folded.back() != ' ') {
      folded.push_back(' ');
    }
  }
  return folded;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const on::search::Tokenizer tokenizer;
  const std::string_view input = on::fuzz::AsText(data, size);
  const size_t separator = input.find('\0');
  const std::string_view query = separator == std::string_view::npos ? input : input.substr(0, separator);
  const std::string_view text = separator == std::string_view::npos ? input : input.substr(separator + 1);

  std::vector<std::string> terms;
  for (const auto& term : on::search::ExtractQueryTerms(query, tokenizer)) terms.push_back(term.term);
  on::search::SnippetBuilder builder(terms, tokenizer, 1 + size % 40);
  const std::string snippet = builder.Build(text);
  FUZZ_CHECK(builder.Build(text) == snippet);

  std::string plain;
  bool open = false;
  size_t word_begin = 0;
  for (size_t i = 0; i < snippet.size(); ++i) {
    if (snippet[i] == on::search::kMatchBegin) {
      FUZZ_CHECK(!open);
      open = true;
      word_begin = plain.size();
    } else if (snippet[i] == on::search::kMatchEnd) {
      FUZZ_CHECK(open && plain.size() > word_begin);
      open = false;
    } else {
      plain.push_back(snippet[i]);
    }
  }
  FUZZ_CHECK(!open);
  std::string_view body = plain;
  if (body.substr(0, 4) == "… ") body.remove_prefix(4);
  if (body.size() >= 4 && body.substr(body.size() - 4) == " …") body.remove_suffix(4);
  // The builder drops marker bytes found in the text itself.
  std::string unmarked(text);
  std::erase(unmarked, on::search::kMatchBegin);
  std::erase(unmarked, on::search::kMatchEnd);
  FUZZ_CHECK(Folded(unmarked).find(body) != std::string::npos);
  if (on::fuzz::IsValidUtf8(text)) FUZZ_CHECK(on::fuzz::IsValidUtf8(snippet));
  return 0;
}
