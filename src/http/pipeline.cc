#include "http/pipeline.h"

#include <algorithm>

#include <sodium.h>
#include <spdlog/spdlog.h>

#include "core/logging.h"
#include "http/error_mapping.h"

namespace on::http {
namespace {

// For HTML and other non-JSON responses (the web UI and its assets): scripts, styles and API
// calls from this origin only, no plugins, no framing. Inline styles are allowed because UI
// libraries set style attributes; inline scripts are not.
constexpr const char* kUiContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'";

}  // namespace

Pipeline::Pipeline(const Router& router, const CorsPolicy& cors, PasswordGuard& guard, PipelineOptions options)
    : router_(router), cors_(cors), guard_(guard), options_(std::move(options)) {}

bool Pipeline::IsPublic(const std::string& path) const {
  return std::find(options_.public_paths.begin(), options_.public_paths.end(), path) != options_.public_paths.end();
}

bool Pipeline::IsReadinessExempt(const std::string& path) const {
  return std::find(options_.readiness_exempt_paths.begin(), options_.readiness_exempt_paths.end(), path) !=
         options_.readiness_exempt_paths.end();
}

std::optional<Response> Pipeline::Authenticate(const Request& request) {
  if (request.method == "OPTIONS" || IsPublic(request.path)) return std::nullopt;

  std::chrono::seconds retry_after{0};
  Status status = guard_.Check(request.client_address, request.Header("authorization"), &retry_after);
  if (status.ok()) return std::nullopt;

  Response response = ErrorResponse(status);
  if (status.code() == ErrorCode::kRateLimited) {
    response.SetHeader("Retry-After", std::to_string(retry_after.count()));
  } else {
    response.SetHeader("WWW-Authenticate", "Bearer");
  }
  return response;
}

Response Pipeline::Dispatch(Request& request, Router::Match match, const Handler* handler, const std::string& allowed) {
  switch (match) {
    case Router::Match::kNoPath:
      return JsonResponse({{"detail", "Not Found: no route for " + request.path}}, 404);
    case Router::Match::kWrongMethod: {
      Response response = JsonResponse({{"detail", "Method " + request.method + " is not allowed on " + request.path}}, 405);
      response.SetHeader("Allow", allowed);
      return response;
    }
    case Router::Match::kFound:
      break;
  }

  Result<Response> result = (*handler)(request);
  if (result.ok()) return std::move(result).value();

  const Status& status = result.status();
  if (HttpStatusFor(status.code()) >= 500) {
    spdlog::error("{} {} failed: {}", request.method, request.path, status.ToString());
  }
  return ErrorResponse(status);
}

std::optional<Response> Pipeline::TryCached(const Request& request) {
  if (request.method != "GET" || !options_.data_version) return std::nullopt;
  if (options_.readiness && !options_.readiness().ok()) return std::nullopt;
  const uint64_t version = options_.data_version();
  if (version == 0) return std::nullopt;
  auto cached = cache_.Find(request.target, version);
  if (!cached) return std::nullopt;
  // Authentication runs for every request; a rejected one takes the normal path to its error.
  if (!guard_.Accepts(request.client_address, request.Header("authorization"))) return std::nullopt;
  return cached;
}

Response Pipeline::Handle(Request& request) {
  ScopedLogContext context(request.request_id);
  // Routing comes first so every response, a refused one too, is counted under its route pattern.
  const Handler* handler = nullptr;
  std::string allowed;
  std::string_view route;
  Response response;
  try {
    const Router::Match match = router_.Find(request, &handler, &allowed, &route);
    response = Respond(request, match, handler, allowed, route);
  } catch (const std::exception& error) {
    spdlog::error("{} {} threw: {}", request.method, request.path, error.what());
    response = ErrorResponse(InternalError("handler failed"));
  } catch (...) {
    spdlog::error("{} {} threw a non-standard exception", request.method, request.path);
    response = ErrorResponse(InternalError("handler failed"));
  }
  response.route = route;
  return response;
}

Response Pipeline::Respond(Request& request, Router::Match match, const Handler* handler, const std::string& allowed,
                           std::string_view route) {
  if (CorsPolicy::IsPreflight(request)) return cors_.Preflight(request);
  if (auto rejected = Authenticate(request)) return std::move(*rejected);

  if (!IsPublic(request.path) && !IsReadinessExempt(request.path) && options_.readiness) {
    Status ready = options_.readiness();
    if (!ready.ok()) return ErrorResponse(ready);
  }
  if (request.method == "OPTIONS") {
    Response response;
    response.status = 204;
    response.content_type.clear();
    return response;
  }

  // The version is read before the handler, so data written meanwhile makes the entry stale.
  const bool may_cache = request.method == "GET" && options_.data_version;
  const uint64_t version = may_cache ? options_.data_version() : 0;
  Response response = Dispatch(request, match, handler, allowed);
  response.route = route;  // cached copies keep it
  if (version != 0 && response.cacheable && response.status == 200) cache_.Store(request.target, version, response);
  return response;
}

void Pipeline::Finish(const Request& request, Response& response) const {
  cors_.Apply(request, response);
  response.SetHeader("X-Request-ID", request.request_id);
  response.SetHeader("X-Content-Type-Options", "nosniff");
  response.SetHeader("Referrer-Policy", "no-referrer");
  // Older browsers ignore CSP frame-ancestors; X-Frame-Options keeps them from framing too.
  response.SetHeader("X-Frame-Options", "DENY");
  if (response.content_type == "application/json") {
    response.SetHeader("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    response.SetHeader("Cache-Control", "no-store");
  } else {
    response.SetHeader("Content-Security-Policy", kUiContentSecurityPolicy);
  }
}

std::string ChooseRequestId(std::optional<std::string_view> client_value) {
  if (client_value && !client_value->empty() && client_value->size() <= 64 &&
      std::all_of(client_value->begin(), client_value->end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
      })) {
    return std::string(*client_value);
  }
  // Request ids need to be unique in the logs, not unpredictable: a per-thread splitmix64 sequence
  // seeded once from the system's random source avoids a getrandom() call per request.
  thread_local uint64_t state = [] {
    uint64_t seed = 0;
    randombytes_buf(&seed, sizeof(seed));
    return seed;
  }();
  state += 0x9E3779B97F4A7C15ull;
  uint64_t value = state;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ull;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBull;
  value ^= value >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) id[static_cast<size_t>(i)] = kHex[value & 0xf];
  return id;
}

}  // namespace on::http
