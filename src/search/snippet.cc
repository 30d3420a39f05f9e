#include "search/snippet.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace on::search {
namespace {

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
    case 0x00D7:  // multiplication sign, inside the Latin-1 letters
    case 0x00F7:  // division sign, likewise
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

// The class of one character, as the scan needs it.
enum class CharClass : uint8_t {
  kSpace,       // ASCII whitespace: words never cross it
  kSeparator,   // ends a word and is no part of one
  kLetter,      // ASCII letters and the letters of Latin-1, Latin Extended-A and B and Latin Extended Additional
  kDigit,       // ASCII digits
  kMark,        // combining diacritical marks: part of the word they follow
  kApostrophe,  // "'" and U+2019: joins two letters or two digits, as ICU's word rules do
  kOther,       // anything else: the run it is in goes to the tokenizer
};

struct Char {
  CharClass kind;
  uint8_t length;  // bytes
};

constexpr std::array<CharClass, 128> MakeAsciiClasses() {
  std::array<CharClass, 128> classes{};
  for (int c = 0; c < 128; ++c) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      classes[c] = CharClass::kSpace;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      classes[c] = CharClass::kLetter;
    } else if (c >= '0' && c <= '9') {
      classes[c] = CharClass::kDigit;
    } else if (c == '\'') {
      classes[c] = CharClass::kApostrophe;
    } else {
      classes[c] = CharClass::kSeparator;
    }
  }
  return classes;
}
constexpr std::array<CharClass, 128> kAsciiClasses = MakeAsciiClasses();

// The non-ASCII character at text[i]. Invalid UTF-8 is kOther, so the tokenizer, which treats it
// as a separator, decides.
[[gnu::noinline]] Char ClassifyNonAscii(std::string_view text, size_t i) {
  const auto byte = static_cast<unsigned char>(text[i]);
  uint32_t c = 0;
  size_t length = 0;
  if (byte >= 0xC2 && byte < 0xE0) {
    c = byte & 0x1F;
    length = 2;
  } else if (byte >= 0xE0 && byte < 0xF0) {
    c = byte & 0x0F;
    length = 3;
  } else {
    return {CharClass::kOther, 1};
  }
  if (i + length > text.size()) return {CharClass::kOther, 1};
  for (size_t k = 1; k < length; ++k) {
    const auto continuation = static_cast<unsigned char>(text[i + k]);
    if ((continuation & 0xC0) != 0x80) return {CharClass::kOther, 1};
    c = (c << 6) | (continuation & 0x3F);
  }
  // Overlong and surrogate encodings are invalid UTF-8.
  if ((length == 3 && c < 0x800) || (c >= 0xD800 && c <= 0xDFFF)) return {CharClass::kOther, 1};
  const auto size = static_cast<uint8_t>(length);
  if (c == 0x2019) return {CharClass::kApostrophe, size};
  if (IsSeparatorCodePoint(c)) return {CharClass::kSeparator, size};
  if ((c >= 0x00C0 && c <= 0x024F) || (c >= 0x1E00 && c <= 0x1EFF)) return {CharClass::kLetter, size};
  if (c >= 0x0300 && c <= 0x036F) return {CharClass::kMark, size};
  return {CharClass::kOther, size};
}

// The character at text[i], which must be in range.
inline Char ClassifyAt(std::string_view text, size_t i) {
  const auto byte = static_cast<unsigned char>(text[i]);
  if (byte < 0x80) [[likely]] return {kAsciiClasses[byte], 1};
  return ClassifyNonAscii(text, i);
}

bool IsWordClass(CharClass kind) { return kind == CharClass::kLetter || kind == CharClass::kDigit; }

}  // namespace

// The terms of words, shared by every builder with the same stemming language. The same words come
// back in every result page, and stemming a word costs more than scanning it many times over.
// Each shard has its own lock and a bound on its entries, and a full shard starts over.
class SnippetBuilder::TermCache {
 public:
  static TermCache& For(const Tokenizer& tokenizer) {
    static std::mutex mutex;
    static std::map<std::string, std::unique_ptr<TermCache>, std::less<>> caches;
    std::lock_guard lock(mutex);
    auto& cache = caches[tokenizer.stem_language()];
    if (!cache) cache = std::make_unique<TermCache>();
    return *cache;
  }

  // Returns the index in `query_terms` of the word's term (-1 for none), or nullopt when the word
  // is not in the cache. Compares under the lock, so no term is copied.
  std::optional<int> FindIndex(std::string_view word, const std::vector<std::string>& query_terms) {
    Shard& shard = ShardOf(word);
    std::lock_guard lock(shard.mutex);
    const auto found = shard.terms.find(word);
    if (found == shard.terms.end()) return std::nullopt;
    const auto term = std::find(query_terms.begin(), query_terms.end(), found->second);
    return term == query_terms.end() ? -1 : static_cast<int>(term - query_terms.begin());
  }

  void Add(std::string_view word, const std::string& term) {
    Shard& shard = ShardOf(word);
    std::lock_guard lock(shard.mutex);
    if (shard.terms.size() >= kShardEntries) shard.terms.clear();
    shard.terms.emplace(std::string(word), term);
  }

 private:
  static constexpr size_t kShards = 8;
  static constexpr size_t kShardEntries = 8192;  // 64 Ki words in all, a few MB

  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::string, WordHash, std::equal_to<>> terms;
  };
  Shard& ShardOf(std::string_view word) { return shards_[WordHash{}(word) % kShards]; }

  std::array<Shard, kShards> shards_;
};

