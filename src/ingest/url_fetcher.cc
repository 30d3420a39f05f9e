#include "ingest/url_fetcher.h"

#include <curl/curl.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <utility>

namespace on::ingest {
namespace {

using Clock = std::chrono::steady_clock;

// Shortens a URL for messages; the URL never contains credentials because ParseFetchUrl rejects them.
std::string ShortUrl(std::string_view url) {
  constexpr std::size_t kMaxShown = 200;
  if (url.size() <= kMaxShown) return std::string(url);
  return std::string(url.substr(0, kMaxShown)) + "...";
}

// Formats an address for libcurl's host fields, where IPv6 needs brackets.
// NOTE: the zone of a scoped address ("fe80::1%eth0") is gone by now, so an allow-listed
// link-local IPv6 address is unlikely to connect.
std::string CurlHostField(const std::string& address) {
  return address.find(':') == std::string::npos ? address : "[" + address + "]";
}

struct CurlEasyCleanup {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyCleanup>;

struct CurlSlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistFree>;

CurlSlist AppendToSlist(CurlSlist list, const std::string& entry) {
  curl_slist* appended = curl_slist_append(list.get(), entry.c_str());
  if (appended == nullptr) return list;  // out of memory; libcurl then fails the transfer setup
  list.release();
  return CurlSlist(appended);
}

// Receives body bytes and stops the transfer once the limit is exceeded.
struct BodySink {
  std::string body;
  std::size_t max_bytes = 0;
  bool limit_exceeded = false;
};

std::size_t WriteBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const std::size_t bytes = size * count;
  if (sink->body.size() + bytes > sink->max_bytes) {
    sink->limit_exceeded = true;
    return 0;  // any count other than `bytes` makes libcurl abort with CURLE_WRITE_ERROR
  }
  sink->body.append(data, bytes);
  return bytes;
}

// The outcome of one request, before redirects are considered.
struct HopResponse {
  long http_status = 0;
  std::string content_type;
  std::string body;
  std::string redirect_url;  // absolute Location target of a 3xx, empty otherwise
  std::string retry_after;   // raw Retry-After header, empty when missing
};

// A transfer error together with whether another resolved address is worth trying.
struct HopError {
  Status status;
  bool try_next_address = false;
};

Status TimeoutStatus(const std::string& url, const FetchOptions& options, const char* detail) {
  return Status(ErrorCode::kTimeout,
                "fetching " + ShortUrl(url) + " timed out (" + detail + "); limits: connect " +
                    std::to_string(options.connect_timeout.count()) + " ms, total " +
                    std::to_string(options.total_timeout.count()) + " ms, at least " +
                    std::to_string(options.low_speed_bytes_per_second) + " bytes/s over " +
                    std::to_string(options.low_speed_time.count()) + " s");
}

Status PayloadTooLargeStatus(const std::string& url, const FetchOptions& options) {
  return Status(ErrorCode::kPayloadTooLarge, "response body of " + ShortUrl(url) + " exceeds the limit of " +
                                                 std::to_string(options.max_body_bytes) +
                                                 " bytes (max_body_bytes); the transfer was stopped");
}

HopError MapCurlError(CURLcode code, const char* error_buffer, const BodySink& sink, const FetchUrlParts& parts,
                      const std::string& address, const FetchOptions& options) {
  const char* detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  const std::string target = parts.host + ":" + std::to_string(parts.port) + " (address " + address + ")";
  switch (code) {
    case CURLE_WRITE_ERROR:
      if (sink.limit_exceeded) return {PayloadTooLargeStatus(parts.url, options)};
      break;
    case CURLE_FILESIZE_EXCEEDED:
      return {PayloadTooLargeStatus(parts.url, options)};
    case CURLE_OPERATION_TIMEDOUT:
      return {TimeoutStatus(parts.url, options, detail)};
    case CURLE_COULDNT_CONNECT:
      return {Status(ErrorCode::kUpstream, "could not connect to " + target + ": " + detail), true};
    case CURLE_COULDNT_RESOLVE_HOST:
      return {Status(ErrorCode::kUpstream, "could not resolve " + target + ": " + detail)};
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      return {Status(ErrorCode::kUpstream, "TLS with " + target + " failed: " + detail +
                                               ". The server's certificate must be valid for the host name.")};
    default:
      break;
  }
  return {Status(ErrorCode::kUpstream, "fetching " + ShortUrl(parts.url) + " from " + target + " failed: " + detail)};
}

struct TransferLimits {
  std::chrono::milliseconds connect_timeout;
  std::chrono::milliseconds total_timeout;
};

// Applies the options that make the transfer safe for untrusted URLs: one pinned address, no
// proxy, no automatic redirects, only http and https, and the configured limits.
void SetTransferOptions(CURL* curl, const FetchUrlParts& parts, const FetchOptions& options,
                        const TransferLimits& limits, curl_slist* connect_to, curl_slist* resolve,
                        curl_slist* headers, BodySink* sink, char* error_buffer) {
  curl_easy_setopt(curl, CURLOPT_URL, parts.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);

  // CONNECT_TO with empty host and port applies to every connection of this handle. RESOLVE
  // additionally fills the DNS cache for the URL's host, so libcurl has no name left to look up.
  curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
  if (resolve != nullptr) curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");

  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(limits.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(limits.total_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, options.low_speed_bytes_per_second);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.low_speed_time.count()));
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_body_bytes));

  curl_easy_setopt(curl, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // every encoding this libcurl can decode
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
}

