// Turning user queries into search terms and FTS5 MATCH expressions.
#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>
#include <unordered_set>

#include "search/tokenizer.h"

namespace on::search {
namespace {

// Common English function words. With OR semantics each of them would match nearly every
// document, so they only add noise to the result set.
constexpr std::string_view kEnglishStopWords[] = {
    "a",       "about",   "above",    "after",      "again",  "against", "all",     "am",
    "an",      "and",     "any",      "are",        "as",     "at",      "be",      "because",
    "been",    "before",  "being",    "below",      "between", "both",   "but",     "by",
    "can",     "could",   "did",      "do",         "does",   "doing",   "down",    "during",
    "each",    "few",     "for",      "from",       "further", "had",    "has",     "have",
    "having",  "he",      "her",      "here",       "hers",   "herself", "him",     "himself",
    "his",     "how",     "i",        "if",         "in",     "into",    "is",      "it",
    "its",     "itself",  "just",     "me",         "more",   "most",    "my",      "myself",
    "no",      "nor",     "not",      "now",        "of",     "off",     "on",      "once",
    "only",    "or",      "other",    "our",        "ours",   "ourselves", "out",   "over",
    "own",     "same",    "she",      "should",     "so",     "some",    "such",    "than",
    "that",    "the",     "their",    "theirs",     "them",   "themselves", "then", "there",
    "these",   "they",    "this",     "those",      "through", "to",     "too",     "under",
    "until",   "up",      "very",     "was",        "we",     "were",    "what",    "when",
    "where",   "which",   "while",    "who",        "whom",   "why",     "will",    "with",
    "would",   "you",     "your",     "yours",      "yourself", "yourselves", "s",  "t",
};

bool IsEnglishStopWord(std::string_view surface) {
  if (surface.size() > 12) return false;
  std::string lower(surface);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return std::find(std::begin(kEnglishStopWords), std::end(kEnglishStopWords), lower) !=
         std::end(kEnglishStopWords);
}

bool UsesEnglishStopWords(const Tokenizer& tokenizer) {
  return tokenizer.stems_latin() &&
         (tokenizer.stem_language() == "english" || tokenizer.stem_language() == "en" ||
          tokenizer.stem_language() == "eng" || tokenizer.stem_language() == "porter");
}

// Cuts `text` to at most `max_bytes` without splitting a UTF-8 sequence.
std::string_view TruncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

void AppendFts5String(std::string_view text, std::string& out) {
  out.push_back('"');
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::vector<QueryTerm> ExtractQueryTerms(std::string_view user_query, const Tokenizer& tokenizer) {
  const std::string_view query = TruncateUtf8(user_query, kMaxQueryBytes);
  const bool drop_stop_words = UsesEnglishStopWords(tokenizer);

  std::vector<QueryTerm> content_terms;
  std::vector<QueryTerm> stop_terms;
  std::unordered_set<std::string> seen;
  for (Token& token : tokenizer.Tokenize(query)) {
    if (!seen.insert(token.term).second) continue;
    std::string surface(query.substr(token.begin, token.end - token.begin));
    const bool is_stop_word = drop_stop_words && IsEnglishStopWord(surface);
    auto& bucket = is_stop_word ? stop_terms : content_terms;
    if (bucket.size() < kMaxQueryTerms) {
      bucket.push_back(QueryTerm{std::move(token.term), std::move(surface)});
    }
  }
  // A query made only of stop words ("The Who") still has to find something.
  return content_terms.empty() ? stop_terms : content_terms;
}

std::string BuildFts5Match(std::string_view user_query, const Tokenizer& tokenizer) {
  std::string expression;
  for (const QueryTerm& query_term : ExtractQueryTerms(user_query, tokenizer)) {
    if (!expression.empty()) expression += " OR ";
    // The surface text, not the term, goes into the expression: FTS5 runs it through the same
    // tokenizer, and Snowball stems are not always stable when stemmed a second time.
    AppendFts5String(query_term.surface, expression);
  }
  return expression;
}

}  // namespace on::search
