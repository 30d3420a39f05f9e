#include "http/frontend_server.h"

#include <array>
#include <charconv>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/logging.h"
#include "http/client_address.h"
#include "http/pipeline.h"
#include "http/request_reader.h"

namespace on::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr std::chrono::seconds kConnectTimeout{10};
// A forwarded response may be quiet this long between two pieces. Event streams send a
// heartbeat far more often, so only a stalled API reaches it.
constexpr std::chrono::seconds kUpstreamIdleTimeout{600};

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.substr(0, prefix.size()) == prefix;
}

// Headers that describe one connection, not the message, and so never cross a proxy (RFC 9110
// section 7.6.1). Transfer-Encoding is left to Beast, which re-frames the body for each side.
bool IsHopByHop(bhttp::field field, std::string_view name) {
  switch (field) {
    case bhttp::field::connection:
    case bhttp::field::keep_alive:
    case bhttp::field::proxy_connection:
    case bhttp::field::proxy_authenticate:
    case bhttp::field::proxy_authorization:
    case bhttp::field::te:
    case bhttp::field::trailer:
    case bhttp::field::upgrade:
      return true;
    default:
      return beast::iequals(name, "x-forwarded-for") || beast::iequals(name, "x-forwarded-host") ||
             beast::iequals(name, "x-forwarded-proto") || beast::iequals(name, "forwarded");
  }
}

