#include "http/server.h"

#include <array>
#include <condition_variable>
#include <unordered_set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "core/logging.h"
#include "core/metrics.h"
#include "http/error_mapping.h"

namespace on::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr std::chrono::seconds kIdleTimeout{75};
constexpr std::chrono::seconds kHeaderTimeout{30};
constexpr std::chrono::seconds kBodyTimeout{600};
constexpr uint32_t kHeaderLimit = 32 * 1024;

std::string Lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Request ToRequest(const bhttp::request_header<>& header, const std::string& client) {
  Request request;
  request.method = std::string(header.method_string());
  const std::string_view target = header.target();
  const size_t question = target.find('?');
  const std::string_view raw_path = target.substr(0, question);
  request.path = PercentDecode(raw_path, false).value_or(std::string(raw_path));
  if (question != std::string_view::npos) request.query = ParseQuery(target.substr(question + 1));
  for (const auto& field : header) request.headers.emplace_back(Lowercase(field.name_string()), std::string(field.value()));
  request.target = std::string(target);
  request.client_address = client;
  request.request_id = ChooseRequestId(request.Header("x-request-id"));
  return request;
}

}  // namespace

struct Server::StreamRegistry {
  std::mutex mutex;
  std::condition_variable idle;
  std::unordered_set<std::shared_ptr<StreamChannel>> channels;  // guarded by mutex
  int producers = 0;                                             // guarded by mutex
};

// One connection. Owned by its coroutine; the server keeps a weak reference to close it on drain.
struct Server::Session {
  explicit Session(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  std::atomic<bool> idle{true};
};

namespace {

asio::awaitable<void> WriteResponse(beast::tcp_stream& stream, const Request& request, const Response& response,
                                    bool keep_alive, beast::error_code& error) {
  if (request.method == "HEAD") {
    bhttp::response<bhttp::empty_body> head{static_cast<bhttp::status>(response.status), 11};
    if (!response.content_type.empty()) head.set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) head.set(name, value);
    head.content_length(response.body.size());
    head.keep_alive(keep_alive);
    auto [ec, written] = co_await bhttp::async_write(stream, head, kNoThrow);
    error = ec;
    co_return;
  }

  bhttp::response<bhttp::string_body> message{static_cast<bhttp::status>(response.status), 11};
  if (!response.content_type.empty()) message.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) message.set(name, value);
  message.body() = response.body;
  message.keep_alive(keep_alive);
  message.prepare_payload();
  auto [ec, written] = co_await bhttp::async_write(stream, message, kNoThrow);
  error = ec;
}

// Reads and drops what the client still sends (the rest of a refused upload) for a short while
// after our final response. Closing a socket with unread input makes the kernel send a reset,
// which can destroy the response before the client reads it: a browser would then show a
// network error instead of "413 Payload Too Large".
asio::awaitable<void> DiscardUnreadInput(beast::tcp_stream& stream) {
  constexpr size_t kMaxDiscardBytes = 256ull << 20;
  std::array<char, 64 * 1024> scratch;
  size_t discarded = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (discarded < kMaxDiscardBytes && std::chrono::steady_clock::now() < deadline) {
    stream.expires_after(std::chrono::seconds(2));
    auto [error, bytes] = co_await stream.async_read_some(asio::buffer(scratch), kNoThrow);
    if (error) break;
    discarded += bytes;
  }
}

}  // namespace

Server::Server(ServerOptions options, Pipeline& pipeline)
    : options_(std::move(options)),
      pipeline_(pipeline),
      io_(options_.io_threads),
      handler_pool_(static_cast<size_t>(options_.handler_threads)),
      acceptor_(io_),
      streams_(std::make_shared<StreamRegistry>()) {}

Server::~Server() {
  // Producers get the close (their provider calls are cancelled) and a bounded time to return.
  CloseStreams();
  {
    std::unique_lock lock(streams_->mutex);
    if (!streams_->idle.wait_for(lock, options_.shutdown_timeout, [this] { return streams_->producers == 0; })) {
      spdlog::warn("{} streamed responses did not stop within the shutdown timeout", streams_->producers);
    }
  }
  handler_pool_.stop();
  handler_pool_.join();
}

