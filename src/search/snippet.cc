#include "search/snippet.h"

#include <algorithm>
#include <cstdint>

namespace on::search {
namespace {

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

bool IsAsciiSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Appends text[begin, end) with every whitespace run folded to one space. Marker bytes in the
// text itself are dropped, so the only markers in a snippet are the builder's.
void AppendFolded(std::string_view text, size_t begin, size_t end, std::string& out) {
  for (size_t i = begin; i < end; ++i) {
    const char c = text[i];
    if (c == kMatchBegin || c == kMatchEnd) continue;
    if (!IsAsciiSpace(c)) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != ' ') {
      out.push_back(' ');
    }
  }
}

// Bytes in the UTF-8 character that starts with `lead` (1 for a continuation byte, so a scan
// always moves on).
size_t CharacterLength(char lead) {
  const auto byte = static_cast<unsigned char>(lead);
  if (byte >= 0xF0) return 4;
  if (byte >= 0xE0) return 3;
  if (byte >= 0xC0) return 2;
  return 1;
}

constexpr std::string_view kRightSingleQuote = "\u2019";

// Length of the apostrophe at the start of `text` ("'" or U+2019, which the tokenizer keeps inside a
// word), or 0.
size_t ApostropheLength(std::string_view text) {
  if (text.empty()) return 0;
  if (text[0] == '\'') return 1;
  return text.starts_with(kRightSingleQuote) ? kRightSingleQuote.size() : 0;
}

// Punctuation and symbols that are neither word characters nor joiners for the tokenizer, so a word
// always ends at them, as at a space. Found in the Debian, R, PostgreSQL and Python manuals.
bool IsSeparatorCodePoint(uint32_t c) {
  switch (c) {
    case 0x00A0:  // no-break space
    case 0x00A7:  // section sign
    case 0x00A9:  // copyright sign
    case 0x00AB:  // left-pointing double angle quotation mark
    case 0x00AE:  // registered sign
    case 0x00B6:  // pilcrow, after every heading of the Python manual
    case 0x00BB:  // right-pointing double angle quotation mark
    case 0x2018:  // left single quotation mark
    case 0x201C:  // left double quotation mark
    case 0x201D:  // right double quotation mark
    case 0x2022:  // bullet
    case 0x2026:  // horizontal ellipsis
      return true;
    default:
      return (c >= 0x2010 && c <= 0x2015) || (c >= 0x2190 && c <= 0x2193);  // dashes, arrows
  }
}

}  // namespace

// True when `run` contains only ASCII, separators and U+2019, so SplitWords can scan it without ICU.
bool SnippetBuilder::IsScannable(std::string_view run) {
  size_t i = 0;
  while (i < run.size()) {
    const auto byte = static_cast<unsigned char>(run[i]);
    if (byte < 0x80) {
      ++i;
      continue;
    }
    uint32_t c = 0;
    size_t length = 0;
    if (byte >= 0xC2 && byte < 0xE0) {
      c = byte & 0x1F;
      length = 2;
    } else if (byte >= 0xE0 && byte < 0xF0) {
      c = byte & 0x0F;
      length = 3;
    } else {
      return false;
    }
    if (i + length > run.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto continuation = static_cast<unsigned char>(run[i + k]);
      if ((continuation & 0xC0) != 0x80) return false;
      c = (c << 6) | (continuation & 0x3F);
    }
    if (c != 0x2019 && !IsSeparatorCodePoint(c)) return false;
    i += length;
  }
  return true;
}

struct SnippetBuilder::Word {
  size_t begin = 0;
  size_t end = 0;
  int term = -1;  // index into the query terms, -1 when the word matches none
};

SnippetBuilder::SnippetBuilder(std::vector<std::string> query_terms, const Tokenizer& tokenizer, size_t max_words)
    : query_terms_(std::move(query_terms)), tokenizer_(tokenizer), max_words_(max_words) {
  for (const std::string& term : query_terms_) {
    const auto first = static_cast<unsigned char>(term.empty() ? 0 : term[0]);
    if (first < 128) first_letters_[first] = true;
  }
}

int SnippetBuilder::TermIndex(std::string_view term) const {
  const auto found = std::find(query_terms_.begin(), query_terms_.end(), term);
  return found == query_terms_.end() ? -1 : static_cast<int>(found - query_terms_.begin());
}

// Snowball stems keep a word's first letter, so a word whose first letter starts no query term
// is not tokenized at all.
int SnippetBuilder::AsciiWordTerm(std::string_view word) {
  if (!first_letters_[static_cast<unsigned char>(AsciiLower(word[0]))]) return -1;
  auto found = word_terms_.find(word);
  if (found != word_terms_.end()) return found->second;
  int term = -1;
  if (word.find(kRightSingleQuote) == std::string_view::npos) {
    term = TermIndex(tokenizer_.AsciiWordTerm(word));
  } else {
    for (const Token& token : tokenizer_.Tokenize(word)) {
      term = TermIndex(token.term);
      if (term >= 0) break;
    }
  }
  word_terms_.emplace(std::string(word), term);
  return term;
}