HopResponse ReadHopResponse(CURL* curl, BodySink& sink) {
  HopResponse response;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.http_status);
  const char* content_type = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK && content_type != nullptr) {
    response.content_type = content_type;
  }
  // With redirects off, libcurl still computes where a 3xx would lead, resolved against the URL.
  const char* redirect_url = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &redirect_url) == CURLE_OK && redirect_url != nullptr) {
    response.redirect_url = redirect_url;
  }
  curl_header* retry_after = nullptr;
  if (curl_easy_header(curl, "Retry-After", 0, CURLH_HEADER, -1, &retry_after) == CURLHE_OK) {
    response.retry_after = retry_after->value;
  }
  response.body = std::move(sink.body);
  return response;
}

// Performs one GET of `parts.url`, connecting only to `address`.
Result<HopResponse> PerformHop(const FetchUrlParts& parts, const std::string& address, const FetchOptions& options,
                               const TransferLimits& limits, bool* try_next_address) {
  *try_next_address = false;
  EnsureCurlInitialized();
  CurlEasy curl(curl_easy_init());
  if (!curl) return InternalError("curl_easy_init() failed to allocate a transfer handle");

  const CurlSlist connect_to = AppendToSlist(nullptr, "::" + CurlHostField(address) + ":");
  CurlSlist resolve;
  if (!parts.host_is_address) {
    resolve = AppendToSlist(nullptr, parts.host + ":" + std::to_string(parts.port) + ":" + CurlHostField(address));
  }
  CurlSlist headers;
  if (!options.accept.empty()) headers = AppendToSlist(nullptr, "Accept: " + options.accept);

  BodySink sink;
  sink.max_bytes = options.max_body_bytes;
  char error_buffer[CURL_ERROR_SIZE] = {};
  SetTransferOptions(curl.get(), parts, options, limits, connect_to.get(), resolve.get(), headers.get(), &sink,
                     error_buffer);

  const CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    HopError error = MapCurlError(code, error_buffer, sink, parts, address, options);
    *try_next_address = error.try_next_address;
    return error.status;
  }
  return ReadHopResponse(curl.get(), sink);
}

Result<std::vector<std::string>> ResolveHop(const FetchUrlParts& parts, HostResolver& resolver) {
  if (parts.host_is_address) return std::vector<std::string>{parts.host};
  ON_ASSIGN_OR_RETURN(std::vector<std::string> addresses, resolver.Resolve(parts.host));
  if (addresses.empty()) {
    return Status(ErrorCode::kUpstream, "host " + parts.host + " resolved to no address; check the URL's host name");
  }
  return addresses;
}

// Resolves and checks the hop's host, then fetches it from the first checked address that accepts
// a connection. Every address is checked before any is tried, so one rejected address rejects
// the hop even when another would have been public.
Result<HopResponse> FetchHop(const FetchUrlParts& parts, const FetchOptions& options, const UrlPolicy& policy,
                             HostResolver& resolver, Clock::time_point deadline) {
  ON_ASSIGN_OR_RETURN(const std::vector<std::string> addresses, ResolveHop(parts, resolver));
  for (const std::string& address : addresses) {
    ON_RETURN_IF_ERROR(CheckAddress(parts.host, address, policy));
  }

  Status last_error = InternalError("no address was tried for " + parts.host);
  const auto attempts = std::min<std::size_t>(addresses.size(), std::max(1, options.max_connect_attempts));
  for (std::size_t i = 0; i < attempts; ++i) {
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (remaining.count() <= 0) return TimeoutStatus(parts.url, options, "no time left before connecting");
    const TransferLimits limits{std::min(options.connect_timeout, remaining), remaining};

    bool try_next_address = false;
    Result<HopResponse> response = PerformHop(parts, addresses[i], options, limits, &try_next_address);
    if (response.ok() || !try_next_address) return response;
    last_error = response.status();
    spdlog::warn("url fetch: {}; trying the next address of {}", last_error.message(), parts.host);
  }
  return last_error;
}

bool IsRedirectStatus(long http_status) {
  return http_status == 301 || http_status == 302 || http_status == 303 || http_status == 307 ||
         http_status == 308;
}

