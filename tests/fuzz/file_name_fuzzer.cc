// libFuzzer target for the upload file-name helpers (ingest/uploads.h): SafeFileName,
// NormalizeNfc and AttachmentDisposition. The file-writing functions are not called.
//
// Input: a file name as a client sends it (any bytes).
//
// Invariants checked:
// - NormalizeNfc returns valid UTF-8 (invalid input bytes become U+FFFD) and is idempotent.
// - SafeFileName returns 1 to 180 bytes of valid UTF-8 with no '/', '\', control characters
//   (C0, DEL or C1), no leading '.' or space, is idempotent, and keeps a plain ASCII name as is.
// - AttachmentDisposition returns a header value without CR, LF or NUL whose quoted filename is
//   printable ASCII without '"' or '\', and whose filename* decodes back to the exact input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_checks.h"
#include "http/multipart.h"
#include "ingest/uploads.h"

namespace {

constexpr size_t kMaxNameBytes = 180;

void CheckNormalizeNfc(std::string_view text) {
  const std::string normalized = on::ingest::NormalizeNfc(text);
  FUZZ_CHECK(on::fuzz::IsValidUtf8(normalized));
  FUZZ_CHECK(on::ingest::NormalizeNfc(normalized) == normalized);

  bool ascii = true;
  for (char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) FUZZ_CHECK(normalized == text);
}

bool IsPlainAsciiName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes || name.front() == '.' || name.front() == ' ') return false;
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7F || c == '/' || c == '\\') return false;
  }
  return true;
}

void CheckSafeFileName(std::string_view original) {
  const std::string name = on::ingest::SafeFileName(original);
  FUZZ_CHECK(!name.empty());
  FUZZ_CHECK(name.size() <= kMaxNameBytes);
  FUZZ_CHECK(name.find('/') == std::string::npos);
  FUZZ_CHECK(name.find('\\') == std::string::npos);
  FUZZ_CHECK(name.front() != '.' && name.front() != ' ');

  const auto code_points = on::fuzz::DecodeUtf8(name);
  FUZZ_CHECK(code_points.has_value());
  for (char32_t code_point : *code_points) FUZZ_CHECK(!on::fuzz::IsControl(code_point));

  FUZZ_CHECK(on::ingest::SafeFileName(name) == name);
  if (IsPlainAsciiName(original)) FUZZ_CHECK(name == original);
}

bool IsAttrChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

void CheckAttachmentDisposition(std::string_view file_name) {
  const std::string value = on::ingest::AttachmentDisposition(file_name);
  FUZZ_CHECK(value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);

  constexpr std::string_view kPrefix = "attachment; filename=\"";
  constexpr std::string_view kSeparator = "\"; filename*=UTF-8''";
  FUZZ_CHECK(value.starts_with(kPrefix));
  const size_t close = value.find('"', kPrefix.size());
  FUZZ_CHECK(close != std::string::npos);
  FUZZ_CHECK(value.compare(close, kSeparator.size(), kSeparator) == 0);

  const std::string_view ascii = std::string_view(value).substr(kPrefix.size(), close - kPrefix.size());
  FUZZ_CHECK(ascii.size() == (file_name.empty() ? std::string_view("download").size() : file_name.size()));
  for (char c : ascii) {
    const auto byte = static_cast<unsigned char>(c);
    FUZZ_CHECK(byte >= 0x20 && byte < 0x7F && c != '"' && c != '\\');
  }

  const std::string_view encoded = std::string_view(value).substr(close + kSeparator.size());
  for (char c : encoded) FUZZ_CHECK(IsAttrChar(c) || c == '%' || (c >= 'A' && c <= 'F'));
  const auto decoded = on::http::DecodeExtValue("UTF-8''" + std::string(encoded));
  FUZZ_CHECK(decoded && *decoded == file_name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = on::fuzz::AsText(data, size);
  CheckNormalizeNfc(input);
  CheckSafeFileName(input);
  CheckAttachmentDisposition(input);
  return 0;
}
