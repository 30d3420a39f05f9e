#include "search/tokenizer.h"

#include <libstemmer.h>
#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/utext.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <utility>

namespace on::search {
namespace {

// ICU break iterators return int32_t positions, so longer texts are segmented in windows.
constexpr size_t kMaxWindowBytes = size_t{1} << 30;
// How far back from a window's end to look for whitespace to cut at.
constexpr size_t kWindowCutSearchBytes = 4096;

std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

// ICU objects and stemmers owned by one thread. BreakIterator and sb_stemmer keep iteration
// state inside the object, so sharing them between threads would corrupt results.
class ThreadState {
 public:
  ThreadState() = default;
  ThreadState(const ThreadState&) = delete;
  ThreadState& operator=(const ThreadState&) = delete;
  ~ThreadState() {
    for (auto& [language, stemmer] : stemmers_) sb_stemmer_delete(stemmer);
  }

  // Returns nullptr when ICU cannot build the iterator (missing ICU data).
  icu::BreakIterator* WordBreaker() {
    if (!word_breaker_ && !word_breaker_failed_) {
      UErrorCode status = U_ZERO_ERROR;
      word_breaker_.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
      if (U_FAILURE(status)) word_breaker_.reset();
      word_breaker_failed_ = !word_breaker_;
    }
    return word_breaker_.get();
  }

  // True while a Tokenize call on this thread iterates with WordBreaker(), so a nested call
  // (from inside a sink) uses its own copy.
  bool word_breaker_busy = false;

  // Returns nullptr when libstemmer has no algorithm of that name.
  sb_stemmer* Stemmer(const std::string& language) {
    for (auto& [name, stemmer] : stemmers_) {
      if (name == language) return stemmer;
    }
    sb_stemmer* stemmer = sb_stemmer_new(language.c_str(), "UTF_8");
    stemmers_.emplace_back(language, stemmer);
    return stemmer;
  }

 private:
  std::unique_ptr<icu::BreakIterator> word_breaker_;
  bool word_breaker_failed_ = false;
  // Few languages are ever used on one thread, so a vector beats a map.
  std::vector<std::pair<std::string, sb_stemmer*>> stemmers_;
};

ThreadState& GetThreadState() {
  thread_local ThreadState state;
  return state;
}

const icu::Normalizer2* NfkcCasefold() {
  static const icu::Normalizer2* const normalizer = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* instance = icu::Normalizer2::getNFKCCasefoldInstance(status);
    return U_SUCCESS(status) ? instance : nullptr;
  }();
  return normalizer;
}

bool IsWordCodePoint(UChar32 c) {
  switch (u_charType(c)) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
    case U_NON_SPACING_MARK:
    case U_ENCLOSING_MARK:
    case U_COMBINING_SPACING_MARK:
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      return true;
    default:
      return false;
  }
}

// Characters that stay inside a word without being part of its term: apostrophes ("don't")
// and format characters such as ZERO WIDTH NON-JOINER, which Persian and Indic words contain.
bool IsJoinerCodePoint(UChar32 c) {
  if (c == 0x0027 || c == 0x2019 || c == 0x02BC || c == 0xFF07) return true;
  return u_charType(c) == U_FORMAT_CHAR;
}

// Keeps only letters, marks and digits, so terms never carry punctuation or spaces (NFKC can
// produce both, e.g. U+2474 PARENTHESIZED DIGIT ONE becomes "(1)").
std::string KeepWordCharacters(std::string_view term) {
  std::string word_characters;
  word_characters.reserve(term.size());
  const char* data = term.data();
  const int32_t length = static_cast<int32_t>(term.size());
  int32_t i = 0;
  while (i < length) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(data, i, length, c);
    if (c >= 0 && IsWordCodePoint(c)) {
      word_characters.append(data + start, static_cast<size_t>(i - start));
    }
  }
  return word_characters;
}

// Returns the Snowball algorithm for a term, or an empty view for terms left unstemmed.
std::string_view StemLanguageFor(std::string_view term, const Tokenizer& tokenizer) {
  const char* data = term.data();
  const int32_t length = static_cast<int32_t>(term.size());
  int32_t i = 0;
  while (i < length) {
    UChar32 c;
    U8_NEXT(data, i, length, c);
    if (c < 0 || !u_isalpha(c)) continue;
    UErrorCode status = U_ZERO_ERROR;
    switch (uscript_getScript(c, &status)) {
      case USCRIPT_LATIN:
        return tokenizer.stems_latin() ? std::string_view(tokenizer.stem_language()) : "";
      case USCRIPT_CYRILLIC:
        // NOTE: every Cyrillic-script language gets the Russian stemmer, so Ukrainian or
        // Bulgarian words may be stemmed to forms that do not match their other inflections.
        return "russian";
      case USCRIPT_GREEK:
        return "greek";
      case USCRIPT_ARABIC:
        return "arabic";
      default:
        return "";
    }
  }
  return "";
}