std::string UrlHost(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

Result<std::pair<std::string, uint16_t>> SplitAuthority(std::string_view authority, uint16_t default_port,
                                                        std::string_view setting, std::string_view url) {
  auto invalid = [&](std::string_view why) {
    return InvalidInput(std::string(setting) + " '" + std::string(url) + "' " + std::string(why));
  };
  std::string host;
  std::string_view port_text;
  if (StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("has an unclosed '[' in its host");
    host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return invalid("has text after the IPv6 address");
      port_text = rest.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (host.empty()) return invalid("has no host");
  if (host.find_first_of("@/?#") != std::string::npos) return invalid("has characters that do not belong in a host");
  uint16_t port = default_port;
  if (!port_text.empty() || authority.back() == ':') {
    int value = 0;
    auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (error != std::errc() || end != port_text.data() + port_text.size() || value < 1 || value > 65535) {
      return invalid("has a port that is not a number from 1 to 65535");
    }
    port = static_cast<uint16_t>(value);
  }
  return std::make_pair(host, port);
}

Response JsonLocal(const nlohmann::json& value, int status = 200) {
  Response response = JsonResponse(value, status);
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

asio::awaitable<void> WriteLocal(beast::tcp_stream& stream, const std::string& method, const Response& response,
                                 bool keep_alive, beast::error_code& error) {
  bhttp::response<bhttp::string_body> message{static_cast<bhttp::status>(response.status), 11};
  if (!response.content_type.empty()) message.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) message.set(name, value);
  message.keep_alive(keep_alive);
  if (method == "HEAD") {
    message.content_length(response.body.size());
    bhttp::response_serializer<bhttp::string_body> serializer(message);
    auto [ec, written] = co_await bhttp::async_write_header(stream, serializer, kNoThrow);
    error = ec;
    co_return;
  }
  message.body() = response.body;
  message.prepare_payload();
  auto [ec, written] = co_await bhttp::async_write(stream, message, kNoThrow);
  error = ec;
}

// Sends one request to the API and relays its response to `client` while it arrives. Returns
// whether the client connection can carry another request.
asio::awaitable<bool> Forward(beast::tcp_stream& client, bhttp::request<bhttp::string_body>& incoming,
                              const HttpEndpoint& upstream, const std::string& forwarded_for, bool keep_alive,
                              int& status_out, uint64_t& bytes_out) {
  const auto executor = co_await asio::this_coro::executor;
  const std::string method(incoming.method_string());

  auto fail = [&](int status, std::string detail) -> asio::awaitable<bool> {
    spdlog::warn("forwarding {} {} to {} failed: {}", method, std::string(incoming.target()), upstream.ToString(), detail);
    Response response = JsonLocal({{"detail", std::move(detail)}}, status);
    status_out = status;
    beast::error_code error;
    co_await WriteLocal(client, method, response, keep_alive, error);
    co_return !error && keep_alive;
  };

  tcp::resolver resolver(executor);
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(upstream.host, std::to_string(upstream.port), kNoThrow);
  if (resolve_error) {
    co_return co_await fail(502, "The API address " + upstream.ToString() + " does not resolve (" +
                                     resolve_error.message() + "); check INTERNAL_API_URL");
  }
  beast::tcp_stream api(executor);
  api.expires_after(kConnectTimeout);
  auto [connect_error, connected] = co_await api.async_connect(endpoints, kNoThrow);
  (void)connected;
  if (connect_error) {
    co_return co_await fail(502, "The API at " + upstream.ToString() + " is not reachable (" + connect_error.message() +
                                     "); start it (`open-notebook api`) or check INTERNAL_API_URL");
  }

  bhttp::request<bhttp::string_body> outgoing{incoming.method(), incoming.target(), 11};
  for (const auto& field : incoming) {
    if (IsHopByHop(field.name(), field.name_string()) || field.name() == bhttp::field::host ||
        field.name() == bhttp::field::content_length || field.name() == bhttp::field::transfer_encoding ||
        field.name() == bhttp::field::expect) {
      continue;
    }
    outgoing.insert(field.name_string(), field.value());
  }
  outgoing.set(bhttp::field::host, UrlHost(upstream.host) + ":" + std::to_string(upstream.port));
  // Replaces the received header: ForwardedForChain kept it only from a proxy on this machine.
  outgoing.set("X-Forwarded-For", forwarded_for);
  outgoing.set("X-Forwarded-Proto", "http");
  if (auto host = incoming.find(bhttp::field::host); host != incoming.end()) outgoing.set("X-Forwarded-Host", host->value());
  outgoing.body() = std::move(incoming.body());
  outgoing.keep_alive(false);
  outgoing.prepare_payload();

  api.expires_after(kBodyTimeout);
  auto [write_error, request_bytes] = co_await bhttp::async_write(api, outgoing, kNoThrow);
  (void)request_bytes;
  if (write_error) co_return co_await fail(502, "Sending the request to the API failed: " + write_error.message());

  beast::flat_buffer api_buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);  // downloads may be as large as any stored file
  parser.header_limit(kHeaderLimit);
  if (method == "HEAD") parser.skip(true);
  api.expires_after(kUpstreamIdleTimeout);
  auto [header_error, header_bytes] = co_await bhttp::async_read_header(api, api_buffer, parser, kNoThrow);
  (void)header_bytes;
  if (header_error) co_return co_await fail(502, "The API sent no valid response: " + header_error.message());

  auto& response = parser.get();
  status_out = static_cast<int>(response.result_int());
  for (auto it = response.begin(); it != response.end();) {
    it = IsHopByHop(it->name(), it->name_string()) ? response.erase(it) : std::next(it);
  }
  const bool has_body = method != "HEAD" && status_out >= 200 && status_out != 204 && status_out != 304;
  // A body that ends when the API closes its connection is re-framed as chunks, so the browser's
  // connection stays usable.
  if (has_body && !response.has_content_length() && !response.chunked()) response.chunked(true);
  response.keep_alive(keep_alive);

  bhttp::response_serializer<bhttp::buffer_body> serializer(response);
  client.expires_after(kBodyTimeout);
  auto [client_header_error, client_header_bytes] = co_await bhttp::async_write_header(client, serializer, kNoThrow);
  (void)client_header_bytes;
  if (client_header_error || !has_body) co_return !client_header_error && keep_alive;

  std::array<char, 16 * 1024> piece;
  while (!parser.is_done()) {
    response.body().data = piece.data();
    response.body().size = piece.size();
    api.expires_after(kUpstreamIdleTimeout);
    auto [read_error, read_bytes] = co_await bhttp::async_read_some(api, api_buffer, parser, kNoThrow);
    (void)read_bytes;
    if (read_error && read_error != bhttp::error::need_buffer) {
      // The response is half sent: the only honest signal left is to cut the connection.
      spdlog::warn("the API's response to {} {} broke off: {}", method, std::string(incoming.target()), read_error.message());
      co_return false;
    }
    const size_t filled = piece.size() - response.body().size;
    if (filled == 0 && !parser.is_done()) continue;
    response.body().data = filled > 0 ? piece.data() : nullptr;
    response.body().size = filled;
    response.body().more = !parser.is_done();
    bytes_out += filled;
    client.expires_after(kBodyTimeout);
    auto [client_error, client_bytes] = co_await bhttp::async_write(client, serializer, kNoThrow);
    (void)client_bytes;
    if (client_error && client_error != bhttp::error::need_buffer) co_return false;  // the browser went away
  }
  if (!serializer.is_done()) {
    response.body().data = nullptr;
    response.body().size = 0;
    response.body().more = false;
    auto [final_error, final_bytes] = co_await bhttp::async_write(client, serializer, kNoThrow);
    (void)final_bytes;
    if (final_error && final_error != bhttp::error::need_buffer) co_return false;
  }
  co_return keep_alive;
}

}  // namespace

