// Character-set detection, conversion to UTF-8 and text clean-up shared by the extractors.
// Internal to src/ingest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace on::ingest {

// Decodes the code point starting at `pos` and advances `pos` past it. Returns -1 and advances by
// one byte for an invalid, overlong, surrogate or truncated sequence.
// REQUIRES: pos < text.size().
int32_t NextCodePoint(std::string_view text, size_t& pos);

bool IsValidUtf8(std::string_view bytes);

// A byte-order mark at the start of a buffer: the ICU name of its encoding and its length.
struct ByteOrderMark {
  std::string_view charset;
  size_t length = 0;
};
std::optional<ByteOrderMark> DetectByteOrderMark(std::string_view bytes);

// Returns the ICU converter name for a charset label, replacing labels by the superset that
// browsers decode them with (ISO-8859-1 and US-ASCII as windows-1252, GB2312 and GBK as GB18030).
// Returns an empty string when ICU does not know the label.
std::string CanonicalCharset(std::string_view label);

// Guesses the charset of text that is not valid UTF-8 with uchardet; empty when it cannot tell.
std::string GuessCharset(std::string_view bytes);

// Converts `bytes` from `charset` (an ICU name) to UTF-8. Invalid or unmappable sequences become
// U+FFFD. Fails with kPayloadTooLarge when the output would exceed `max_output_bytes`.
Result<std::string> ConvertToUtf8(std::string_view bytes, std::string_view charset,
                                  size_t max_output_bytes);

// Decodes text in an unknown charset to UTF-8. The charset comes from, in order: a byte-order
// mark, `declared_charset` (ignored when empty or unknown), valid UTF-8, uchardet, and finally
// windows-1252, which maps every byte, so decoding never fails for a charset reason.
Result<std::string> DecodeToUtf8(std::string_view bytes, std::string_view declared_charset,
                                 size_t max_output_bytes);

// Returns `text` with CRLF and lone CR turned into '\n', form and vertical feeds into '\n',
// other C0 and C1 control characters and U+FEFF removed, and invalid UTF-8 replaced by U+FFFD.
std::string NormalizeText(std::string_view text);

// True when `text` (UTF-8) has no code point other than Unicode white space and U+200B.
bool IsBlank(std::string_view text);

// Removes leading and trailing ASCII white space.
std::string_view TrimAscii(std::string_view text);

// The error for text that would grow beyond ExtractOptions::max_text_bytes.
Status TextTooLarge(size_t max_text_bytes);

}  // namespace on::ingest