// Snowball's English rules remove possessive endings written with U+0027 only.
void NormalizeApostrophes(std::string& term) {
  static constexpr std::string_view kRightQuote = "\u2019";
  static constexpr std::string_view kModifierApostrophe = "\u02BC";
  for (std::string_view apostrophe : {kRightQuote, kModifierApostrophe}) {
    size_t position = 0;
    while ((position = term.find(apostrophe, position)) != std::string::npos) {
      term.replace(position, apostrophe.size(), "'");
      position += 1;
    }
  }
}

std::string Stem(std::string term, const Tokenizer& tokenizer) {
  const std::string_view language = StemLanguageFor(term, tokenizer);
  if (language.empty()) return term;
  sb_stemmer* stemmer = GetThreadState().Stemmer(std::string(language));
  if (stemmer == nullptr) return term;
  const sb_symbol* stemmed = sb_stemmer_stem(
      stemmer, reinterpret_cast<const sb_symbol*>(term.data()), static_cast<int>(term.size()));
  if (stemmed == nullptr) return term;  // libstemmer ran out of memory
  return std::string(reinterpret_cast<const char*>(stemmed),
                     static_cast<size_t>(sb_stemmer_length(stemmer)));
}

bool IsAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Normalizes and stems the source bytes of one word piece; returns "" when nothing is left.
std::string MakeTerm(std::string_view piece, const Tokenizer& tokenizer) {
  std::string normalized;
  if (IsAscii(piece)) {
    // NFKC_Casefold changes no ASCII character other than upper-case letters: skip ICU.
    normalized = AsciiLower(piece);
  } else {
    const icu::Normalizer2* normalizer = NfkcCasefold();
    icu::UnicodeString source = icu::UnicodeString::fromUTF8(
        icu::StringPiece(piece.data(), static_cast<int32_t>(piece.size())));
    UErrorCode status = U_ZERO_ERROR;
    const icu::UnicodeString folded =
        normalizer != nullptr ? normalizer->normalize(source, status) : source.foldCase();
    if (U_FAILURE(status)) return "";
    folded.toUTF8String(normalized);
    NormalizeApostrophes(normalized);
  }
  std::string term = KeepWordCharacters(Stem(std::move(normalized), tokenizer));
  if (term.size() > Tokenizer::kMaxTermBytes) return "";
  return term;
}

// Splits one ICU word segment at characters that are neither word characters nor joiners and
// passes a token for each piece to `sink`. `segment_begin` and `segment_end` index `text`.
// Returns false when `sink` requested a stop.
bool EmitSegmentTokens(std::string_view text, size_t segment_begin, size_t segment_end,
                       const Tokenizer& tokenizer, const Tokenizer::TokenSink& sink) {
  constexpr size_t kNoPiece = static_cast<size_t>(-1);
  size_t piece_begin = kNoPiece;
  size_t piece_end = 0;  // end of the last word character in the open piece

  // Returns false when `sink` requested a stop.
  auto close_piece = [&] {
    if (piece_begin == kNoPiece) return true;
    Token token{MakeTerm(text.substr(piece_begin, piece_end - piece_begin), tokenizer),
                piece_begin, piece_end};
    piece_begin = kNoPiece;
    return token.term.empty() || sink(token);
  };

  // U8_NEXT indexes with int32_t, so decode relative to the segment start. ICU segments are far
  // shorter than 2 GiB because windows are.
  const char* data = text.data() + segment_begin;
  const int32_t length = static_cast<int32_t>(segment_end - segment_begin);
  int32_t i = 0;
  while (i < length) {
    const size_t start = segment_begin + static_cast<size_t>(i);
    UChar32 c;
    U8_NEXT(data, i, length, c);
    const size_t next = segment_begin + static_cast<size_t>(i);
    if (c >= 0 && IsWordCodePoint(c)) {
      if (piece_begin == kNoPiece) piece_begin = start;
      piece_end = next;
    } else if (c >= 0 && IsJoinerCodePoint(c) && piece_begin != kNoPiece) {
      continue;
    } else if (!close_piece()) {
      return false;
    }
  }
  return close_piece();
}

// A word break iterator set to one window of text for the lifetime of the object: the thread's
// own iterator, or a copy of it when a sink on this thread tokenizes while another Tokenize call
// is iterating.
class WordBreakerLease {
 public:
  explicit WordBreakerLease(std::string_view window) : state_(GetThreadState()) {
    breaker_ = state_.WordBreaker();
    if (breaker_ == nullptr) return;
    if (state_.word_breaker_busy) {
      copy_.reset(breaker_->clone());
      breaker_ = copy_.get();
      if (breaker_ == nullptr) return;
    } else {
      state_.word_breaker_busy = true;
    }
    UErrorCode status = U_ZERO_ERROR;
    utext_openUTF8(&utext_, window.data(), static_cast<int64_t>(window.size()), &status);
    breaker_->setText(&utext_, status);
    text_set_ = U_SUCCESS(status);
  }