void Server::CloseStreams() {
  std::vector<std::shared_ptr<StreamChannel>> channels;
  {
    std::lock_guard lock(streams_->mutex);
    channels.assign(streams_->channels.begin(), streams_->channels.end());
  }
  for (auto& channel : channels) channel->Close();
}

asio::awaitable<void> Server::ServeStream(Session& session, const Request& request, Response& response,
                                          bool& completed) {
  using namespace asio::experimental::awaitable_operators;
  beast::tcp_stream& stream = session.stream;
  const std::shared_ptr<StreamBody> body = response.stream;
  auto channel = std::make_shared<StreamChannel>();
  {
    std::lock_guard lock(streams_->mutex);
    if (static_cast<int>(streams_->channels.size()) >= options_.max_streams) {
      response = ErrorResponse(Status(ErrorCode::kUnavailable, "Too many streamed responses are running (" +
                                                                   std::to_string(options_.max_streams) +
                                                                   "); retry shortly"));
    } else {
      streams_->channels.insert(channel);
      streams_->producers += 1;
    }
  }
  if (!response.stream) {
    pipeline_.Finish(request, response);
    beast::error_code ignored;
    co_await WriteResponse(stream, request, response, false, ignored);
    co_return;
  }

  bhttp::response<bhttp::empty_body> head{static_cast<bhttp::status>(response.status), 11};
  if (!response.content_type.empty()) head.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) head.set(name, value);
  head.chunked(true);
  head.keep_alive(false);
  bhttp::response_serializer<bhttp::empty_body> serializer{head};
  stream.expires_after(kBodyTimeout);
  auto [header_error, header_bytes] = co_await bhttp::async_write_header(stream, serializer, kNoThrow);

  // The producer wakes the writer below through this timer: it posts a cancel to the
  // connection's executor. The writer takes the queue before every wait without yielding in
  // between, so a wake-up cannot fall between the check and the wait.
  auto wake = std::make_shared<asio::steady_timer>(stream.get_executor());
  channel->SetNotify([wake, executor = stream.get_executor()] { asio::post(executor, [wake] { wake->cancel(); }); });
  if (header_error) channel->Close();

  std::thread([registry = streams_, channel, body] {
    try {
      body->produce(channel->writer());
    } catch (const std::exception& error) {
      spdlog::error("streamed response failed: {}", error.what());
    }
    channel->Finish();
    std::lock_guard lock(registry->mutex);
    registry->channels.erase(channel);
    registry->producers -= 1;
    registry->idle.notify_all();
  }).detach();

  auto write_loop = [&]() -> asio::awaitable<void> {
    for (;;) {
      bool finished = false;
      std::string data = channel->Take(&finished);
      if (channel->closed()) co_return;
      if (!data.empty()) {
        stream.expires_after(kBodyTimeout);
        auto [error, written] = co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(data)), kNoThrow);
        if (error) co_return;
        continue;
      }
      if (finished) {
        stream.expires_after(kBodyTimeout);
        auto [error, written] = co_await asio::async_write(stream, bhttp::make_chunk_last(), kNoThrow);
        completed = !error;
        co_return;
      }
      wake->expires_after(body->heartbeat.empty() ? std::chrono::milliseconds(std::chrono::hours(1))
                                                  : body->heartbeat_interval);
      auto [waited] = co_await wake->async_wait(kNoThrow);
      if (channel->closed()) co_return;
      if (!waited && !body->heartbeat.empty()) {
        stream.expires_after(kBodyTimeout);
        auto [error, written] =
            co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(body->heartbeat)), kNoThrow);
        if (error) co_return;
      }
    }
  };
  // The client sends nothing after its request, so the end of the input means it went away.
  auto watch_client = [&]() -> asio::awaitable<void> {
    std::array<char, 512> scratch;
    for (;;) {
      auto [error, bytes] = co_await stream.socket().async_read_some(asio::buffer(scratch), kNoThrow);
      if (error) {
        // Closed before the writer is cancelled, so the writer sees it without another wait.
        if (error != asio::error::operation_aborted) channel->Close();
        co_return;
      }
    }
  };
  if (!header_error) {
    try {
      co_await (write_loop() || watch_client());
    } catch (const std::exception& error) {
      // A cancelled awaitable throws when it awaits again. The stream is over either way.
      spdlog::debug("streamed response ended: {}", error.what());
    }
  }

  // Ends the producer's work when the client left early. After a complete stream it only drops
  // the callbacks.
  channel->Close();
}

