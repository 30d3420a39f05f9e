#include "support/local_http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace on::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Every asynchronous operation reports errors as values, so a peer that goes away ends a
// coroutine with co_return instead of an exception.
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t kMaxRequestBodyBytes = 64 * 1024 * 1024;

std::string ToLowerAscii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

HttpRequest ToHttpRequest(const http::request<http::string_body>& message) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  request.path = request.target.substr(0, request.target.find('?'));
  for (const auto& field : message) {
    std::string& value = request.headers[ToLowerAscii(field.name_string())];
    if (!value.empty()) value += ", ";
    value += std::string(field.value());
  }
  request.body = message.body();
  return request;
}

bool HasHeader(const HttpResponse& response, std::string_view name) {
  return std::any_of(response.headers.begin(), response.headers.end(),
                     [&](const auto& header) { return ToLowerAscii(header.first) == ToLowerAscii(name); });
}

asio::awaitable<void> Sleep(std::chrono::milliseconds delay) {
  if (delay.count() <= 0) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(kAsTuple);
}

// Writes `response` and returns whether the connection can serve another request.
asio::awaitable<bool> WriteResponse(beast::tcp_stream& stream, const HttpResponse& response, bool is_head,
                                 unsigned http_version, bool keep_alive) {
  co_await Sleep(response.delay_before_headers);

  http::response<http::empty_body> head;
  head.version(http_version);
  head.result(static_cast<unsigned>(response.status));
  for (const auto& [name, value] : response.headers) head.insert(name, value);
  if (!response.close_delimited && !HasHeader(response, "Content-Length")) head.content_length(response.body.size());
  head.keep_alive(keep_alive && !response.close_delimited);

  http::response_serializer<http::empty_body> serializer(head);
  auto [header_error, header_bytes] = co_await http::async_write_header(stream, serializer, kAsTuple);
  if (header_error) co_return false;
  if (is_head) co_return head.keep_alive();

  const std::size_t piece = response.chunk_bytes > 0 ? response.chunk_bytes : std::max<std::size_t>(response.body.size(), 1);
  for (std::size_t offset = 0; offset < response.body.size(); offset += piece) {
    const std::size_t bytes = std::min(piece, response.body.size() - offset);
    auto [body_error, written] = co_await asio::async_write(stream, asio::buffer(response.body.data() + offset, bytes),
                                                            kAsTuple);
    if (body_error) co_return false;
    if (response.chunk_bytes > 0) co_await Sleep(response.chunk_delay);
  }
  co_return head.keep_alive();
}

}  // namespace

struct LocalHttpServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;

  mutable std::mutex mutex;
  std::map<std::string, HttpHandler, std::less<>> handlers;
  std::map<std::string, std::vector<HttpRequest>, std::less<>> requests;

  // Records the request and returns the response of its path's handler.
  HttpResponse Dispatch(HttpRequest request) {
    HttpHandler handler;
    {
      const std::lock_guard lock(mutex);
      requests[request.path].push_back(request);
      const auto it = handlers.find(request.path);
      if (it != handlers.end()) handler = it->second;
    }
    if (!handler) return TextResponse(404, "no response is set for " + request.path + "\n");
    try {
      return handler(request);
    } catch (const std::exception& error) {
      return TextResponse(500, error.what());
    }
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxRequestBodyBytes);
      auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, kAsTuple);
      if (read_error) co_return;

      const http::request<http::string_body>& message = parser.get();
      const HttpResponse response = Dispatch(ToHttpRequest(message));
      const bool keep_alive = co_await WriteResponse(stream, response, message.method() == http::verb::head,
                                                  message.version(), message.keep_alive());
      if (!keep_alive) {
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }
    }
  }

  asio::awaitable<void> AcceptLoop() {
    for (;;) {
      auto [error, socket] = co_await acceptor.async_accept(kAsTuple);
      if (error == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (error) continue;
      asio::co_spawn(io, Serve(std::move(socket)), asio::detached);
    }
  }
};

HttpResponse TextResponse(int status, std::string body, std::string content_type) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", std::move(content_type));
  response.body = std::move(body);
  return response;
}

HttpResponse RedirectResponse(std::string location, int status) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Location", std::move(location));
  return response;
}

LocalHttpServer::LocalHttpServer() : impl_(std::make_unique<Impl>()) {
  beast::error_code error;
  const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol(), error);
  if (!error) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) impl_->acceptor.bind(endpoint, error);
  if (!error) impl_->acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) throw std::runtime_error("LocalHttpServer could not listen on 127.0.0.1: " + error.message());

  asio::co_spawn(impl_->io, impl_->AcceptLoop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

LocalHttpServer::~LocalHttpServer() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t LocalHttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string LocalHttpServer::Url(std::string_view path_and_query) const {
  return "http://127.0.0.1:" + std::to_string(port()) + std::string(path_and_query);
}

void LocalHttpServer::SetResponse(std::string path, HttpResponse response) {
  SetHandler(std::move(path), [response = std::move(response)](const HttpRequest&) { return response; });
}

void LocalHttpServer::SetResponses(std::string path, std::vector<HttpResponse> responses) {
  if (responses.empty()) throw std::invalid_argument("LocalHttpServer::SetResponses needs at least one response");
  struct Sequence {
    std::mutex mutex;
    std::vector<HttpResponse> responses;
    std::size_t next = 0;
  };
  auto sequence = std::make_shared<Sequence>();
  sequence->responses = std::move(responses);
  SetHandler(std::move(path), [sequence](const HttpRequest&) {
    const std::lock_guard lock(sequence->mutex);
    const std::size_t index = std::min(sequence->next, sequence->responses.size() - 1);
    ++sequence->next;
    return sequence->responses[index];
  });
}

void LocalHttpServer::SetHandler(std::string path, HttpHandler handler) {
  const std::lock_guard lock(impl_->mutex);
  impl_->handlers[std::move(path)] = std::move(handler);
}

int LocalHttpServer::RequestCount(std::string_view path) const {
  const std::lock_guard lock(impl_->mutex);
  const auto it = impl_->requests.find(path);
  return it == impl_->requests.end() ? 0 : static_cast<int>(it->second.size());
}

std::vector<HttpRequest> LocalHttpServer::Requests(std::string_view path) const {
  const std::lock_guard lock(impl_->mutex);
  const auto it = impl_->requests.find(path);
  return it == impl_->requests.end() ? std::vector<HttpRequest>() : it->second;
}

std::uint16_t ClosedLocalPort() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

}  // namespace on::test
