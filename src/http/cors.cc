#include "http/cors.h"

#include <algorithm>

namespace on::http {
namespace {

std::string Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '/')) text.remove_suffix(1);
  return std::string(text);
}

// Request header names echoed back in a preflight must be plain tokens.
bool IsHeaderList(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == ',' || c == ' ';
  });
}

}  // namespace

CorsPolicy::CorsPolicy(const std::string& origins_setting) {
  size_t start = 0;
  while (start <= origins_setting.size()) {
    size_t end = origins_setting.find(',', start);
    if (end == std::string::npos) end = origins_setting.size();
    std::string origin = Trim(std::string_view(origins_setting).substr(start, end - start));
    if (origin == "*") {
      any_ = true;
    } else if (!origin.empty()) {
      origins_.push_back(origin);
    }
    start = end + 1;
  }
}

bool CorsPolicy::IsPreflight(const Request& request) {
  return request.method == "OPTIONS" && request.Header("origin") && request.Header("access-control-request-method");
}

bool CorsPolicy::OriginAllowed(std::string_view origin) const {
  return std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

void CorsPolicy::Apply(const Request& request, Response& response) const {
  response.SetHeader("Vary", "Origin");
  auto origin = request.Header("origin");
  if (!origin) return;

  // A wildcard is never combined with credentials: an explicitly listed origin gets them, any
  // other origin gets "*" without them.
  if (OriginAllowed(*origin)) {
    response.SetHeader("Access-Control-Allow-Origin", std::string(*origin));
    response.SetHeader("Access-Control-Allow-Credentials", "true");
  } else if (any_) {
    response.SetHeader("Access-Control-Allow-Origin", "*");
  } else {
    return;
  }
  response.SetHeader("Access-Control-Expose-Headers", "X-Request-ID, Retry-After, Content-Disposition");
}

Response CorsPolicy::Preflight(const Request& request) const {
  Response response;
  response.status = 204;
  response.content_type.clear();
  Apply(request, response);
  response.SetHeader("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
  auto requested = request.Header("access-control-request-headers");
  if (requested && IsHeaderList(*requested) && requested->size() < 1024) {
    response.SetHeader("Access-Control-Allow-Headers", std::string(*requested));
  } else {
    response.SetHeader("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-ID");
  }
  response.SetHeader("Access-Control-Max-Age", "600");
  return response;
}

}  // namespace on::http