Status Server::Listen() {
  beast::error_code ec;
  const auto address = asio::ip::make_address(options_.host, ec);
  if (ec) return InvalidInput("API_HOST '" + options_.host + "' is not an IP address: use e.g. 127.0.0.1, 0.0.0.0 or ::");

  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(ErrorCode::kUnavailable, "cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                                               ": " + ec.message() + "; stop the other process or choose another port");
  }
  bound_port_ = acceptor_.local_endpoint().port();
  return Status::Ok();
}

void Server::Run() {
  StartAccepting();
  std::vector<std::thread> threads;
  for (int i = 1; i < options_.io_threads; ++i) threads.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& thread : threads) thread.join();
}

void Server::StartAccepting() {
  asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        for (;;) {
          // With one I/O thread every handler already runs in order, and a strand per connection
          // would only add a dispatch step to each read and write.
          asio::any_io_executor connection_executor = options_.io_threads == 1 ? asio::any_io_executor(io_.get_executor())
                                                                    : asio::any_io_executor(asio::make_strand(io_));
          auto [ec, socket] = co_await acceptor_.async_accept(connection_executor, kNoThrow);
          if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
            spdlog::warn("accept failed: {}", ec.message());
            continue;
          }

          auto session = std::make_shared<Session>(std::move(socket));
          uint64_t id = 0;
          {
            std::lock_guard lock(sessions_mutex_);
            id = next_session_id_++;
            sessions_[id] = session;
          }
          auto executor = session->stream.get_executor();
          asio::co_spawn(executor, ServeSession(session), [this, id](std::exception_ptr error) {
            if (error) {
              try {
                std::rethrow_exception(error);
              } catch (const std::exception& e) {
                spdlog::error("connection ended with an exception: {}", e.what());
              }
            }
            std::lock_guard lock(sessions_mutex_);
            sessions_.erase(id);
          });
        }
      },
      asio::detached);
}

