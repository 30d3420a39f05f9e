// The web UI server: the built UI's files, GET /config, and /api/* forwarded to the API.
//
// It is separate from http::Server because forwarding must stream: an API response (a source
// download, a server-sent event stream of a chat answer) is relayed piece by piece as it arrives,
// never collected first, so events reach the browser as soon as the API writes them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/error.h"
#include "core/settings.h"
#include "http/message.h"
#include "http/static_files.h"

namespace on::http {

// An http:// address split into its parts.
struct HttpEndpoint {
  std::string host;  // without IPv6 brackets
  uint16_t port = 80;
  std::string ToString() const;
};

// Parses "http://host[:port]" (a trailing "/" is allowed, a path is not). Returns kInvalidInput
// naming `setting` and the value otherwise. https:// is rejected because the forwarded hop is
// meant to stay on one machine or a private network.
Result<HttpEndpoint> ParseUpstreamUrl(std::string_view url, std::string_view setting);

// Checks API_URL: empty, or "http(s)://host[:port]" without a path. Returns it without a trailing
// "/".
Result<std::string> NormalizePublicApiUrl(std::string_view url);

struct FrontendOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8502;  // 0 picks a free port; read it back with port()
  std::filesystem::path web_dir;
  std::string public_api_url;  // what GET /config returns as apiUrl; empty for "same origin"
  HttpEndpoint upstream;       // where /api/* goes
  uint64_t max_body_bytes = 100ull << 20;
  std::chrono::seconds shutdown_timeout{30};
  bool access_log = true;
};

// FrontendOptions from the settings; `upstream` is INTERNAL_API_URL unless given.
Result<FrontendOptions> FrontendOptionsFrom(const Settings& settings, std::optional<HttpEndpoint> upstream = std::nullopt);

class FrontendServer {
 public:
  explicit FrontendServer(FrontendOptions options);
  ~FrontendServer();
  FrontendServer(const FrontendServer&) = delete;
  FrontendServer& operator=(const FrontendServer&) = delete;

  // Binds and listens; kUnavailable naming the address when the port is taken.
  Status Listen();
  uint16_t port() const { return bound_port_; }

  // Serves on the calling thread until Shutdown() has drained the requests in flight.
  void Run();

  // Stops accepting and lets in-flight requests (streams too) finish up to the shutdown timeout.
  // Thread-safe, idempotent.
  void Shutdown();

  // The headers every UI response carries (the forwarded API responses keep the API's own).
  void AddSecurityHeaders(Response& response) const;

 private:
  struct Session;

  boost::asio::awaitable<void> Accept();
  boost::asio::awaitable<void> ServeSession(std::shared_ptr<Session> session);
  Response Local(const Request& request) const;
  void WatchDrain(std::chrono::steady_clock::time_point deadline);

  FrontendOptions options_;
  StaticFiles files_;
  std::string content_security_policy_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t bound_port_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<int> in_flight_{0};
  std::mutex sessions_mutex_;
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions_;  // guarded by sessions_mutex_
  uint64_t next_session_id_ = 0;                                   // guarded by sessions_mutex_
};

}  // namespace on::http
