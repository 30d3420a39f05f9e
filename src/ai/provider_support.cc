// Send helpers shared by the API families: JSON responses, raw bytes and event streams, with the
// provider's errors turned into Status values.
#include <algorithm>
#include <chrono>

#include "ai/provider_clients.h"
#include "core/metrics.h"

namespace on::ai::internal {
namespace {

bool IsSuccess(long status) { return status >= 200 && status < 300; }

std::string Excerpt(std::string_view text) {
  constexpr std::size_t kMaxShown = 200;
  std::string shown(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) shown += "...";
  return shown;
}

bool IsBlank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; });
}

// Returns the kind of call a request makes, read from its URL, for the provider-call metrics.
std::string_view CallKind(std::string_view url) {
  if (url.find("mbed") != std::string_view::npos) return "embedding";  // embeddings, embedContent
  if (url.find("/audio/speech") != std::string_view::npos) return "speech";
  if (url.find("/audio/transcriptions") != std::string_view::npos) return "transcription";
  const std::string_view path = url.substr(0, url.find('?'));
  if (path.ends_with("/models") || path.ends_with("/api/tags")) return "models";
  return "chat";
}

std::string_view Outcome(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kRateLimited: return "rate_limited";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kUpstream: return "upstream_error";
    case ErrorCode::kContextLengthExceeded: return "context_length";
    case ErrorCode::kCancelled: return "cancelled";
    case ErrorCode::kConfiguration: return "configuration";
    default: return "invalid_request";
  }
}

void RecordCall(const ProviderConfig& config, const HttpRequest& request, const Status& status,
                std::chrono::steady_clock::time_point start) {
  metrics::RecordProviderCall(config.provider, CallKind(request.url), Outcome(status),
                              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

Result<nlohmann::json> SendForJsonUnrecorded(const ProviderConfig& config, const HttpRequest& request, const CancelToken& cancel) {
  ON_ASSIGN_OR_RETURN(HttpResponse response, SendWithRetries(request, config.http, config.retry, cancel));
  const std::string label = ProviderLabel(config);
  if (!IsSuccess(response.status)) return ProviderErrorStatus(label, response);
  if (IsBlank(response.body)) {
    return Status(ErrorCode::kUpstream, label + " returned an empty response (HTTP " + std::to_string(response.status) +
                                            " with no body) from " + UrlForLog(request.url));
  }
  nlohmann::json value = nlohmann::json::parse(response.body, nullptr, false);
  if (value.is_discarded() || !value.is_object()) {
    return Status(ErrorCode::kUpstream, label + " returned malformed JSON (HTTP " + std::to_string(response.status) +
                                            ") from " + UrlForLog(request.url) + ": " + Excerpt(response.body));
  }
  if (value.contains("error") && !value["error"].is_null()) {
    return Status(ErrorCode::kUpstream, label + " returned an error in a successful response: " + ProviderReason(response.body));
  }
  return value;
}

Result<HttpResponse> SendForBytesUnrecorded(const ProviderConfig& config, const HttpRequest& request, const CancelToken& cancel) {
  ON_ASSIGN_OR_RETURN(HttpResponse response, SendWithRetries(request, config.http, config.retry, cancel));
  const std::string label = ProviderLabel(config);
  if (!IsSuccess(response.status)) return ProviderErrorStatus(label, response);
  if (response.body.empty()) {
    return Status(ErrorCode::kUpstream, label + " returned an empty response (HTTP " + std::to_string(response.status) +
                                            " with no body) from " + UrlForLog(request.url));
  }
  return response;
}

Status SendForEventsUnrecorded(const ProviderConfig& config, const HttpRequest& request, const CancelToken& cancel,
                               const SseEventHandler& on_event) {
  const std::string label = ProviderLabel(config);
  SseParser parser;
  std::vector<SseEvent> events;
  Status handler_error;
  std::size_t event_count = 0;
  std::string body_start;  // the first bytes, to show when the body turns out not to be a stream

  auto dispatch = [&]() -> bool {
    for (const SseEvent& event : events) {
      ++event_count;
      Status status = on_event(event);
      if (!status.ok()) {
        handler_error = std::move(status);
        events.clear();
        return false;
      }
    }
    events.clear();
    return true;
  };
  const BodyCallback on_body = [&](std::string_view piece) {
    if (body_start.size() < 200) body_start.append(piece.substr(0, 200 - body_start.size()));
    if (!parser.Feed(piece, events)) {
      handler_error = Status(ErrorCode::kUpstream, label + " sent a stream event larger than the parser accepts");
      return false;
    }
    return dispatch();
  };

  Result<HttpResponse> result = SendWithRetries(request, config.http, config.retry, cancel, on_body);
  if (!handler_error.ok()) return handler_error;
  if (!result.ok()) {
    if (result.status().code() == ErrorCode::kUpstream && event_count > 0) {
      return Status(ErrorCode::kUpstream, label + " stream broke after " + std::to_string(event_count) +
                                              " events: " + result.status().message());
    }
    return result.status();
  }
  if (!IsSuccess(result->status)) return ProviderErrorStatus(label, *result);
  parser.Finish(events);
  if (!dispatch()) return handler_error;
  if (result->streamed_bytes == 0) {
    return Status(ErrorCode::kUpstream, label + " returned an empty response (HTTP " + std::to_string(result->status) +
                                            " with no body) from " + UrlForLog(request.url));
  }
  if (event_count == 0) {
    return Status(ErrorCode::kUpstream, label + " returned no server-sent event for a streaming request (content type '" +
                                            result->content_type + "'): " + Excerpt(body_start));
  }
  return Status::Ok();
}

}  // namespace

Result<nlohmann::json> ParseEventJson(const ProviderConfig& config, const SseEvent& event) {
  nlohmann::json value = nlohmann::json::parse(event.data, nullptr, false);
  if (value.is_discarded() || !value.is_object()) {
    return Status(ErrorCode::kUpstream, ProviderLabel(config) + " sent a malformed stream event (invalid JSON): " + Excerpt(event.data));
  }
  if (value.contains("error") && !value["error"].is_null()) {
    return Status(ErrorCode::kUpstream, ProviderLabel(config) + " reported an error in the stream: " + ProviderReason(event.data));
  }
  return value;
}

Status EmptyAnswerStatus(const ProviderConfig& config, std::string_view finish_reason) {
  return Status(ErrorCode::kUpstream, ProviderLabel(config) + " returned an empty answer for model '" + config.model +
                                          "' (finish reason '" + std::string(finish_reason) + "')");
}

Result<nlohmann::json> SendForJson(const ProviderConfig& config, const HttpRequest& request, const CancelToken& cancel) {
  const auto start = std::chrono::steady_clock::now();
  auto result = SendForJsonUnrecorded(config, request, cancel);
  RecordCall(config, request, result.status(), start);
  return result;
}

Result<HttpResponse> SendForBytes(const ProviderConfig& config, const HttpRequest& request, const CancelToken& cancel) {
  const auto start = std::chrono::steady_clock::now();
  auto result = SendForBytesUnrecorded(config, request, cancel);
  RecordCall(config, request, result.status(), start);
  return result;
}

Status SendForEvents(const ProviderConfig& config, const HttpRequest& request, const CancelToken& cancel,
                     const SseEventHandler& on_event) {
  const auto start = std::chrono::steady_clock::now();
  Status status = SendForEventsUnrecorded(config, request, cancel, on_event);
  RecordCall(config, request, status, start);
  return status;
}

}  // namespace on::ai::internal
