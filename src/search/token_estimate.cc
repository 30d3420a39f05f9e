// LLM token estimates without a model vocabulary.
//
// Byte-level BPE vocabularies trained mostly on English text usually encode a common English
// word with its leading space as one token and split rarer words into several pieces. They
// spend about one token or more on each Chinese, Japanese or Korean character. The prices below
// imitate that and round up. They are an estimate, not a reproduction of any vocabulary, so a
// real tokenizer can still count more for unusual text.
#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

#include <algorithm>

#include "search/tokenizer.h"

namespace on::search {
namespace {

// Letter weights: an ASCII letter weighs 2 and any other letter or mark 5, and a run costs one
// token per 12 weight units (6 ASCII letters, or 2.4 Cyrillic, Greek, Arabic... letters).
constexpr size_t kAsciiLetterWeight = 2;
constexpr size_t kOtherLetterWeight = 5;
constexpr size_t kLetterWeightPerToken = 12;
constexpr size_t kDigitsPerToken = 3;
constexpr size_t kPunctuationPerToken = 2;
constexpr size_t kNewlinesPerToken = 4;
// The first space of a run is part of the next word's token.
constexpr size_t kSpacesPerToken = 4;

size_t CeilDiv(size_t value, size_t divisor) { return (value + divisor - 1) / divisor; }

// Scripts written without spaces whose characters cost at least one token each.
bool IsDenseCodePoint(UChar32 c) {
  if ((c >= 0x2E80 && c <= 0x9FFF) ||    // CJK radicals, punctuation, kana, Bopomofo, Han
      (c >= 0xAC00 && c <= 0xD7FF) ||    // Hangul syllables and jamo
      (c >= 0xF900 && c <= 0xFAFF) ||    // CJK compatibility ideographs
      (c >= 0xFF00 && c <= 0xFFEF) ||    // full-width and half-width forms
      (c >= 0x20000 && c <= 0x3FFFF)) {  // CJK extensions B and later
    return true;
  }
  UErrorCode status = U_ZERO_ERROR;
  switch (uscript_getScript(c, &status)) {
    case USCRIPT_HAN:
    case USCRIPT_HIRAGANA:
    case USCRIPT_KATAKANA:
    case USCRIPT_HANGUL:
    case USCRIPT_THAI:
    case USCRIPT_LAO:
    case USCRIPT_KHMER:
    case USCRIPT_MYANMAR:
    case USCRIPT_TIBETAN:
    case USCRIPT_YI:
    case USCRIPT_BOPOMOFO:
      return true;
    default:
      return false;
  }
}

using RunKind = TokenEstimator::RunKind;

size_t RunCost(RunKind kind, size_t weight) {
  switch (kind) {
    case RunKind::kNone:
      return 0;
    case RunKind::kLetters:
      return CeilDiv(weight, kLetterWeightPerToken);
    case RunKind::kDigits:
      return CeilDiv(weight, kDigitsPerToken);
    case RunKind::kSpaces:
      return weight <= 1 ? 0 : CeilDiv(weight - 1, kSpacesPerToken);
    case RunKind::kNewlines:
      return CeilDiv(weight, kNewlinesPerToken);
    case RunKind::kPunctuation:
      return CeilDiv(weight, kPunctuationPerToken);
  }
  return 0;
}

// The run a code point joins and its weight there, or kNone for characters priced alone.
struct RunMember {
  RunKind kind;
  size_t weight;
};

RunMember ClassifyAscii(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    return {RunKind::kLetters, kAsciiLetterWeight};
  }
  if (c >= '0' && c <= '9') return {RunKind::kDigits, 1};
  if (c == ' ' || c == '\t') return {RunKind::kSpaces, 1};
  if (c == '\n' || c == '\r' || c == '\v' || c == '\f') return {RunKind::kNewlines, 1};
  if (c > ' ' && c < 0x7F) return {RunKind::kPunctuation, 1};
  return {RunKind::kNone, 0};  // control characters
}

RunMember ClassifyNonAscii(UChar32 c) {
  if (u_isalpha(c) || (U_GET_GC_MASK(c) & U_GC_M_MASK) != 0) {
    return {RunKind::kLetters, kOtherLetterWeight};
  }
  if (u_isdigit(c)) return {RunKind::kDigits, 1};
  if (u_isUWhiteSpace(c)) return {RunKind::kSpaces, 1};
  if (u_ispunct(c)) return {RunKind::kPunctuation, 1};
  return {RunKind::kNone, 0};
}

}  // namespace

void TokenEstimator::CloseRun() {
  closed_total_ += RunCost(run_kind_, run_weight_);
  run_kind_ = RunKind::kNone;
  run_weight_ = 0;
}

void TokenEstimator::AppendCodePoint(int code_point, size_t byte_count) {
  if (code_point < 0) {  // an invalid byte sequence costs one token
    CloseRun();
    closed_total_ += 1;
    return;
  }
  if (code_point >= 0x80 && IsDenseCodePoint(code_point)) {
    CloseRun();
    closed_total_ += 1;
    return;
  }
  const RunMember member = code_point < 0x80 ? ClassifyAscii(static_cast<char>(code_point))
                                             : ClassifyNonAscii(code_point);
  if (member.kind == RunKind::kNone) {
    // Symbols, emoji and control characters: byte-level BPE often needs a token per 2 bytes.
    CloseRun();
    closed_total_ += CeilDiv(byte_count, 2);
    return;
  }
  if (member.kind != run_kind_) CloseRun();
  run_kind_ = member.kind;
  run_weight_ += member.weight;
}

void TokenEstimator::Append(std::string_view text) {
  const char* data = text.data();
  size_t offset = 0;
  while (offset < text.size()) {
    const unsigned char byte = static_cast<unsigned char>(data[offset]);
    if (byte < 0x80) {  // ASCII fast path
      AppendCodePoint(byte, 1);
      ++offset;
      continue;
    }
    // U8_NEXT takes int32_t lengths; a UTF-8 sequence is at most 4 bytes long.
    const int32_t length = static_cast<int32_t>(std::min<size_t>(text.size() - offset, 4));
    int32_t i = 0;
    UChar32 c;
    U8_NEXT(data + offset, i, length, c);
    AppendCodePoint(c, static_cast<size_t>(i));
    offset += static_cast<size_t>(i);
  }
}

size_t TokenEstimator::total() const { return closed_total_ + RunCost(run_kind_, run_weight_); }

size_t EstimateTokens(std::string_view text) {
  TokenEstimator estimator;
  estimator.Append(text);
  return estimator.total();
}

}  // namespace on::search