FetchResponse MakeFinalResponse(HopResponse hop, const FetchUrlParts& parts, int redirects_followed) {
  FetchResponse response;
  response.http_status = hop.http_status;
  response.content_type = std::move(hop.content_type);
  response.body = std::move(hop.body);
  response.final_url = parts.url;
  response.redirects_followed = redirects_followed;
  if (!hop.retry_after.empty()) response.retry_after = ParseRetryAfter(hop.retry_after, std::chrono::system_clock::now());
  return response;
}

}  // namespace

void EnsureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string ToLowerAscii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

Result<std::vector<std::string>> SystemHostResolver::Resolve(std::string_view host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* raw = nullptr;
  const std::string name(host);
  const int code = getaddrinfo(name.c_str(), nullptr, &hints, &raw);
  if (code != 0) {
    return Status(ErrorCode::kUpstream,
                  "could not resolve host " + name + ": " + gai_strerror(code) + "; check the URL's host name");
  }
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(raw, &freeaddrinfo);

  std::vector<std::string> addresses;
  for (const addrinfo* entry = list.get(); entry != nullptr; entry = entry->ai_next) {
    char text[NI_MAXHOST] = {};
    if (getnameinfo(entry->ai_addr, entry->ai_addrlen, text, sizeof(text), nullptr, 0, NI_NUMERICHOST) != 0) continue;
    if (std::find(addresses.begin(), addresses.end(), text) == addresses.end()) addresses.emplace_back(text);
  }
  if (addresses.empty()) return Status(ErrorCode::kUpstream, "host " + name + " resolved to no address");
  return addresses;
}

void StaticHostResolver::SetAnswers(std::string host, std::vector<std::vector<std::string>> answers) {
  const std::lock_guard lock(mutex_);
  entries_[ToLowerAscii(host)] = Entry{std::move(answers), 0};
}

Result<std::vector<std::string>> StaticHostResolver::Resolve(std::string_view host) {
  const std::lock_guard lock(mutex_);
  const auto it = entries_.find(ToLowerAscii(host));
  if (it == entries_.end() || it->second.answers.empty()) {
    return Status(ErrorCode::kUpstream, "could not resolve host " + std::string(host) + ": not in the static table");
  }
  Entry& entry = it->second;
  const std::size_t index = std::min<std::size_t>(entry.calls, entry.answers.size() - 1);
  ++entry.calls;
  return entry.answers[index];
}

int StaticHostResolver::ResolveCount(std::string_view host) const {
  const std::lock_guard lock(mutex_);
  const auto it = entries_.find(ToLowerAscii(host));
  return it == entries_.end() ? 0 : it->second.calls;
}

Result<FetchResponse> FetchUrl(std::string_view url, const FetchOptions& options, const UrlPolicy& policy,
                               HostResolver& resolver) {
  const Clock::time_point deadline = Clock::now() + options.total_timeout;
  ON_ASSIGN_OR_RETURN(FetchUrlParts parts, ParseFetchUrl(url));

  for (int redirects = 0;; ++redirects) {
    ON_ASSIGN_OR_RETURN(HopResponse hop, FetchHop(parts, options, policy, resolver, deadline));
    if (!IsRedirectStatus(hop.http_status) || hop.redirect_url.empty()) {
      return MakeFinalResponse(std::move(hop), parts, redirects);
    }
    if (redirects >= options.max_redirects) {
      return Status(ErrorCode::kUpstream, "too many redirects: " + ShortUrl(url) + " still redirects after " +
                                              std::to_string(options.max_redirects) +
                                              " redirects (max_redirects); fetch the final URL directly");
    }

    Result<FetchUrlParts> next = ParseFetchUrl(hop.redirect_url);
    if (!next.ok()) {
      return Status(ErrorCode::kForbidden, "redirect from " + ShortUrl(parts.url) + " was rejected: " +
                                               next.status().message());
    }
    spdlog::debug("url fetch: {} redirects ({}) to {}", parts.url, hop.http_status, next->url);
    parts = std::move(next).value();
  }
}

bool IsTransientHttpStatus(long http_status) {
  return http_status == 408 || http_status == 425 || http_status == 429 ||
         (http_status >= 500 && http_status <= 599);
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value,
                                                    std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) value.remove_suffix(1);
  if (value.empty() || value.size() > 64) return std::nullopt;

  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t seconds = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (error != std::errc() || end != value.data() + value.size()) return std::nullopt;
    return std::chrono::seconds(seconds);
  }

  // An HTTP date always names a day or month. The check keeps curl_getdate, which also accepts
  // looser forms, from reading values like "-5" as a date.
  if (std::none_of(value.begin(), value.end(), [](char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; })) {
    return std::nullopt;
  }
  // curl_getdate parses the three HTTP date formats of RFC 9110 (IMF-fixdate, RFC 850, asctime).
  const std::string text(value);
  const time_t date = curl_getdate(text.c_str(), nullptr);
  if (date == -1) return std::nullopt;
  const auto delay = std::chrono::system_clock::from_time_t(date) - now;
  return std::max(std::chrono::seconds(0), std::chrono::ceil<std::chrono::seconds>(delay));
}

}  // namespace on::ingest
