#include "ingest/text_decoding.h"

#include <unicode/uchar.h>
#include <unicode/ucnv.h>
#include <uchardet/uchardet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>

namespace on::ingest {
namespace {

constexpr int32_t kReplacementCharacter = 0xFFFD;

// Caps the cost of uchardet, which is linear in its input. A megabyte is far more text than it
// needs to tell a charset (an estimate, not a measured threshold).
constexpr size_t kMaxDetectionBytes = 1 << 20;

bool IsContinuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

void AppendUtf8(std::string& out, int32_t code_point) {
  const auto c = static_cast<uint32_t>(code_point);
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

struct ConverterCloser {
  void operator()(UConverter* converter) const { ucnv_close(converter); }
};
using ConverterPtr = std::unique_ptr<UConverter, ConverterCloser>;

ConverterPtr OpenConverter(const std::string& name) {
  UErrorCode error = U_ZERO_ERROR;
  ConverterPtr converter(ucnv_open(name.c_str(), &error));
  if (U_FAILURE(error)) return nullptr;
  return converter;
}

bool IsSingleByteCharset(const std::string& name) {
  ConverterPtr converter = OpenConverter(name);
  return converter != nullptr && ucnv_getMaxCharSize(converter.get()) == 1;
}

// Code points that NormalizeText drops: controls other than tab and line feed, the byte-order
// mark, and the two non-characters that some converters emit for unmapped bytes.
bool IsDroppedCodePoint(int32_t c) {
  if (c == '\t' || c == '\n') return false;
  if (c < 0x20 || c == 0x7F) return true;
  if (c >= 0x80 && c <= 0x9F) return true;
  return c == 0xFEFF || c == 0xFFFE || c == 0xFFFF;
}

}  // namespace

int32_t NextCodePoint(std::string_view text, size_t& pos) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  const unsigned char lead = bytes[pos];
  if (lead < 0x80) {
    ++pos;
    return lead;
  }

  size_t length = 0;
  int32_t code_point = 0;
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code_point = lead & 0x0F;
    if (lead == 0xE0) min_second = 0xA0;  // overlong
    if (lead == 0xED) max_second = 0x9F;  // UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code_point = lead & 0x07;
    if (lead == 0xF0) min_second = 0x90;  // overlong
    if (lead == 0xF4) max_second = 0x8F;  // above U+10FFFF
  } else {
    ++pos;
    return -1;
  }

  if (pos + length > size || bytes[pos + 1] < min_second || bytes[pos + 1] > max_second) {
    ++pos;
    return -1;
  }
  for (size_t i = 1; i < length; ++i) {
    if (!IsContinuation(bytes[pos + i])) {
      ++pos;
      return -1;
    }
    code_point = (code_point << 6) | (bytes[pos + i] & 0x3F);
  }
  pos += length;
  return code_point;
}

bool IsValidUtf8(std::string_view bytes) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (NextCodePoint(bytes, pos) < 0) return false;
  }
  return true;
}

std::optional<ByteOrderMark> DetectByteOrderMark(std::string_view bytes) {
  // UTF-32LE must be tested before UTF-16LE because its mark starts with the UTF-16LE one.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kMarks = {{
      {std::string_view("\xEF\xBB\xBF", 3), "UTF-8"},
      {std::string_view("\xFF\xFE\x00\x00", 4), "UTF-32LE"},
      {std::string_view("\x00\x00\xFE\xFF", 4), "UTF-32BE"},
      {std::string_view("\xFF\xFE", 2), "UTF-16LE"},
      {std::string_view("\xFE\xFF", 2), "UTF-16BE"},
  }};
  for (const auto& [mark, charset] : kMarks) {
    if (bytes.substr(0, mark.size()) == mark) return ByteOrderMark{charset, mark.size()};
  }
  return std::nullopt;
}

std::string CanonicalCharset(std::string_view label) {
  std::string name = AsciiLower(TrimAscii(label));
  if (name.empty()) return "";

  // Browsers decode these labels with a superset, and documents labelled with them routinely
  // contain the superset's extra characters (curly quotes in "ISO-8859-1" pages, for example).
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kSupersets = {{
      {"iso-8859-1", "windows-1252"},
      {"iso8859-1", "windows-1252"},
      {"latin1", "windows-1252"},
      {"us-ascii", "windows-1252"},
      {"ascii", "windows-1252"},
      {"gb2312", "GB18030"},
      {"gbk", "GB18030"},
      {"x-gbk", "GB18030"},
      {"euc-kr", "windows-949"},
      {"tis-620", "windows-874"},
  }};
  for (const auto& [alias, superset] : kSupersets) {
    if (name == alias) {
      name = superset;
      break;
    }
  }

  ConverterPtr converter = OpenConverter(name);
  if (converter == nullptr) return "";
  return name;
}

