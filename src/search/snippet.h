// Snippets for search results: a short excerpt of the text a result was found in, with the
// words that match the query marked.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "search/tokenizer.h"

namespace on::search {

// Marks around a matched word in a snippet; the API turns them into <mark> tags after escaping.
inline constexpr char kMatchBegin = '\x01';
inline constexpr char kMatchEnd = '\x02';

// Builds the snippets of one search. A snippet is about `max_words` words of a text around the
// part with the most distinct query terms. Each matching word is put between kMatchBegin and
// kMatchEnd, "…" marks where the text was cut, and whitespace runs are folded to one space. With
// no matching word the snippet is the start of the text.
//
// Text in Latin scripts (with common punctuation) is scanned without ICU, and only words that can
// match are tokenized, once per builder: snippets cost microseconds, so a result page can show one for
// every result. Not thread-safe; use one builder per request.
class SnippetBuilder {
 public:
  // `query_terms` as Tokenizer returns them.
  SnippetBuilder(std::vector<std::string> query_terms, const Tokenizer& tokenizer, size_t max_words = 32);

  std::string Build(std::string_view text);

 private:
  struct Word;
  std::vector<Word> SplitWords(std::string_view text);
  int TermIndex(std::string_view term) const;
  // Returns the index of the query term that a word found by the SplitWords scan matches, or -1.
  // `ascii` when the word has only ASCII characters.
  int WordTerm(std::string_view word, bool ascii);

  class TermCache;

  std::vector<std::string> query_terms_;
  const Tokenizer& tokenizer_;
  TermCache& term_cache_;
  size_t max_words_;
  bool first_letters_[128] = {};
  // Hashes std::string and std::string_view alike, so a lookup by a word of the text copies nothing.
  struct WordHash {
    using is_transparent = void;
    size_t operator()(std::string_view word) const { return std::hash<std::string_view>{}(word); }
  };
  std::unordered_map<std::string, int, WordHash, std::equal_to<>> word_terms_;  // memo for WordTerm
};

}  // namespace on::search
