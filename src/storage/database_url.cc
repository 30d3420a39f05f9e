#include "storage/database_url.h"

namespace on::storage {

bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

std::string RedactUrl(std::string_view url) {
  std::string text(url);
  const size_t scheme = text.find("://");
  if (scheme == std::string::npos) return text;
  const size_t authority = scheme + 3;
  // The authority ends at the first '/', '?' or '#', and its last '@' ends the user information:
  // a password with an unencoded '@' is still hidden whole.
  size_t authority_end = text.find_first_of("/?#", authority);
  if (authority_end == std::string::npos) authority_end = text.size();
  const size_t at = text.rfind('@', authority_end);
  if (at != std::string::npos && at >= authority) {
    const size_t colon = text.find(':', authority);
    if (colon != std::string::npos && colon < at) text.replace(colon + 1, at - colon - 1, "***");
  }
  // password=... among the query parameters.
  const size_t query = text.find('?');
  if (query != std::string::npos) {
    size_t position = query + 1;
    while (position < text.size()) {
      size_t end = text.find('&', position);
      if (end == std::string::npos) end = text.size();
      if (std::string_view(text).substr(position, end - position).starts_with("password=")) {
        const size_t value = position + 9;
        text.replace(value, end - value, "***");
        end = value + 3;
      }
      position = end + 1;
    }
  }
  return text;
}

}  // namespace on::storage
