#include "storage/postgres/tsvector.h"

#include <algorithm>
#include <map>
#include <vector>

namespace on::storage::postgres {
namespace {

// Appends `term` as a quoted tsvector lexeme; quotes and backslashes are escaped with a
// backslash, so no byte of the term is read as syntax.
void AppendLexeme(std::string_view term, std::string& out) {
  out += '\'';
  for (char c : term) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
}

}  // namespace

IndexedText BuildTsvector(std::string_view text, const search::Tokenizer& tokenizer) {
  IndexedText indexed;
  // Term to its positions; the server sorts lexemes itself when it parses the literal.
  std::map<std::string, std::vector<int>, std::less<>> positions;
  tokenizer.ForEachToken(text, [&](const search::Token& token) {
    ++indexed.tokens;
    auto& list = positions[token.term];
    if (list.size() < static_cast<size_t>(kMaxTsvectorPositionsPerLexeme)) {
      const int position = static_cast<int>(std::min<int64_t>(indexed.tokens, kMaxTsvectorPosition));
      // Past the last position every token shares 16383; one entry is enough.
      if (list.empty() || list.back() != position) list.push_back(position);
    }
    return true;
  });

  for (const auto& [term, list] : positions) {
    if (!indexed.tsvector.empty()) indexed.tsvector += ' ';
    AppendLexeme(term, indexed.tsvector);
    for (size_t i = 0; i < list.size(); ++i) {
      indexed.tsvector += i == 0 ? ':' : ',';
      indexed.tsvector += std::to_string(list[i]);
    }
  }
  return indexed;
}

}  // namespace on::storage::postgres
