#include "http/multipart.h"

#include <algorithm>

#include "http/message.h"

namespace on::http {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Parses `; key=value; key="quoted \" value"` parameters after a header's first token.
std::vector<std::pair<std::string, std::string>> ParseParameters(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t i = text.find(';');
  while (i != std::string_view::npos && i < text.size()) {
    ++i;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const size_t equals = text.find('=', i);
    if (equals == std::string_view::npos) break;
    std::string key = Lower(TrimSpaces(text.substr(i, equals - i)));
    size_t j = equals + 1;
    std::string value;
    if (j < text.size() && text[j] == '"') {
      ++j;
      while (j < text.size() && text[j] != '"') {
        if (text[j] == '\\' && j + 1 < text.size()) ++j;
        value += text[j++];
      }
      i = text.find(';', j);
    } else {
      const size_t end = text.find(';', j);
      value = std::string(TrimSpaces(text.substr(j, end == std::string_view::npos ? std::string_view::npos : end - j)));
      i = end;
    }
    params.emplace_back(std::move(key), std::move(value));
  }
  return params;
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
  const std::string lower = Lower(content_type);
  if (lower.rfind("multipart/form-data", 0) != 0) {
    return ValidationError("Content-Type must be multipart/form-data for this endpoint, not '" +
                           std::string(content_type.substr(0, 64)) + "'");
  }
  for (const auto& [key, value] : ParseParameters(content_type)) {
    if (key == "boundary" && !value.empty() && value.size() <= 200) return value;
  }
  return ValidationError("multipart/form-data Content-Type has no valid boundary parameter");
}

std::optional<std::string> DecodeExtValue(std::string_view value) {
  const size_t first = value.find('\'');
  if (first == std::string_view::npos) return std::nullopt;
  const size_t second = value.find('\'', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (Lower(value.substr(0, first)) != "utf-8") return std::nullopt;
  return PercentDecode(value.substr(second + 1), false);
}

Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                  const MultipartLimits& limits) {
  const std::string delimiter = "--" + std::string(boundary);
  std::vector<MultipartPart> parts;

  size_t position = body.find(delimiter);
  if (position == std::string_view::npos) return ValidationError("multipart body does not contain its boundary");

  for (;;) {
    position += delimiter.size();
    if (body.substr(position, 2) == "--") return parts;  // closing delimiter
    if (body.substr(position, 2) != "\r\n") return ValidationError("multipart boundary is not followed by CRLF");
    position += 2;

    const size_t headers_end = body.find("\r\n\r\n", position);
    if (headers_end == std::string_view::npos || headers_end - position > limits.max_header_bytes) {
      return ValidationError("multipart part headers are missing their end or too large");
    }
    if (parts.size() >= limits.max_parts) {
      return ValidationError("multipart body has more than " + std::to_string(limits.max_parts) + " parts");
    }

    MultipartPart part;
    std::optional<std::string> plain_filename, extended_filename;
    std::string_view headers = body.substr(position, headers_end - position);
    while (!headers.empty()) {
      const size_t line_end = headers.find("\r\n");
      const std::string_view line = headers.substr(0, line_end);
      headers = line_end == std::string_view::npos ? std::string_view() : headers.substr(line_end + 2);
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string name = Lower(TrimSpaces(line.substr(0, colon)));
      const std::string_view value = TrimSpaces(line.substr(colon + 1));
      if (name == "content-type") part.content_type = std::string(value);
      if (name != "content-disposition") continue;
      for (auto& [key, parameter] : ParseParameters(value)) {
        if (key == "name") part.name = parameter;
        if (key == "filename") plain_filename = parameter;
        if (key == "filename*") extended_filename = DecodeExtValue(parameter);
      }
    }
    part.filename = extended_filename ? extended_filename : plain_filename;

    const size_t data_start = headers_end + 4;
    const size_t next = body.find("\r\n" + delimiter, data_start);
    if (next == std::string_view::npos) return ValidationError("multipart body ends before its closing boundary");
    part.data = body.substr(data_start, next - data_start);
    if (part.name.empty()) return ValidationError("a multipart part has no name in its Content-Disposition header");
    parts.push_back(std::move(part));
    position = next + 2;
  }
}

}  // namespace on::http
