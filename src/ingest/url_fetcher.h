// Fetching URL sources over HTTP(S) with libcurl, behind the SSRF guard (ssrf_guard.h).
//
// Every hop (the first URL and each redirect target) is parsed, its host resolved through a
// HostResolver, and every resolved address checked by the guard before any connection is made.
// libcurl is then pinned to a checked address, so it never resolves the host itself and a DNS
// answer that changes between the check and the connection (DNS rebinding) cannot reach a
// rejected address. Redirects are followed here, not by libcurl, so each target is checked too.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "ingest/ssrf_guard.h"

namespace on::ingest {

// Resolves host names to IP address literals. Implementations must be thread-safe when one
// resolver is shared by concurrent fetches.
class HostResolver {
 public:
  virtual ~HostResolver() = default;

  // Returns the addresses of `host` as literals ("93.184.215.14", "2606:2800:21f:cb07::1").
  // Returns kUpstream when the host does not resolve or the answer is empty.
  virtual Result<std::vector<std::string>> Resolve(std::string_view host) = 0;
};

// Resolves with getaddrinfo (so /etc/hosts and the system DNS configuration apply).
// Thread-safe. NOTE: getaddrinfo has no timeout of its own, so a slow DNS server can delay a
// fetch beyond FetchOptions::total_timeout by the resolver's own retry time.
class SystemHostResolver final : public HostResolver {
 public:
  Result<std::vector<std::string>> Resolve(std::string_view host) override;
};

// Resolves from a fixed table, for tests and for hosts that must never reach DNS. Each call for
// a host returns the next answer in its list and repeats the last one when the list runs out,
// so a test can make a host resolve to a public address first and a private one later.
// Hosts not in the table fail with kUpstream. Thread-safe.
class StaticHostResolver final : public HostResolver {
 public:
  // Sets the answers for `host` (compared case-insensitively); each answer is a list of literals.
  void SetAnswers(std::string host, std::vector<std::vector<std::string>> answers);

  Result<std::vector<std::string>> Resolve(std::string_view host) override;

  // Number of Resolve calls for `host` so far.
  int ResolveCount(std::string_view host) const;

 private:
  struct Entry {
    std::vector<std::vector<std::string>> answers;
    int calls = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

struct FetchOptions {
  // The transfer is aborted as soon as the decoded body exceeds this many bytes.
  std::size_t max_body_bytes = 32 * 1024 * 1024;
  // Maximum time to establish each TCP (and TLS) connection.
  std::chrono::milliseconds connect_timeout{10'000};
  // Maximum time for the whole fetch, redirects included. Time spent in the resolver counts
  // against it, but a resolver call in progress is not interrupted.
  std::chrono::milliseconds total_timeout{60'000};
  // The transfer is aborted when it stays below low_speed_bytes_per_second for low_speed_time.
  long low_speed_bytes_per_second = 1024;
  std::chrono::seconds low_speed_time{30};
  // Maximum number of redirects followed; one more is an error.
  int max_redirects = 5;
  // Maximum number of resolved addresses tried, in resolver order, when connecting fails.
  int max_connect_attempts = 3;
  std::string user_agent = "OpenNotebook/" ON_VERSION " (url source fetcher)";
  // Sent as the Accept header; empty sends none.
  std::string accept = "text/html,application/xhtml+xml,application/pdf;q=0.9,text/plain;q=0.8,*/*;q=0.5";
};

struct FetchResponse {
  long http_status = 0;
  std::string content_type;  // the Content-Type header as sent, empty when missing
  std::string body;          // body after content decoding (gzip, deflate, brotli, zstd)
  std::string final_url;     // URL of the last hop, after redirects
  // Retry-After of the final response as a delay from now; unset when missing or invalid.
  std::optional<std::chrono::seconds> retry_after;
  int redirects_followed = 0;
};

// Fetches `url` with GET, following up to options.max_redirects redirects (301, 302, 303, 307,
// 308 with a Location header), and returns the final HTTP answer whatever its status, so the
// caller decides what a 403 or 503 means. Errors:
//   kInvalidInput     the URL is malformed, not http(s), or contains a user name or password
//   kForbidden        the guard rejected an address of some hop, or a redirect target is invalid
//   kPayloadTooLarge  the body exceeds options.max_body_bytes
//   kTimeout          a connect, total or low-speed limit was hit
//   kUpstream         DNS failure, connection refused or reset, TLS failure, too many redirects
// Thread-safe as long as `resolver` is; the call blocks for up to options.total_timeout plus DNS
// time. Proxy environment variables are ignored because a proxy would defeat the address check.
Result<FetchResponse> FetchUrl(std::string_view url, const FetchOptions& options, const UrlPolicy& policy,
                               HostResolver& resolver);

// Returns true for statuses worth retrying later: 408, 425, 429 and every 5xx.
bool IsTransientHttpStatus(long http_status);

// Parses a Retry-After value: delta seconds ("120") or an HTTP date ("Wed, 21 Oct 2015 07:28:00
// GMT"), which is converted to the delay from `now` (zero when the date has passed). Returns
// nullopt for anything else.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, std::chrono::system_clock::time_point now);

// Calls curl_global_init once per process: libcurl before 7.84 needs it before any thread uses
// libcurl. Every libcurl user of this binary calls it first.
void EnsureCurlInitialized();

// Returns `text` with ASCII letters lower-cased (header names, host names).
std::string ToLowerAscii(std::string_view text);

}  // namespace on::ingest
