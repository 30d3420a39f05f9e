#include "ai/http_client.h"

#include <atomic>

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "ingest/url_fetcher.h"

namespace on::ai {

namespace {

std::atomic<int64_t> provider_connect_ms{10'000};
std::atomic<int64_t> provider_idle_ms{120'000};

}  // namespace

void SetProviderTimeouts(const ProviderTimeouts& timeouts) {
  provider_connect_ms.store(timeouts.connect.count(), std::memory_order_relaxed);
  provider_idle_ms.store(timeouts.idle.count(), std::memory_order_relaxed);
}

ProviderTimeouts CurrentProviderTimeouts() {
  return {std::chrono::milliseconds(provider_connect_ms.load(std::memory_order_relaxed)),
          std::chrono::milliseconds(provider_idle_ms.load(std::memory_order_relaxed))};
}
namespace {

using Clock = std::chrono::steady_clock;

using ingest::EnsureCurlInitialized;
using ingest::ToLowerAscii;

// Checks the provider URL, resolves its host and checks every address, then returns the
// CURLOPT_RESOLVE entry ("host:port:addr1,[addr6]") that pins the transfer to those addresses.
// Returns an empty entry for an address literal, which libcurl never resolves.
Result<std::string> PinnedResolveEntry(const std::string& url, ingest::HostResolver* resolver) {
  ON_RETURN_IF_ERROR(ingest::CheckProviderUrl("provider URL", url));
  ON_ASSIGN_OR_RETURN(const ingest::FetchUrlParts parts, ingest::ParseFetchUrl(url));
  if (parts.host_is_address) return std::string();
  static ingest::SystemHostResolver system_resolver;
  ON_ASSIGN_OR_RETURN(const std::vector<std::string> addresses,
                      (resolver != nullptr ? *resolver : system_resolver).Resolve(parts.host));
  std::string entry = parts.host + ":" + std::to_string(parts.port) + ":";
  for (size_t i = 0; i < addresses.size(); ++i) {
    ON_RETURN_IF_ERROR(ingest::CheckProviderAddress(parts.host, addresses[i]));
    if (i > 0) entry += ",";
    entry += addresses[i].find(':') == std::string::npos ? addresses[i] : "[" + addresses[i] + "]";
  }
  return entry;
}

std::string_view TrimView(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

struct CurlEasyCleanup {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct CurlSlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct CurlMimeFree {
  void operator()(curl_mime* mime) const { curl_mime_free(mime); }
};

// State shared with libcurl's callbacks during one transfer.
struct Transfer {
  CURL* curl = nullptr;
  const HttpOptions* options = nullptr;
  const CancelToken* cancel = nullptr;
  const BodyCallback* on_body = nullptr;
  HttpResponse response;
  std::string retry_after;
  Clock::time_point last_activity = Clock::now();
  curl_off_t last_upload = 0;
  bool idle_timed_out = false;
  bool stopped_by_callback = false;
  bool too_large = false;
};

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  transfer->last_activity = Clock::now();
  const std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) {
    // A new status line (after 100 Continue or a redirect) starts a new header block.
    transfer->retry_after.clear();
    transfer->response.content_type.clear();
    return bytes;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;
  const std::string name = ToLowerAscii(TrimView(line.substr(0, colon)));
  const std::string_view value = TrimView(line.substr(colon + 1));
  if (name == "retry-after") transfer->retry_after = std::string(value);
  if (name == "content-type") transfer->response.content_type = std::string(value);
  return bytes;
}

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  transfer->last_activity = Clock::now();
  if (transfer->cancel->cancelled()) return 0;

  long status = 0;
  curl_easy_getinfo(transfer->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300 && *transfer->on_body) {
    transfer->response.streamed_bytes += bytes;
    if (!(*transfer->on_body)(std::string_view(data, bytes))) {
      transfer->stopped_by_callback = true;
      return 0;
    }
    return bytes;
  }
  if (transfer->response.body.size() + bytes > transfer->options->max_response_bytes) {
    transfer->too_large = true;
    return 0;
  }
  transfer->response.body.append(data, bytes);
  return bytes;
}

// Called by libcurl often while data moves and about once a second while idle; returning
// non-zero aborts the transfer with CURLE_ABORTED_BY_CALLBACK.
int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t uploaded) {
  auto* transfer = static_cast<Transfer*>(user);
  if (transfer->cancel->cancelled()) return 1;
  const Clock::time_point now = Clock::now();
  if (uploaded != transfer->last_upload) {
    transfer->last_upload = uploaded;
    transfer->last_activity = now;
  }
  if (now - transfer->last_activity > transfer->options->idle_timeout) {
    transfer->idle_timed_out = true;
    return 1;
  }
  return 0;
}

Status TransferError(CURLcode code, const char* error_buffer, const Transfer& transfer, const HttpRequest& request,
                     const HttpOptions& options) {
  const std::string target = UrlForLog(request.url);
  if (transfer.cancel->cancelled() || transfer.stopped_by_callback) {
    return Status(ErrorCode::kCancelled, "the request to " + target + " was cancelled");
  }
  if (transfer.idle_timed_out) {
    return Status(ErrorCode::kTimeout, "the AI provider at " + target + " sent nothing for " +
                                           std::to_string(options.idle_timeout.count()) +
                                           " ms (idle time-out); check that the provider is running, or raise "
                                           "OPEN_NOTEBOOK_AI_IDLE_TIMEOUT (seconds) for a model that is slow to start");
  }
  if (transfer.too_large) {
    return Status(ErrorCode::kPayloadTooLarge, "the response of " + target + " exceeds " +
                                                   std::to_string(options.max_response_bytes) + " bytes");
  }
  const char* detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return Status(ErrorCode::kTimeout, "connecting to the AI provider at " + target + " timed out after " +
                                           std::to_string(options.connect_timeout.count()) + " ms: " + detail);
  }
  return Status(ErrorCode::kUpstream, "the request to the AI provider at " + target + " failed: " + detail);
}

bool IsRetryableStatus(long status) { return ingest::IsTransientHttpStatus(status); }

// Sleeps for `delay` in short steps so a cancellation ends the wait early. Returns false when cancelled.
bool SleepUnlessCancelled(std::chrono::milliseconds delay, const CancelToken& cancel) {
  const Clock::time_point deadline = Clock::now() + delay;
  while (Clock::now() < deadline) {
    if (cancel.cancelled()) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(50), deadline - Clock::now()));
  }
  return !cancel.cancelled();
}

}  // namespace

