// Keyword-search tokenizer shared by every database backend, plus LLM token estimates.
//
// Documents and queries go through the same Tokenizer, so a term indexed in SQLite FTS5 (through
// the `on_icu` FTS5 tokenizer) or in PostgreSQL (as TermsForIndex text) matches the same term
// produced from a user query.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace on::search {

// One search term and where it came from.
struct Token {
  std::string term;  // normalized, case-folded and stemmed; contains only letters, marks, digits
  size_t begin = 0;  // byte offset of the first source byte in the UTF-8 input
  size_t end = 0;    // byte offset one past the last source byte
};

// Splits UTF-8 text into search terms:
//   1. ICU word segmentation (root locale). ICU's dictionaries find words in unspaced Chinese,
//      Japanese, Thai, Lao, Khmer and Burmese text.
//   2. Segments without letters or digits (spaces, punctuation, symbols, emoji) are skipped.
//      Inside a word segment, characters other than letters, marks and digits split it, so
//      "example.com" gives "example" and "com", and "snake_case" gives "snake" and "case".
//      Apostrophes do not split: "don't" gives "dont".
//   3. NFKC_Casefold normalization (full-width forms, ligatures and case are folded).
//   4. Snowball stemming chosen by the script of the word: Latin words use the configured
//      language, Cyrillic uses "russian", Greek "greek", Arabic "arabic". Han, kana, Hangul, Thai
//      and all other scripts are not stemmed.
// Terms longer than kMaxTermBytes (base64 blobs, hashes) are dropped. Invalid UTF-8 bytes are
// treated as separators. Terms never contain whitespace or punctuation, so joining them with
// spaces (TermsForIndex) is lossless.
//
// Thread safety: Tokenize may be called on one Tokenizer from any number of threads at once.
// ICU break iterators and Snowball stemmers are not thread-safe, so each thread lazily creates
// its own and keeps them until it exits (shared by all Tokenizer objects on that thread).
class Tokenizer {
 public:
  static constexpr size_t kMaxTermBytes = 128;

  // `stem_language` is a Snowball algorithm name or ISO 639 code ("english", "french", "de")
  // applied to Latin-script words, or "none" to switch Latin stemming off. A name that
  // libstemmer does not know also switches Latin stemming off: check configuration with
  // IsSupportedStemLanguage first.
  explicit Tokenizer(std::string stem_language = "english");

  // Returns the terms of `utf8_text` in text order. Offsets refer to `utf8_text`. Accepts any
  // byte sequence and reports no errors.
  std::vector<Token> Tokenize(std::string_view utf8_text) const;

  // Calls `sink` with each term of `utf8_text` in text order without collecting them; stops
  // early when `sink` returns false. Exceptions thrown by `sink` propagate to the caller.
  using TokenSink = std::function<bool(const Token&)>;
  void ForEachToken(std::string_view utf8_text, const TokenSink& sink) const;

  // Returns the term of one ASCII word, as Tokenize returns it for that word alone, without ICU
  // segmentation: "" when the word gives no term. The word must be ASCII letters and digits with
  // apostrophes only between two letters or two digits ("don't", "1'000"), because ICU splits a
  // word at an apostrophe between a letter and a digit.
  std::string AsciiWordTerm(std::string_view word) const;

  // The language given to the constructor, lower-cased ("none" when stemming is off).
  const std::string& stem_language() const { return stem_language_; }
  // True when Latin-script words are stemmed.
  bool stems_latin() const { return stems_latin_; }

  // True for "none" and for every algorithm name or code that libstemmer accepts.
  static bool IsSupportedStemLanguage(std::string_view language);

 private:
  std::string stem_language_;
  bool stems_latin_ = false;
};

// Returns the terms of `text` joined with single spaces: the text PostgreSQL should index with
// to_tsvector('simple', ...). Each term is letters, marks and digits only, so PostgreSQL's
// default parser is expected to keep each one as a single lexeme.
// NOTE: that expectation has not been tested against a PostgreSQL server yet.
std::string TermsForIndex(std::string_view text, const Tokenizer& tokenizer);

// A term of a user query and the query text it came from.
struct QueryTerm {
  std::string term;     // as Tokenizer returns it
  std::string surface;  // the bytes of the user query that produced `term`
};

// Returns the distinct terms of a user query in query order, at most kMaxQueryTerms of them and
// taken from at most the first kMaxQueryBytes of the query. When the tokenizer stems English
// ("english" or "porter"), English stop words ("the", "of", "what") are dropped unless the query
// contains nothing else.
inline constexpr size_t kMaxQueryTerms = 64;
inline constexpr size_t kMaxQueryBytes = 16 * 1024;
std::vector<QueryTerm> ExtractQueryTerms(std::string_view user_query, const Tokenizer& tokenizer);

// Appends `text` as an FTS5 string: inside double quotes every character is literal, and a double
// quote is written twice, so no FTS5 syntax survives.
void AppendFts5String(std::string_view text, std::string& out);

// Returns an FTS5 MATCH expression for a user query: the surface text of each query term as an
// FTS5 string ("..."), joined with OR, so a document matching any term is found and bm25 ranks
// documents matching more terms higher. No FTS5 syntax from the user survives quoting. Accepts
// any byte sequence. Returns an empty string when the query has no terms. The caller should then
// return no results instead of running MATCH with an empty expression.
std::string BuildFts5Match(std::string_view user_query, const Tokenizer& tokenizer);

// Returns an estimate of how many tokens a BPE tokenizer (of the GPT-4 or Llama kind) produces
// for `text`, for budgeting chunks and prompts. It errs on the high side: every Han, kana,
// Hangul or Thai character counts as at least one token, and English prose comes out at about
// 1.3 tokens per word, punctuation included. Any byte sequence is accepted.
size_t EstimateTokens(std::string_view text);

// Computes EstimateTokens of a text given piece by piece: after Append(a) and Append(b), total()
// equals EstimateTokens(a + b) as long as no piece starts in the middle of a UTF-8 sequence.
// Cheap to copy, so a caller can test whether one more piece still fits.
class TokenEstimator {
 public:
  void Append(std::string_view text);
  size_t total() const;

  // Classes of runs that are priced together (a word, a number, a stretch of spaces).
  enum class RunKind { kNone, kLetters, kDigits, kSpaces, kNewlines, kPunctuation };

 private:
  void AppendCodePoint(int code_point, size_t byte_count);
  void CloseRun();

  size_t closed_total_ = 0;
  RunKind run_kind_ = RunKind::kNone;
  size_t run_weight_ = 0;
};

}  // namespace on::search