std::string GuessCharset(std::string_view bytes) {
  uchardet_t detector = uchardet_new();
  if (detector == nullptr) return "";
  const size_t length = std::min(bytes.size(), kMaxDetectionBytes);
  std::string charset;
  if (uchardet_handle_data(detector, bytes.data(), length) == 0) {
    uchardet_data_end(detector);
    const char* guessed = uchardet_get_charset(detector);
    if (guessed != nullptr) charset = guessed;
  }
  uchardet_delete(detector);
  return CanonicalCharset(charset);
}

Result<std::string> ConvertToUtf8(std::string_view bytes, std::string_view charset,
                                  size_t max_output_bytes) {
  ConverterPtr source = OpenConverter(std::string(charset));
  ConverterPtr target = OpenConverter("UTF-8");
  if (source == nullptr || target == nullptr) {
    return InternalError("ICU has no converter for charset \"" + std::string(charset) + "\"");
  }

  std::string out;
  std::array<UChar, 4096> pivot{};
  UChar* pivot_source = pivot.data();
  UChar* pivot_target = pivot.data();
  std::array<char, 16384> chunk{};
  const char* input = bytes.data();
  const char* input_end = bytes.data() + bytes.size();
  bool reset = true;

  // ucnv_convertEx stops with U_BUFFER_OVERFLOW_ERROR whenever `chunk` is full, so the loop
  // appends chunk by chunk and checks the limit before the output grows further.
  while (true) {
    UErrorCode error = U_ZERO_ERROR;
    char* chunk_end = chunk.data();
    ucnv_convertEx(target.get(), source.get(), &chunk_end, chunk.data() + chunk.size(), &input,
                   input_end, pivot.data(), &pivot_source, &pivot_target,
                   pivot.data() + pivot.size(), reset, /*flush=*/true, &error);
    reset = false;
    out.append(chunk.data(), static_cast<size_t>(chunk_end - chunk.data()));
    if (out.size() > max_output_bytes) return TextTooLarge(max_output_bytes);
    if (error == U_BUFFER_OVERFLOW_ERROR) continue;
    if (U_FAILURE(error)) {
      return InvalidInput("the text could not be converted from " + std::string(charset) +
                          " to UTF-8 (" + u_errorName(error) + ")");
    }
    return out;
  }
}

Result<std::string> DecodeToUtf8(std::string_view bytes, std::string_view declared_charset,
                                 size_t max_output_bytes) {
  if (std::optional<ByteOrderMark> mark = DetectByteOrderMark(bytes)) {
    std::string_view body = bytes.substr(mark->length);
    if (mark->charset == "UTF-8") {
      if (body.size() > max_output_bytes) return TextTooLarge(max_output_bytes);
      return std::string(body);
    }
    return ConvertToUtf8(body, mark->charset, max_output_bytes);
  }

  // Servers and pages often declare a legacy single-byte charset for UTF-8 content, while legacy
  // text with non-ASCII bytes is almost never valid UTF-8, so valid UTF-8 wins over such a label.
  std::string charset = CanonicalCharset(declared_charset);
  if ((charset.empty() || IsSingleByteCharset(charset)) && IsValidUtf8(bytes)) {
    if (bytes.size() > max_output_bytes) return TextTooLarge(max_output_bytes);
    return std::string(bytes);
  }
  if (charset.empty()) charset = GuessCharset(bytes);
  if (charset.empty()) charset = "windows-1252";
  return ConvertToUtf8(bytes, charset, max_output_bytes);
}

std::string NormalizeText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const int32_t c = NextCodePoint(text, pos);
    if (c < 0) {
      AppendUtf8(out, kReplacementCharacter);
    } else if (c == '\r') {
      if (pos < text.size() && text[pos] == '\n') ++pos;
      out += '\n';
    } else if (c == '\f' || c == '\v') {
      out += '\n';
    } else if (!IsDroppedCodePoint(c)) {
      AppendUtf8(out, c);
    }
  }
  return out;
}

bool IsBlank(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    const int32_t c = NextCodePoint(text, pos);
    if (c < 0) return false;
    if (!u_isUWhiteSpace(c) && c != 0x200B && c != 0xFEFF) return false;
  }
  return true;
}

std::string_view TrimAscii(std::string_view text) {
  constexpr std::string_view kWhitespace = " \t\n\r\f\v";
  const size_t first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  const size_t last = text.find_last_not_of(kWhitespace);
  return text.substr(first, last - first + 1);
}

Status TextTooLarge(size_t max_text_bytes) {
  return Status(ErrorCode::kPayloadTooLarge,
                "the extracted text exceeds the limit of " + std::to_string(max_text_bytes) +
                    " bytes (max_text_bytes); split the document into smaller files");
}

}  // namespace on::ingest