Result<HttpResponse> SendOnce(const HttpRequest& request, const HttpOptions& options, const CancelToken& cancel,
                              const BodyCallback& on_body) {
  EnsureCurlInitialized();
  if (cancel.cancelled()) return Status(ErrorCode::kCancelled, "the request to " + UrlForLog(request.url) + " was cancelled");
  ON_ASSIGN_OR_RETURN(const std::string resolve_entry, PinnedResolveEntry(request.url, options.resolver));
  std::unique_ptr<CURL, CurlEasyCleanup> curl(curl_easy_init());
  if (!curl) return InternalError("libcurl could not create a transfer handle");

  Transfer transfer;
  transfer.curl = curl.get();
  transfer.options = &options;
  transfer.cancel = &cancel;
  transfer.on_body = &on_body;

  std::unique_ptr<curl_slist, CurlSlistFree> headers;
  auto add_header = [&](const std::string& line) {
    curl_slist* appended = curl_slist_append(headers.get(), line.c_str());
    if (appended != nullptr) {
      (void)headers.release();
      headers.reset(appended);
    }
  };
  for (const auto& [name, value] : request.headers) add_header(name + ": " + value);
  add_header("Expect:");  // no 100-continue round trip before request bodies

  std::unique_ptr<curl_mime, CurlMimeFree> mime;
  CURL* handle = curl.get();
  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  // Local model servers must never go through a proxy taken from the environment.
  curl_easy_setopt(handle, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "OpenNotebook/" ON_VERSION);
  curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &transfer);

  if (!request.form.empty()) {
    mime.reset(curl_mime_init(handle));
    for (const FormPart& part : request.form) {
      curl_mimepart* field = curl_mime_addpart(mime.get());
      curl_mime_name(field, part.name.c_str());
      curl_mime_data(field, part.value.data(), part.value.size());
      if (!part.filename.empty()) curl_mime_filename(field, part.filename.c_str());
      if (!part.content_type.empty()) curl_mime_type(field, part.content_type.c_str());
    }
    curl_easy_setopt(handle, CURLOPT_MIMEPOST, mime.get());
  } else if (request.method == "POST" || !request.body.empty()) {
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
  }
  if (request.method != "GET" && request.method != "POST") {
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  std::unique_ptr<curl_slist, CurlSlistFree> resolve;
  if (!resolve_entry.empty()) {
    resolve.reset(curl_slist_append(nullptr, resolve_entry.c_str()));
    curl_easy_setopt(handle, CURLOPT_RESOLVE, resolve.get());
  }

  const CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) return TransferError(code, error_buffer, transfer, request, options);

  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &transfer.response.status);
  if (!transfer.retry_after.empty()) {
    transfer.response.retry_after = ingest::ParseRetryAfter(transfer.retry_after, std::chrono::system_clock::now());
  }
  return std::move(transfer.response);
}