struct SnippetBuilder::Word {
  size_t begin = 0;
  size_t end = 0;
  int term = -1;  // index into the query terms, -1 when the word matches none
};

SnippetBuilder::SnippetBuilder(std::vector<std::string> query_terms, const Tokenizer& tokenizer, size_t max_words)
    : query_terms_(std::move(query_terms)),
      tokenizer_(tokenizer),
      term_cache_(TermCache::For(tokenizer)),
      max_words_(max_words) {
  for (const std::string& term : query_terms_) {
    const auto first = static_cast<unsigned char>(term.empty() ? 0 : term[0]);
    if (first < 128) first_letters_[first] = true;
  }
}

int SnippetBuilder::TermIndex(std::string_view term) const {
  const auto found = std::find(query_terms_.begin(), query_terms_.end(), term);
  return found == query_terms_.end() ? -1 : static_cast<int>(found - query_terms_.begin());
}

// Snowball stems keep a word's first letter, so an ASCII word whose first letter starts no query
// term is not tokenized at all. Words with other characters are looked up whatever their first
// letter: case folding can turn a non-ASCII letter into ASCII ("ſ" into "s").
int SnippetBuilder::WordTerm(std::string_view word, bool ascii) {
  if (ascii && !first_letters_[static_cast<unsigned char>(AsciiLower(word[0]))]) return -1;
  auto found = word_terms_.find(word);
  if (found != word_terms_.end()) return found->second;
  int term = -1;
  if (std::optional<int> cached = term_cache_.FindIndex(word, query_terms_)) {
    term = *cached;
  } else if (ascii) {
    const std::string word_term = tokenizer_.AsciiWordTerm(word);
    term_cache_.Add(word, word_term);
    term = TermIndex(word_term);
  } else {
    // A word of the scan gives one token. Other results are left out of the cache, so it never
    // contains a partial result.
    const std::vector<Token> tokens = tokenizer_.Tokenize(word);
    if (tokens.size() == 1) term_cache_.Add(word, tokens[0].term);
    for (const Token& token : tokens) {
      term = TermIndex(token.term);
      if (term >= 0) break;
    }
  }
  word_terms_.emplace(std::string(word), term);
  return term;
}

// Splits `text` into words with their offsets, as the tokenizer splits it, in one pass. Words are
// runs of letters and digits with the combining marks that follow them. As in ICU's word rules, an
// apostrophe between two letters or two digits joins them ("don't", "don’t"), so "a'1" is two words.
// The scan knows the letters of Latin scripts only. A run between ASCII whitespace that has any
// other character (Chinese, Cyrillic, a format character, invalid UTF-8) goes to the tokenizer
// instead, which segments it with ICU.
std::vector<SnippetBuilder::Word> SnippetBuilder::SplitWords(std::string_view text) {
  std::vector<Word> words;
  words.reserve(text.size() / 6);
  size_t run_begin = 0;        // start of the current whitespace-separated run
  size_t run_first_word = 0;   // index in `words` of the run's first word
  // Hands the run that starts at run_begin to the tokenizer, replacing the words found so far in
  // it, and returns the offset of the whitespace after it.
  auto tokenize_run = [&]() {
    words.resize(run_first_word);
    size_t run_end = run_begin;
    while (run_end < text.size() && !IsAsciiSpace(text[run_end])) ++run_end;
    tokenizer_.ForEachToken(text.substr(run_begin, run_end - run_begin), [&](const Token& token) {
      words.push_back(Word{run_begin + token.begin, run_begin + token.end, TermIndex(token.term)});
      return true;
    });
    return run_end;
  };

  size_t i = 0;
  while (i < text.size()) {
    const Char c = ClassifyAt(text, i);
    switch (c.kind) {
      case CharClass::kSpace:
        ++i;
        run_begin = i;
        run_first_word = words.size();
        continue;
      case CharClass::kSeparator:
      case CharClass::kApostrophe:
        i += c.length;
        continue;
      case CharClass::kMark:  // ICU attaches a mark to the character before it, here no letter
      case CharClass::kOther:
        i = tokenize_run();
        continue;
      case CharClass::kLetter:
      case CharClass::kDigit:
        break;
    }
    const size_t word_begin = i;
    CharClass last = c.kind;  // of the last letter or digit
    bool ascii = c.length == 1;
    bool other = false;
    i += c.length;
    while (i < text.size()) {
      const auto byte = static_cast<unsigned char>(text[i]);
      if (byte < 0x80 && IsWordClass(kAsciiClasses[byte])) {
        last = kAsciiClasses[byte];
        ++i;
        continue;
      }
      const Char next = ClassifyAt(text, i);
      if (IsWordClass(next.kind)) {
        last = next.kind;
      } else if (next.kind == CharClass::kApostrophe) {
        const size_t after = i + next.length;
        if (after >= text.size()) break;
        const Char joined = ClassifyAt(text, after);
        if (joined.kind != last) {
          other = joined.kind == CharClass::kOther || joined.kind == CharClass::kMark;
          break;
        }
      } else if (next.kind == CharClass::kOther) {
        other = true;
        break;
      } else if (next.kind != CharClass::kMark) {
        break;
      }
      ascii = ascii && next.length == 1;
      i += next.length;
    }
    if (other) {
      i = tokenize_run();
      continue;
    }
    words.push_back(Word{word_begin, i, WordTerm(text.substr(word_begin, i - word_begin), ascii)});
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
