// Cross-origin resource sharing from the CORS_ORIGINS setting.
//
// "*" allows any origin without credentials; a list allows exactly those origins with
// credentials. Headers are added to every response, errors included, so a browser can read
// the real status (for example a 413) instead of reporting a CORS failure.
#pragma once

#include <string>
#include <vector>

#include "http/message.h"

namespace on::http {

class CorsPolicy {
 public:
  explicit CorsPolicy(const std::string& origins_setting);

  // True for a CORS preflight: OPTIONS with Origin and Access-Control-Request-Method.
  static bool IsPreflight(const Request& request);

  // The response to a preflight: 204 with the allowed methods and headers (for an allowed origin).
  Response Preflight(const Request& request) const;

  // Adds Access-Control-* and Vary headers to `response` for the request's origin.
  void Apply(const Request& request, Response& response) const;

  bool allows_any() const { return any_; }

 private:
  bool OriginAllowed(std::string_view origin) const;

  bool any_ = false;
  std::vector<std::string> origins_;
};

}  // namespace on::http