std::string HttpEndpoint::ToString() const { return "http://" + UrlHost(host) + ":" + std::to_string(port); }

Result<HttpEndpoint> ParseUpstreamUrl(std::string_view url, std::string_view setting) {
  constexpr std::string_view kScheme = "http://";
  if (!StartsWith(url, kScheme)) {
    return InvalidInput(std::string(setting) + " '" + std::string(url) +
                        "' must start with http:// (e.g. http://127.0.0.1:5055); the UI server forwards to the API "
                        "without TLS, so keep that hop on one machine or a private network");
  }
  std::string_view authority = url.substr(kScheme.size());
  if (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
  if (authority.find('/') != std::string_view::npos) {
    return InvalidInput(std::string(setting) + " '" + std::string(url) +
                        "' must not have a path: give only http://host:port");
  }
  ON_ASSIGN_OR_RETURN(auto parts, SplitAuthority(authority, 80, setting, url));
  return HttpEndpoint{parts.first, parts.second};
}

Result<std::string> NormalizePublicApiUrl(std::string_view url) {
  if (url.empty()) return std::string();
  std::string_view rest;
  uint16_t default_port = 80;
  if (StartsWith(url, "http://")) {
    rest = url.substr(7);
  } else if (StartsWith(url, "https://")) {
    rest = url.substr(8);
    default_port = 443;
  } else {
    return InvalidInput("API_URL '" + std::string(url) +
                        "' must start with http:// or https:// (e.g. https://api.example.com), or be empty to let the "
                        "browser call /api on the UI's own address");
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) {
    return InvalidInput("API_URL '" + std::string(url) +
                        "' must not have a path: the UI appends /api itself, so give only the scheme, host and port");
  }
  ON_RETURN_IF_ERROR(SplitAuthority(rest, default_port, "API_URL", url).status());
  return std::string(default_port == 443 ? "https://" : "http://") + std::string(rest);
}

Result<FrontendOptions> FrontendOptionsFrom(const Settings& settings, std::optional<HttpEndpoint> upstream) {
  FrontendOptions options;
  options.host = settings.frontend_host;
  options.port = static_cast<uint16_t>(settings.frontend_port);
  options.web_dir = ResolveWebDir(settings.web_dir);
  ON_ASSIGN_OR_RETURN(options.public_api_url, NormalizePublicApiUrl(settings.api_url));
  if (upstream) {
    options.upstream = *upstream;
  } else {
    ON_ASSIGN_OR_RETURN(options.upstream, ParseUpstreamUrl(settings.internal_api_url, "INTERNAL_API_URL"));
  }
  options.max_body_bytes = static_cast<uint64_t>(settings.max_upload_size_mb) << 20;
  options.shutdown_timeout = std::chrono::seconds(settings.shutdown_timeout_s);
  options.access_log = settings.access_log;
  return options;
}

struct FrontendServer::Session {
  explicit Session(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  std::atomic<bool> idle{true};
};

FrontendServer::FrontendServer(FrontendOptions options)
    : options_(std::move(options)), files_(options_.web_dir), io_(1), acceptor_(io_) {
  // The app is one script and one style sheet from this origin. Inline styles are allowed because
  // React sets style attributes for a few widths (progress bars); inline scripts are not.
  // Podcast audio plays from the API (this origin, or the public API URL) or, when a password is
  // set, from a blob: URL, because an <audio> element cannot send the password header.
  std::string connect = "'self'";
  std::string media = "'self' blob:";
  if (!options_.public_api_url.empty()) {
    connect += " " + options_.public_api_url;
    media += " " + options_.public_api_url;
  }
  content_security_policy_ =
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
      "media-src " + media + "; font-src 'self' data:; connect-src " + connect +
      "; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
}

FrontendServer::~FrontendServer() = default;

Status FrontendServer::Listen() {
  beast::error_code ec;
  const auto address = asio::ip::make_address(options_.host, ec);
  if (ec) {
    return InvalidInput("FRONTEND_BIND_HOST '" + options_.host + "' is not an IP address: use e.g. 127.0.0.1, 0.0.0.0 or ::");
  }
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(ErrorCode::kUnavailable, "the web UI cannot listen on " + options_.host + ":" +
                                               std::to_string(options_.port) + ": " + ec.message() +
                                               "; stop the other process or set FRONTEND_PORT");
  }
  bound_port_ = acceptor_.local_endpoint().port();
  return Status::Ok();
}

void FrontendServer::Run() {
  asio::co_spawn(io_, Accept(), asio::detached);
  io_.run();
}

asio::awaitable<void> FrontendServer::Accept() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      spdlog::warn("web UI: accept failed: {}", ec.message());
      continue;
    }
    auto session = std::make_shared<Session>(std::move(socket));
    uint64_t id = 0;
    {
      std::lock_guard lock(sessions_mutex_);
      id = next_session_id_++;
      sessions_[id] = session;
    }
    asio::co_spawn(io_, ServeSession(session), [this, id](std::exception_ptr error) {
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::error("web UI connection ended with an exception: {}", e.what());
        }
      }
      std::lock_guard lock(sessions_mutex_);
      sessions_.erase(id);
    });
  }
}

