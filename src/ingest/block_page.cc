#include "ingest/block_page.h"

#include <array>
#include <cstddef>
#include <string>

namespace on::ingest {
namespace {

constexpr std::size_t kMaxWordsForChallengePhrase = 800;
constexpr std::size_t kMaxWordsForTwoWallPhrases = 200;
constexpr std::size_t kMaxWordsForOneWallPhrase = 50;

// Phrases that appear on bot challenges and WAF block pages (Cloudflare, Akamai, Imperva
// Incapsula, PerimeterX, DataDome, F5) and hardly ever in an article's own text.
constexpr std::array<std::string_view, 24> kChallengePhrases = {
    "checking your browser before accessing",
    "checking if the site connection is secure",
    "verify you are human",
    "verifying you are human",
    "verify that you are human",
    "are you a robot",
    "not a robot",
    "complete the security check",
    "unusual traffic from your computer network",
    "enable javascript and cookies to continue",
    "please enable js and disable any ad blocker",
    "attention required! | cloudflare",
    "cloudflare ray id",
    "performance & security by cloudflare",
    "ddos protection by",
    "incapsula incident id",
    "pardon our interruption",
    "press & hold",
    "access to this page has been denied",
    "you have been blocked",
    "this request was blocked by",
    "the requested url was rejected",
    "your support id is",
    "you don't have permission to access",
};

// Phrases typical of login walls, paywalls and error pages, but common enough in real text that
// they count only in very short pages.
constexpr std::array<std::string_view, 24> kWallPhrases = {
    "access denied",
    "forbidden",
    "captcha",
    "sign in",
    "sign up",
    "log in",
    "login",
    "create a free account",
    "subscribe to continue",
    "subscribe to read",
    "to continue reading",
    "already a subscriber",
    "members only",
    "enable javascript",
    "javascript is disabled",
    "javascript is required",
    "cookies are disabled",
    "enable cookies",
    "just a moment",
    "too many requests",
    "rate limit",
    "unauthorized",
    "session has expired",
    "request blocked",
};

bool IsBlockingStatus(long http_status) {
  return http_status == 401 || http_status == 403 || http_status == 407 || http_status == 429 ||
         http_status == 451;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Counts whitespace-separated words, stopping once the count exceeds `limit`.
std::size_t CountWordsUpTo(std::string_view text, std::size_t limit) {
  std::size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    if (IsSpace(c)) {
      in_word = false;
    } else if (!in_word) {
      in_word = true;
      if (++words > limit) break;
    }
  }
  return words;
}

// Lowercases ASCII, turns each run of whitespace into one space and the typographic apostrophe
// U+2019 into "'", so phrases match however the extractor laid out the text.
std::string NormalizeForMatching(std::string_view text) {
  constexpr std::string_view kRightSingleQuote = "\xE2\x80\x99";
  std::string normalized;
  normalized.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (IsSpace(c)) {
      if (!normalized.empty() && normalized.back() != ' ') normalized.push_back(' ');
    } else if (text.substr(i, kRightSingleQuote.size()) == kRightSingleQuote) {
      normalized.push_back('\'');
      i += kRightSingleQuote.size() - 1;
    } else {
      normalized.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
  }
  return normalized;
}

template <std::size_t N>
std::size_t CountPhrasesFound(std::string_view normalized, const std::array<std::string_view, N>& phrases) {
  std::size_t found = 0;
  for (std::string_view phrase : phrases) {
    if (normalized.find(phrase) != std::string_view::npos) ++found;
  }
  return found;
}

}  // namespace

bool LooksLikeBlockPage(std::string_view extracted_text, long http_status) {
  if (IsBlockingStatus(http_status)) return true;

  const std::size_t words = CountWordsUpTo(extracted_text, kMaxWordsForChallengePhrase);
  if (words == 0 || words > kMaxWordsForChallengePhrase) return false;

  const std::string normalized = NormalizeForMatching(extracted_text);
  if (CountPhrasesFound(normalized, kChallengePhrases) > 0) return true;

  const std::size_t wall_phrases = CountPhrasesFound(normalized, kWallPhrases);
  if (wall_phrases >= 2 && words <= kMaxWordsForTwoWallPhrases) return true;
  return wall_phrases >= 1 && words <= kMaxWordsForOneWallPhrase;
}

}  // namespace on::ingest
