// The request path after a request has been read: named stages, each small.
//
//   preflight -> authenticate -> check readiness -> route -> handle -> finish (CORS, ids, headers)
//
// Handle() runs on the handler thread pool and never throws: an exception or error becomes a
// JSON error response, logged once with the request id.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "http/cors.h"
#include "http/message.h"
#include "http/password_guard.h"
#include "http/response_cache.h"
#include "http/router.h"

namespace on::http {

struct PipelineOptions {
  // Paths served without a password and while the database is still starting.
  std::vector<std::string> public_paths = {"/health", "/api/auth/status", "/api/config"};
  // Paths that need the password (unless public) but answer while the database is still starting.
  std::vector<std::string> readiness_exempt_paths = {"/metrics"};
  // Returns ok when the application can serve requests, else kUnavailable with the reason.
  std::function<Status()> readiness;
  // Returns the current data version for cached responses, 0 while nothing may be cached;
  // caching is off when empty.
  std::function<uint64_t()> data_version;
};

class Pipeline {
 public:
  Pipeline(const Router& router, const CorsPolicy& cors, PasswordGuard& guard, PipelineOptions options);

  // Produces the response for a fully read request.
  Response Handle(Request& request);

  // Returns the cached response to a GET when an entry for the current data version exists
  // and the request passes authentication. Cheap enough for the I/O thread.
  std::optional<Response> TryCached(const Request& request);

  // Adds CORS, X-Request-ID and security headers (X-Content-Type-Options, Referrer-Policy,
  // X-Frame-Options, a Content-Security-Policy for JSON or for the UI); applied to every
  // response, errors included.
  void Finish(const Request& request, Response& response) const;

 private:
  bool IsPublic(const std::string& path) const;
  bool IsReadinessExempt(const std::string& path) const;
  std::optional<Response> Authenticate(const Request& request);
  Response Respond(Request& request, Router::Match match, const Handler* handler, const std::string& allowed,
                   std::string_view route);
  Response Dispatch(Request& request, Router::Match match, const Handler* handler, const std::string& allowed);

  const Router& router_;
  ResponseCache cache_;
  const CorsPolicy& cors_;
  PasswordGuard& guard_;
  PipelineOptions options_;
};

// The request id to use: the client's X-Request-ID when it is a short token, else a new one.
std::string ChooseRequestId(std::optional<std::string_view> client_value);

}  // namespace on::http