// Splits `text` into words with their offsets, as the tokenizer splits it. Words never cross ASCII
// whitespace, so each whitespace-separated run is split on its own. A run of ASCII, or of ASCII with
// common punctuation such as curly quotes, dashes and pilcrows, is scanned for letters and digits,
// keeping apostrophes inside a word ("don't", "don’t"). Any other run goes to the tokenizer.
std::vector<SnippetBuilder::Word> SnippetBuilder::SplitWords(std::string_view text) {
  std::vector<Word> words;
  words.reserve(text.size() / 6);
  size_t i = 0;
  while (i < text.size()) {
    if (IsAsciiSpace(text[i])) {
      ++i;
      continue;
    }
    const size_t run_begin = i;
    bool ascii = true;
    while (i < text.size() && !IsAsciiSpace(text[i])) {
      ascii = ascii && static_cast<unsigned char>(text[i]) < 0x80;
      ++i;
    }
    const std::string_view run = text.substr(run_begin, i - run_begin);
    if (!ascii && !IsScannable(run)) {
      tokenizer_.ForEachToken(run, [&](const Token& token) {
        words.push_back(Word{run_begin + token.begin, run_begin + token.end, TermIndex(token.term)});
        return true;
      });
      continue;
    }
    size_t j = 0;
    while (j < run.size()) {
      if (!IsAsciiAlnum(run[j])) {
        j += CharacterLength(run[j]);
        continue;
      }
      const size_t word_begin = j;
      while (j < run.size()) {
        if (IsAsciiAlnum(run[j])) {
          ++j;
          continue;
        }
        // An apostrophe joins two letters or two digits, as in ICU's word rules; "a'1" is two words.
        const size_t apostrophe = ApostropheLength(run.substr(j));
        if (apostrophe == 0 || j + apostrophe >= run.size() || !IsAsciiAlnum(run[j + apostrophe]) ||
            IsAsciiDigit(run[j - 1]) != IsAsciiDigit(run[j + apostrophe])) {
          break;
        }
        j += apostrophe;
      }
      words.push_back(Word{run_begin + word_begin, run_begin + j, AsciiWordTerm(run.substr(word_begin, j - word_begin))});
    }
  }
  return words;
}

std::string SnippetBuilder::Build(std::string_view text) {
  const std::vector<Word> words = SplitWords(text);
  if (words.empty() || max_words_ == 0) return "";

  // The window of max_words words with the most distinct query terms, then the most matches;
  // the earliest such window wins.
  const size_t window = std::min(max_words_, words.size());
  std::vector<int> in_window(query_terms_.size(), 0);
  int distinct = 0;
  int matches = 0;
  auto add = [&](const Word& word, int delta) {
    if (word.term < 0) return;
    matches += delta;
    int& count = in_window[static_cast<size_t>(word.term)];
    if (count == 0 && delta > 0) ++distinct;
    count += delta;
    if (count == 0 && delta < 0) --distinct;
  };
  for (size_t i = 0; i < window; ++i) add(words[i], 1);
  size_t best_start = 0;
  int best_distinct = distinct;
  int best_matches = matches;
  for (size_t start = 1; start + window <= words.size(); ++start) {
    add(words[start - 1], -1);
    add(words[start + window - 1], 1);
    if (distinct > best_distinct || (distinct == best_distinct && matches > best_matches)) {
      best_start = start;
      best_distinct = distinct;
      best_matches = matches;
    }
  }
  // Start a few words before the first match so it is read in context.
  if (best_matches > 0) {
    size_t first_match = best_start;
    while (words[first_match].term < 0) ++first_match;
    const size_t lead = std::min<size_t>(3, window / 4);
    best_start = std::min(first_match > lead ? first_match - lead : 0, words.size() - window);
  }
  const size_t best_end = best_start + window;

  std::string snippet;
  if (best_start > 0) snippet += "… ";
  size_t position = words[best_start].begin;
  for (size_t i = best_start; i < best_end; ++i) {
    const Word& word = words[i];
    AppendFolded(text, position, word.begin, snippet);
    if (word.term >= 0) snippet.push_back(kMatchBegin);
    snippet.append(text.substr(word.begin, word.end - word.begin));
    if (word.term >= 0) snippet.push_back(kMatchEnd);
    position = word.end;
  }
  if (best_end < words.size()) {
    // Keep the punctuation that closes the last word ("end." rather than "end").
    size_t tail = position;
    while (tail < text.size() && tail < position + 2 &&
           (text[tail] == '.' || text[tail] == ',' || text[tail] == ')' || text[tail] == ';')) {
      ++tail;
    }
    snippet.append(text.substr(position, tail - position));
    snippet += " …";
  } else {
    AppendFolded(text, position, text.size(), snippet);
    while (!snippet.empty() && snippet.back() == ' ') snippet.pop_back();
  }
  return snippet;
}

}  // namespace on::search