Result<HttpResponse> SendWithRetries(const HttpRequest& request, const HttpOptions& options, const RetryOptions& retry,
                                     const CancelToken& cancel, const BodyCallback& on_body) {
  const int max_attempts = std::max(1, retry.policy.max_attempts);
  // Once body bytes reached the caller, a new attempt would repeat them, so none is made.
  bool streamed = false;
  BodyCallback counting_body;
  if (on_body) {
    counting_body = [&](std::string_view piece) {
      streamed = true;
      return on_body(piece);
    };
  }
  for (int attempt = 1;; ++attempt) {
    Result<HttpResponse> result = SendOnce(request, options, cancel, counting_body);

    std::optional<std::chrono::milliseconds> wait;
    std::string reason;
    if (!result.ok()) {
      if (result.status().code() != ErrorCode::kUpstream || streamed) return result;
      reason = result.status().message();
      wait = retry.policy.Delay(attempt);
    } else if (IsRetryableStatus(result->status) && !streamed) {
      reason = "HTTP " + std::to_string(result->status) + ": " + ProviderReason(result->body);
      if (result->retry_after) {
        if (*result->retry_after > retry.max_retry_after) {
          return Status(ErrorCode::kRateLimited,
                        "the AI provider at " + UrlForLog(request.url) + " asked to wait " +
                            std::to_string(result->retry_after->count()) + " s before retrying, more than the limit of " +
                            std::to_string(retry.max_retry_after.count()) + " s (" + reason + ")");
        }
        wait = std::chrono::duration_cast<std::chrono::milliseconds>(*result->retry_after);
      } else {
        wait = retry.policy.Delay(attempt);
      }
    } else {
      return result;
    }

    if (attempt >= max_attempts) {
      spdlog::warn("AI provider request to {} failed after {} attempts: {}", UrlForLog(request.url), attempt, reason);
      return result;
    }
    spdlog::info("AI provider request to {} failed ({}); retrying in {} ms (attempt {} of {})", UrlForLog(request.url),
                 reason, wait->count(), attempt, max_attempts);
    if (!SleepUnlessCancelled(*wait, cancel)) {
      return Status(ErrorCode::kCancelled, "the request to " + UrlForLog(request.url) + " was cancelled");
    }
  }
}

std::string ProviderReason(std::string_view body) {
  const nlohmann::json value = nlohmann::json::parse(body, nullptr, false);
  if (value.is_object() && value.contains("error")) {
    const nlohmann::json& error = value["error"];
    if (error.is_string()) return error.get<std::string>();
    if (error.is_object() && error.contains("message") && error["message"].is_string()) {
      return error["message"].get<std::string>();
    }
  }
  if (value.is_object() && value.contains("message") && value["message"].is_string()) {
    return value["message"].get<std::string>();
  }
  // ElevenLabs: {"detail": {"status": "voice_not_found", "message": "..."}} or {"detail": "..."}.
  if (value.is_object() && value.contains("detail")) {
    const nlohmann::json& detail = value["detail"];
    if (detail.is_string()) return detail.get<std::string>();
    if (detail.is_object() && detail.contains("message") && detail["message"].is_string()) {
      return detail["message"].get<std::string>();
    }
  }
  const std::string_view trimmed = TrimView(body);
  if (trimmed.empty()) return "empty response body";
  constexpr std::size_t kMaxShown = 300;
  std::string shown(trimmed.substr(0, kMaxShown));
  if (trimmed.size() > kMaxShown) shown += "...";
  return shown;
}

bool IsContextLengthError(long http_status, std::string_view body) {
  if (http_status == 413) return true;
  if (http_status != 400) return false;
  const nlohmann::json value = nlohmann::json::parse(body, nullptr, false);
  if (value.is_object() && value.contains("error") && value["error"].is_object()) {
    const nlohmann::json& code = value["error"].value("code", nlohmann::json());
    if (code.is_string() && code.get<std::string>() == "context_length_exceeded") return true;
  }
  const std::string reason = ToLowerAscii(ProviderReason(body));
  for (const std::string_view marker :
       {"context length", "context_length", "context window", "maximum context", "prompt is too long",
        "exceeds the maximum number of tokens", "input length exceeds", "too many tokens", "input is too long"}) {
    if (reason.find(marker) != std::string::npos) return true;
  }
  return false;
}

Status ProviderErrorStatus(std::string_view provider, const HttpResponse& response) {
  const std::string prefix = std::string(provider) + " returned HTTP " + std::to_string(response.status) + ": " +
                             ProviderReason(response.body);
  const long status = response.status;
  if (IsContextLengthError(status, response.body)) {
    return Status(ErrorCode::kContextLengthExceeded, prefix + " (the input is longer than the model accepts; split it into smaller parts)");
  }
  if (status == 429) return Status(ErrorCode::kRateLimited, prefix + " (rate limited; try again later)");
  if (IsRetryableStatus(status)) return Status(ErrorCode::kUpstream, prefix);
  if (status == 401) return Status(ErrorCode::kConfiguration, prefix + " (the API key is invalid; update the credential)");
  if (status == 403) {
    return Status(ErrorCode::kConfiguration, prefix + " (the API key lacks permission; check the credential's access)");
  }
  if (status == 404) {
    return Status(ErrorCode::kConfiguration, prefix + " (the model or endpoint was not found; check the model name and base URL)");
  }
  return Status(ErrorCode::kProviderRejected, prefix);
}

std::string UrlForLog(std::string_view url) { return std::string(url.substr(0, url.find('?'))); }

}  // namespace on::ai
