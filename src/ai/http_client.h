// The HTTP layer under every AI provider client: libcurl with idle time-outs (never a total
// time-out, so a slow stream that keeps sending runs as long as it needs), cancellation, and
// retries of 429, 5xx and lost connections that honour Retry-After.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/retry_policy.h"

namespace on::ingest {
class HostResolver;
}

namespace on::ai {

// A cancellation flag shared by the caller and the transfer it starts. Copies share one flag, so
// a request handler can keep a copy and cancel from another thread (for example when its client
// disconnects). A cancelled transfer stops within about one second and returns kCancelled.
class CancelToken {
 public:
  CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
  void Cancel() const { flag_->store(true); }
  bool cancelled() const { return flag_->load(); }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
};

// The time limits every new HttpOptions starts from. A process sets them once at start-up from
// OPEN_NOTEBOOK_AI_CONNECT_TIMEOUT and OPEN_NOTEBOOK_AI_IDLE_TIMEOUT, and a caller may still
// change the options of one call.
struct ProviderTimeouts {
  std::chrono::milliseconds connect{10'000};
  std::chrono::milliseconds idle{120'000};
};
void SetProviderTimeouts(const ProviderTimeouts& timeouts);
ProviderTimeouts CurrentProviderTimeouts();

struct HttpOptions {
  // Maximum time to establish the TCP (and TLS) connection.
  std::chrono::milliseconds connect_timeout = CurrentProviderTimeouts().connect;
  // The transfer fails with kTimeout when no byte is sent or received for this long, waiting for
  // the first byte included. libcurl checks about once a second, so the error may come up to a
  // second late.
  std::chrono::milliseconds idle_timeout = CurrentProviderTimeouts().idle;
  // Bodies collected in memory (all but streamed 2xx bodies) are limited to this many bytes.
  std::size_t max_response_bytes = 64 * 1024 * 1024;
  // Resolver for provider host names; nullptr selects getaddrinfo. Tests set a fixed table here.
  ingest::HostResolver* resolver = nullptr;
};

// One file field of a multipart/form-data body.
struct FormPart {
  std::string name;
  std::string value;         // the field value, or the file content when filename is set
  std::string filename;      // empty for a plain field
  std::string content_type;  // empty lets libcurl choose
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"Authorization", "Bearer ..."}
  std::string body;
  std::vector<FormPart> form;  // when not empty, sent as multipart/form-data instead of `body`
};

struct HttpResponse {
  long status = 0;
  std::string content_type;
  // The body, except for a 2xx response to a request with a BodyCallback: that body goes to the
  // callback and this stays empty.
  std::string body;
  std::optional<std::chrono::seconds> retry_after;
  std::size_t streamed_bytes = 0;  // bytes passed to the BodyCallback
};

// Receives the body of a 2xx response piece by piece as it arrives. Returning false stops the
// transfer, and the send then returns kCancelled.
using BodyCallback = std::function<bool(std::string_view piece)>;

// Sends one request without retrying and returns the response whatever its status.
// The URL is checked by the provider rules of src/ingest/ssrf_guard.h: loopback and private
// addresses are allowed, because local model servers live there, but link-local (cloud metadata),
// multicast and reserved ones are not. The host is resolved here, every address is checked, and
// libcurl connects only to those addresses, so a DNS answer that changes after the check cannot
// redirect the request. NOTE: each call opens a new connection (no shared connection cache yet).
// Errors:
//   kInvalidInput     a URL that is not http(s) or names a metadata host
//   kForbidden        the host resolves to an address a provider URL may not reach
//   kTimeout          connect time-out or idle time-out
//   kUpstream         connection refused or reset, DNS or TLS failure, a broken stream
//   kCancelled        `cancel` was set or `on_body` returned false
//   kPayloadTooLarge  a collected body exceeded options.max_response_bytes
// Thread-safe; blocks until the response is complete.
Result<HttpResponse> SendOnce(const HttpRequest& request, const HttpOptions& options, const CancelToken& cancel,
                              const BodyCallback& on_body = {});

struct RetryOptions {
  RetryPolicy policy;
  // A Retry-After longer than this is not waited for: the call fails with kRateLimited at once,
  // naming the delay the provider asked for.
  std::chrono::seconds max_retry_after{120};
};

// Sends `request` and retries, up to policy.max_attempts runs in all, when the answer is 408, 425,
// 429 or 5xx or the connection failed (kUpstream). The wait is the Retry-After of the response
// when it has one, otherwise policy.Delay(attempt). A streamed request is retried only while no
// body byte has reached `on_body`. Idle time-outs are not retried here, because a provider that
// hung once usually hangs again and each attempt costs a whole idle time-out; they return
// kTimeout, which the job queue treats as transient. Returns the last response, success or not.
Result<HttpResponse> SendWithRetries(const HttpRequest& request, const HttpOptions& options,
                                     const RetryOptions& retry, const CancelToken& cancel,
                                     const BodyCallback& on_body = {});

// The provider's own error message from an error body: OpenAI's and Anthropic's error.message,
// Gemini's error.message, Ollama's error string, ElevenLabs' detail.message, or else the start of
// the body.
std::string ProviderReason(std::string_view body);

// True when an error response means the input is longer than the model's context window.
bool IsContextLengthError(long http_status, std::string_view body);

// Converts a non-2xx response into a Status whose message names the provider, the HTTP status and
// the provider's reason:
//   429                   kRateLimited
//   408, 425, 5xx         kUpstream (transient)
//   401, 403              kConfiguration (the credential is wrong or lacks permission)
//   404                   kConfiguration (the model or endpoint does not exist)
//   context too long      kContextLengthExceeded (split the input; retrying cannot help)
//   other 4xx             kProviderRejected
Status ProviderErrorStatus(std::string_view provider, const HttpResponse& response);

// Returns `url` without its query, for log lines and messages.
std::string UrlForLog(std::string_view url);

}  // namespace on::ai