  WordBreakerLease(const WordBreakerLease&) = delete;
  WordBreakerLease& operator=(const WordBreakerLease&) = delete;

  ~WordBreakerLease() {
    if (breaker_ == nullptr) return;
    // The iterator keeps a reference to utext_, which lives on this object: detach it.
    UErrorCode ignored = U_ZERO_ERROR;
    UText empty = UTEXT_INITIALIZER;
    utext_openUTF8(&empty, "", 0, &ignored);
    breaker_->setText(&empty, ignored);
    utext_close(&empty);
    utext_close(&utext_);
    if (!copy_) state_.word_breaker_busy = false;
  }

  // Returns nullptr when no iterator could be set up (ICU data missing or out of memory).
  icu::BreakIterator* get() const { return text_set_ ? breaker_ : nullptr; }

 private:
  ThreadState& state_;
  icu::BreakIterator* breaker_ = nullptr;
  std::unique_ptr<icu::BreakIterator> copy_;
  UText utext_ = UTEXT_INITIALIZER;
  bool text_set_ = false;
};

// Emits the tokens of text[window_begin, window_end) with offsets relative to `text`. Returns
// false when `sink` requested a stop.
bool TokenizeWindow(std::string_view text, size_t window_begin, size_t window_end,
                    const Tokenizer& tokenizer, const Tokenizer::TokenSink& sink) {
  const WordBreakerLease lease(text.substr(window_begin, window_end - window_begin));
  icu::BreakIterator* breaker = lease.get();
  if (breaker == nullptr) {
    // Without segmentation the text is split at non-word characters only, which still works
    // for languages written with spaces.
    return EmitSegmentTokens(text, window_begin, window_end, tokenizer, sink);
  }

  // With a UTF-8 UText, break positions are byte offsets into the window.
  int32_t segment_begin = breaker->first();
  for (int32_t segment_end = breaker->next(); segment_end != icu::BreakIterator::DONE;
       segment_begin = segment_end, segment_end = breaker->next()) {
    if (!EmitSegmentTokens(text, window_begin + static_cast<size_t>(segment_begin),
                           window_begin + static_cast<size_t>(segment_end), tokenizer, sink)) {
      return false;
    }
  }
  return true;
}

// Returns where the window starting at `begin` ends: at whitespace near the size limit so no
// word is cut, otherwise at a UTF-8 character boundary.
size_t WindowEnd(std::string_view text, size_t begin) {
  if (text.size() - begin <= kMaxWindowBytes) return text.size();
  const size_t limit = begin + kMaxWindowBytes;
  for (size_t i = limit; i > limit - kWindowCutSearchBytes; --i) {
    const char c = text[i - 1];
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') return i;
  }
  size_t end = limit;
  while (end > begin && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return end;
}

}  // namespace

Tokenizer::Tokenizer(std::string stem_language) : stem_language_(AsciiLower(stem_language)) {
  if (stem_language_.empty()) stem_language_ = "none";
  stems_latin_ = stem_language_ != "none" && IsSupportedStemLanguage(stem_language_);
}

bool Tokenizer::IsSupportedStemLanguage(std::string_view language) {
  const std::string name = AsciiLower(language);
  if (name == "none") return true;
  sb_stemmer* stemmer = sb_stemmer_new(name.c_str(), "UTF_8");
  sb_stemmer_delete(stemmer);
  return stemmer != nullptr;
}

void Tokenizer::ForEachToken(std::string_view utf8_text, const TokenSink& sink) const {
  size_t window_begin = 0;
  while (window_begin < utf8_text.size()) {
    const size_t window_end = WindowEnd(utf8_text, window_begin);
    if (!TokenizeWindow(utf8_text, window_begin, window_end, *this, sink)) return;
    window_begin = window_end;
  }
}

std::string Tokenizer::AsciiWordTerm(std::string_view word) const { return MakeTerm(word, *this); }

std::vector<Token> Tokenizer::Tokenize(std::string_view utf8_text) const {
  std::vector<Token> tokens;
  ForEachToken(utf8_text, [&tokens](const Token& token) {
    tokens.push_back(token);
    return true;
  });
  return tokens;
}

std::string TermsForIndex(std::string_view text, const Tokenizer& tokenizer) {
  std::string joined;
  for (const Token& token : tokenizer.Tokenize(text)) {
    if (!joined.empty()) joined.push_back(' ');
    joined += token.term;
  }
  return joined;
}

}  // namespace on::search
