// libFuzzer target for the multipart/form-data parser (http/multipart.h).
//
// Input: a Content-Type value, a line feed, then the request body. When the Content-Type has no
// valid boundary, the body is parsed with the boundary "XyZ" so that it still reaches the parser.
//
// Invariants checked:
// - MultipartBoundary returns 1 to 200 bytes, only for a multipart/form-data type.
// - ParseMultipart returns at most max_parts parts, and every part has a name. A part's data is a
//   subrange of the body after the previous part's data. It starts after a blank line, ends
//   right before "\r\n--boundary" and does not contain that delimiter. The closing delimiter
//   follows the last part.
// - Parsing with tight limits either fails or returns the same parts as with the default limits.
// - DecodeExtValue accepts only the UTF-8 charset, never grows its input, and decodes the
//   percent-encoding of any byte string back to that string.
// - Error messages stay short: they quote at most a bounded prefix of the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_checks.h"
#include "http/multipart.h"

namespace {

using on::http::MultipartLimits;
using on::http::MultipartPart;

constexpr std::string_view kFallbackBoundary = "XyZ";
constexpr size_t kMaxMessageBytes = 256;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Percent-encodes every byte, so the result is a valid RFC 5987 value-chars sequence.
std::string PercentEncodeAll(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[byte >> 4];
    out += kHex[byte & 0xF];
  }
  return out;
}

void CheckBoundary(std::string_view content_type, const on::Result<std::string>& boundary) {
  if (!boundary.ok()) {
    FUZZ_CHECK(boundary.status().message().size() <= kMaxMessageBytes);
    return;
  }
  FUZZ_CHECK(!boundary->empty());
  FUZZ_CHECK(boundary->size() <= 200);
  FUZZ_CHECK(Lower(content_type).starts_with("multipart/form-data"));
}

void CheckParts(std::string_view body, std::string_view boundary, const std::vector<MultipartPart>& parts,
                const MultipartLimits& limits) {
  const std::string delimiter = "\r\n--" + std::string(boundary);
  FUZZ_CHECK(parts.size() <= limits.max_parts);

  const char* previous_end = body.data();
  for (const MultipartPart& part : parts) {
    FUZZ_CHECK(!part.name.empty());
    FUZZ_CHECK(part.name.size() <= limits.max_header_bytes);
    FUZZ_CHECK(part.content_type.size() <= limits.max_header_bytes);
    FUZZ_CHECK(!part.filename || part.filename->size() <= limits.max_header_bytes);

    // The data is a view into the body, after the previous part's data.
    FUZZ_CHECK(part.data.data() >= previous_end);
    FUZZ_CHECK(part.data.data() + part.data.size() <= body.data() + body.size());
    const auto offset = static_cast<size_t>(part.data.data() - body.data());
    FUZZ_CHECK(offset >= 4 && body.substr(offset - 4, 4) == "\r\n\r\n");
    FUZZ_CHECK(body.substr(offset + part.data.size(), delimiter.size()) == delimiter);
    FUZZ_CHECK(part.data.find(delimiter) == std::string_view::npos);
    previous_end = part.data.data() + part.data.size();
  }

  const size_t rest = static_cast<size_t>(previous_end - body.data());
  FUZZ_CHECK(body.find("--" + std::string(boundary) + "--", rest) != std::string_view::npos);
}

void CheckSameParts(const std::vector<MultipartPart>& a, const std::vector<MultipartPart>& b) {
  FUZZ_CHECK(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    FUZZ_CHECK(a[i].name == b[i].name);
    FUZZ_CHECK(a[i].filename == b[i].filename);
    FUZZ_CHECK(a[i].content_type == b[i].content_type);
    FUZZ_CHECK(a[i].data.data() == b[i].data.data());
    FUZZ_CHECK(a[i].data.size() == b[i].data.size());
  }
}

void CheckExtValue(std::string_view value) {
  const auto decoded = on::http::DecodeExtValue(value);
  if (decoded) {
    const size_t quote = value.find('\'');
    FUZZ_CHECK(quote != std::string_view::npos);
    FUZZ_CHECK(Lower(value.substr(0, quote)) == "utf-8");
    FUZZ_CHECK(decoded->size() <= value.size());
  }

  // Any byte string survives a percent-encoding round trip, with or without a language tag.
  const std::string_view bytes = value.substr(0, 512);
  const auto round_trip = on::http::DecodeExtValue("UTF-8''" + PercentEncodeAll(bytes));
  FUZZ_CHECK(round_trip && *round_trip == bytes);
  const auto tagged = on::http::DecodeExtValue("utf-8'en'" + PercentEncodeAll(bytes));
  FUZZ_CHECK(tagged && *tagged == bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = on::fuzz::AsText(data, size);
  const size_t line_end = input.find('\n');
  const std::string_view content_type = line_end == std::string_view::npos ? std::string_view() : input.substr(0, line_end);
  const std::string_view body = line_end == std::string_view::npos ? input : input.substr(line_end + 1);

  const auto boundary = on::http::MultipartBoundary(content_type);
  CheckBoundary(content_type, boundary);
  const std::string chosen = boundary.ok() ? *boundary : std::string(kFallbackBoundary);

  const MultipartLimits defaults;
  const auto parts = on::http::ParseMultipart(body, chosen, defaults);
  if (parts.ok()) {
    CheckParts(body, chosen, *parts, defaults);
  } else {
    FUZZ_CHECK(parts.status().message().size() <= kMaxMessageBytes);
  }

  // Tight limits exercise the limit checks; a body that passes them parses the same way.
  MultipartLimits tight;
  tight.max_parts = 3;
  tight.max_header_bytes = 96;
  const auto tight_parts = on::http::ParseMultipart(body, chosen, tight);
  if (tight_parts.ok()) {
    CheckParts(body, chosen, *tight_parts, tight);
    FUZZ_CHECK(parts.ok());
    CheckSameParts(*parts, *tight_parts);
  }

  CheckExtValue(content_type);
  return 0;
}