void FrontendServer::AddSecurityHeaders(Response& response) const {
  response.SetHeader("Content-Security-Policy", content_security_policy_);
  response.SetHeader("X-Content-Type-Options", "nosniff");
  response.SetHeader("X-Frame-Options", "DENY");
  response.SetHeader("Referrer-Policy", "no-referrer");
  response.SetHeader("Cross-Origin-Opener-Policy", "same-origin");
}

Response FrontendServer::Local(const Request& request) const {
  Response response;
  if (request.method != "GET" && request.method != "HEAD") {
    response = JsonLocal({{"detail", "Method " + request.method + " is not allowed on " + request.path}}, 405);
    response.SetHeader("Allow", "GET, HEAD");
  } else if (request.path == "/config") {
    // Built from the settings only. Deriving it from the Host header would let anyone who can
    // send a request with a forged Host (or poison a shared cache) point browsers at their server.
    response = JsonLocal({{"apiUrl", options_.public_api_url}});
  } else if (request.path == "/health") {
    response = JsonLocal({{"status", "healthy"}});
  } else {
    response = files_.Serve(request.path);
  }
  AddSecurityHeaders(response);
  return response;
}

asio::awaitable<void> FrontendServer::ServeSession(std::shared_ptr<Session> session) {
  beast::tcp_stream& stream = session->stream;
  beast::flat_buffer buffer;
  beast::error_code endpoint_error;
  const auto remote = stream.socket().remote_endpoint(endpoint_error);
  const std::string client = endpoint_error ? "unknown" : remote.address().to_string();

  for (;;) {
    if (draining_) break;
    RequestParser parser;
    const HeaderResult header = co_await ReadRequestHeader(stream, buffer, parser, options_.max_body_bytes, session->idle);
    if (header.outcome == HeaderRead::kClosed) break;

    const auto started = std::chrono::steady_clock::now();
    in_flight_ += 1;
    const std::string method(parser.get().method_string());
    const std::string_view target = parser.get().target();
    const std::string raw_path(target.substr(0, target.find('?')));
    const std::string path = PercentDecode(raw_path, false).value_or(raw_path);
    const std::string request_id = ChooseRequestId(std::nullopt);
    int status = 0;
    uint64_t bytes = 0;
    bool keep_alive = false;

    // The error response to a request that cannot be served. The connection closes after it,
    // because the rest of such a request cannot be skipped reliably.
    std::optional<Response> rejection;
    if (header.outcome == HeaderRead::kTooLarge) {
      rejection = JsonLocal({{"detail", "Request headers are too large"}}, 431);
    } else if (header.outcome == HeaderRead::kMalformed) {
      rejection = JsonLocal({{"detail", "Malformed HTTP request: " + header.error.message()}}, 400);
    } else if (header.outcome == HeaderRead::kBodyTooLarge) {
      rejection = JsonLocal({{"detail", "Request body exceeds the maximum allowed upload size"}}, 413);
    } else {
      const BodyRead body = co_await ReadRequestBody(stream, buffer, parser);
      if (body == BodyRead::kFailed) {
        in_flight_ -= 1;
        break;
      }
      if (body == BodyRead::kTooLarge) {
        rejection = JsonLocal({{"detail", "Request body exceeds the maximum allowed upload size"}}, 413);
      }
    }

    beast::error_code write_error;
    if (rejection) {
      status = rejection->status;
      co_await WriteLocal(stream, method, *rejection, false, write_error);
    } else {
      keep_alive = parser.get().keep_alive() && !draining_;
      if (path == "/api" || StartsWith(path, "/api/")) {
        const std::string forwarded_for = ForwardedForChain(client, parser.get()["X-Forwarded-For"]);
        keep_alive = co_await Forward(stream, parser.get(), options_.upstream, forwarded_for, keep_alive, status, bytes);
      } else {
        Request request;
        request.method = method;
        request.path = path;
        const Response response = Local(request);
        status = response.status;
        bytes = response.body.size();
        co_await WriteLocal(stream, method, response, keep_alive, write_error);
        keep_alive = keep_alive && !write_error;
      }
    }
    in_flight_ -= 1;

    if (options_.access_log) {
      const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
      ScopedLogContext context(request_id);
      spdlog::info("ui {} {} {} {} {:.1f}ms {}B", client, method, path, status, elapsed.count(), bytes);
    }
    if (!keep_alive || write_error) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

void FrontendServer::Shutdown() {
  if (draining_.exchange(true)) return;
  asio::post(io_, [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    WatchDrain(std::chrono::steady_clock::now() + options_.shutdown_timeout);
  });
}

void FrontendServer::WatchDrain(std::chrono::steady_clock::time_point deadline) {
  {
    // Connections waiting for their next request have nothing to finish.
    std::lock_guard lock(sessions_mutex_);
    for (auto& [id, weak] : sessions_) {
      if (auto session = weak.lock(); session && session->idle) session->stream.cancel();
    }
  }
  if (in_flight_ == 0 || std::chrono::steady_clock::now() >= deadline) {
    if (in_flight_ > 0) spdlog::warn("web UI: shutdown timeout reached with {} requests still running", in_flight_.load());
    io_.stop();
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(20));
  timer->async_wait([this, timer, deadline](beast::error_code) { WatchDrain(deadline); });
}

}  // namespace on::http
