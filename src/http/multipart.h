// A parser for multipart/form-data request bodies (RFC 7578).
//
// Parts are views into the body, which must outlive them. File names are taken from
// `filename*` (RFC 5987, UTF-8) when present, else from `filename` (raw UTF-8 as browsers send
// it); either way they are returned exactly as sent, path and all, for the caller to sanitise.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace on::http {

struct MultipartPart {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;  // empty when the part has none
  std::string_view data;
};

struct MultipartLimits {
  size_t max_parts = 256;
  size_t max_header_bytes = 16 * 1024;  // per part
};

// Returns the boundary parameter of a multipart/form-data Content-Type, or kValidation.
Result<std::string> MultipartBoundary(std::string_view content_type);

// Splits `body` into parts. kValidation with a description for malformed input.
Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                  const MultipartLimits& limits = {});

// Decodes an RFC 5987 ext-value such as "UTF-8''%E7%AC%AC1.pdf"; nullopt when malformed or not UTF-8.
std::optional<std::string> DecodeExtValue(std::string_view value);

}  // namespace on::http