asio::awaitable<void> Server::ServeSession(std::shared_ptr<Session> session) {
  beast::tcp_stream& stream = session->stream;
  beast::flat_buffer buffer;
  beast::error_code endpoint_error;
  const auto remote = stream.socket().remote_endpoint(endpoint_error);
  const std::string client = endpoint_error ? "unknown" : remote.address().to_string();

  for (;;) {
    if (draining_) break;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(options_.max_body_bytes);

    session->idle = true;
    stream.expires_after(buffer.size() > 0 ? kHeaderTimeout : kIdleTimeout);
    auto [header_error, header_bytes] = co_await bhttp::async_read_header(stream, buffer, parser, kNoThrow);
    session->idle = false;
    if (header_error == bhttp::error::end_of_stream || header_error == asio::error::operation_aborted ||
        header_error == beast::error::timeout || header_error == asio::error::connection_reset) {
      break;
    }

    const auto started = std::chrono::steady_clock::now();
    in_flight_ += 1;
    Request request = ToRequest(parser.get().base(), client);
    Response response;
    bool keep_alive = false;

    if (header_error == bhttp::error::body_limit) {
      // Beast checks Content-Length against the body limit while parsing the header.
      response = ErrorResponse(Status(ErrorCode::kPayloadTooLarge, "Request body exceeds the maximum allowed upload size"));
    } else if (header_error) {
      const bool too_large = header_error == bhttp::error::header_limit;
      response = JsonResponse({{"detail", too_large ? "Request headers are too large" : "Malformed HTTP request: " + header_error.message()}},
                              too_large ? 431 : 400);
    } else if (parser.content_length() && *parser.content_length() > options_.max_body_bytes) {
      response = ErrorResponse(Status(ErrorCode::kPayloadTooLarge, "Request body exceeds the maximum allowed upload size"));
    } else {
      if (auto expect = request.Header("expect"); expect && Lowercase(*expect) == "100-continue") {
        bhttp::response<bhttp::empty_body> proceed{bhttp::status::continue_, 11};
        auto [continue_error, written] = co_await bhttp::async_write(stream, proceed, kNoThrow);
        (void)written;
        if (continue_error) {
          in_flight_ -= 1;
          break;
        }
      }

      stream.expires_after(kBodyTimeout);
      auto [body_error, body_bytes] = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
      if (body_error == bhttp::error::body_limit) {
        response = ErrorResponse(Status(ErrorCode::kPayloadTooLarge, "Request body exceeds the maximum allowed upload size"));
      } else if (body_error) {
        in_flight_ -= 1;
        break;
      } else {
        request.body = std::move(parser.get().body());
        keep_alive = parser.get().keep_alive();
        if (auto cached = pipeline_.TryCached(request)) {
          response = std::move(*cached);
        } else {
          response = co_await asio::co_spawn(
              handler_pool_, [this, &request]() -> asio::awaitable<Response> { co_return pipeline_.Handle(request); },
              use_awaitable);
        }
      }
    }

    pipeline_.Finish(request, response);
    if (response.stream) {
      bool completed = false;
      co_await ServeStream(*session, request, response, completed);
      in_flight_ -= 1;
      const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
      metrics::RecordHttpRequest(response.route.empty() ? std::string_view("unmatched") : response.route,
                                 request.method, response.status, elapsed.count());
      if (options_.access_log) {
        ScopedLogContext context(request.request_id);
        spdlog::info("{} {} {} {} {:.1f}ms streamed{}", client, request.method, request.path, response.status,
                     elapsed.count() * 1000, completed ? "" : ", ended early");
      }
      break;
    }
    // Recorded before the write so a client that has its response also sees it counted.
    const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
    metrics::RecordHttpRequest(response.route.empty() ? std::string_view("unmatched") : response.route, request.method,
                               response.status, elapsed.count());
    keep_alive = keep_alive && !draining_;
    beast::error_code write_error;
    stream.expires_after(kBodyTimeout);
    co_await WriteResponse(stream, request, response, keep_alive, write_error);
    in_flight_ -= 1;

    if (options_.access_log) {
      const auto written = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
      ScopedLogContext context(request.request_id);
      spdlog::info("{} {} {} {} {:.1f}ms {}B", client, request.method, request.path, response.status, written.count(),
                   response.body.size());
    }
    if (write_error || !keep_alive) break;
  }

  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  co_await DiscardUnreadInput(stream);
}

void Server::Shutdown() {
  if (draining_.exchange(true)) return;
  asio::post(io_, [this] {
    spdlog::info("shutting down: no new connections, waiting for {} in-flight requests", in_flight_.load());
    beast::error_code ignored;
    acceptor_.close(ignored);
    CloseIdleSessions();
    WatchDrain(std::chrono::steady_clock::now() + options_.shutdown_timeout);
  });
}

void Server::CloseIdleSessions() {
  std::lock_guard lock(sessions_mutex_);
  for (auto& [id, weak] : sessions_) {
    auto session = weak.lock();
    if (!session) continue;
    asio::post(session->stream.get_executor(), [session] {
      if (session->idle) session->stream.cancel();
    });
  }
}

void Server::WatchDrain(std::chrono::steady_clock::time_point deadline) {
  auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(20));
  timer->async_wait([this, timer, deadline](beast::error_code) {
    size_t open_sessions = 0;
    {
      std::lock_guard lock(sessions_mutex_);
      open_sessions = sessions_.size();
    }
    if (in_flight_ == 0 || std::chrono::steady_clock::now() >= deadline) {
      if (in_flight_ > 0) spdlog::warn("shutdown timeout reached with {} requests still running", in_flight_.load());
      CloseStreams();
      spdlog::info("HTTP server stopped");
      io_.stop();
      return;
    }
    if (open_sessions > 0) CloseIdleSessions();
    WatchDrain(deadline);
  });
}

}  // namespace on::http
