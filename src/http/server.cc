#include "http/server.h"

#include <array>
#include <condition_variable>
#include <deque>
#include <thread>
#include <unordered_set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "core/logging.h"
#include "core/metrics.h"
#include "http/client_address.h"
#include "http/error_mapping.h"
#include "http/request_reader.h"

namespace on::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

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
  request.client_address = EffectiveClientAddress(client, request.Header("x-forwarded-for").value_or(""));
  request.request_id = ChooseRequestId(request.Header("x-request-id"));
  return request;
}

}  // namespace

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

// The queue between an event producer (on a thread of its own) and the coroutine that writes its
// events (on the session's executor). The coroutine sleeps on `wakeup_` and is woken by cancelling
// it, and the timer is touched only on the session's executor.
class EventChannel final : public EventStream, public std::enable_shared_from_this<EventChannel> {
 public:
  explicit EventChannel(asio::any_io_executor executor) : executor_(executor), wakeup_(executor) {}

  bool Send(std::string_view data) override {
    std::string event;
    size_t start = 0;
    for (;;) {
      const size_t end = data.find('\n', start);
      event += "data: ";
      event.append(data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
      event += '\n';
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
    event += '\n';
    bool overflow = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return false;
      if (queued_bytes_ + event.size() > kMaxQueuedBytes) {
        overflow = true;
      } else {
        queued_bytes_ += event.size();
        queue_.push_back(std::move(event));
      }
    }
    if (overflow) {
      // The client stopped reading: give up on it rather than buffer without bound.
      Close();
      return false;
    }
    Wake();
    return true;
  }

  // Events waiting to be written, in bytes, above which the client counts as gone.
  static constexpr size_t kMaxQueuedBytes = 8u << 20;

  bool closed() const override {
    std::lock_guard lock(mutex_);
    return closed_;
  }

  void OnClose(std::function<void()> callback) override {
    {
      std::lock_guard lock(mutex_);
      if (!closed_) {
        on_close_.push_back(std::move(callback));
        return;
      }
    }
    callback();
  }

  // Called by the producer's thread when it has returned.
  void Finish() {
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    Wake();
  }

  // Marks the client gone and runs the close callbacks. Idempotent.
  void Close() {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
      queue_.clear();
      queued_bytes_ = 0;
      callbacks.swap(on_close_);
    }
    for (auto& callback : callbacks) callback();
    Wake();
  }

  // Moves the queued events into `out` and returns whether the producer has finished.
  bool Take(std::deque<std::string>& out) {
    std::lock_guard lock(mutex_);
    out.swap(queue_);
    queued_bytes_ = 0;
    return finished_;
  }

  bool finished() const {
    std::lock_guard lock(mutex_);
    return finished_;
  }

  // Waits on the session's executor until woken or `timeout` passes.
  asio::awaitable<void> Wait(std::chrono::milliseconds timeout) {
    wakeup_.expires_after(timeout);
    auto [ignored] = co_await wakeup_.async_wait(kNoThrow);
    (void)ignored;
  }

 private:
  void Wake() {
    asio::post(executor_, [self = shared_from_this()] { self->wakeup_.cancel(); });
  }

  asio::any_io_executor executor_;
  asio::steady_timer wakeup_;
  mutable std::mutex mutex_;
  std::deque<std::string> queue_;                    // guarded by mutex_
  size_t queued_bytes_ = 0;                          // guarded by mutex_
  std::vector<std::function<void()>> on_close_;      // guarded by mutex_
  bool closed_ = false;                              // guarded by mutex_
  bool finished_ = false;                            // guarded by mutex_
};

}  // namespace

// The event streams whose producers are running, so that shutdown can close them (which cancels
// their provider calls) and wait for the producers before the objects they use are destroyed.
// Shared with the producer threads, which may outlive a server whose wait timed out.
struct Server::EventStreams {
  std::mutex mutex;
  std::condition_variable idle;
  std::unordered_set<std::shared_ptr<EventChannel>> open;  // guarded by mutex
  int producers = 0;  // guarded by mutex; counts admitted streams, from admission to the producer's return
};

Server::Server(ServerOptions options, Pipeline& pipeline)
    : options_(std::move(options)),
      pipeline_(pipeline),
      io_(options_.io_threads),
      handler_pool_(static_cast<size_t>(options_.handler_threads)),
      acceptor_(io_),
      event_streams_(std::make_shared<EventStreams>()) {}

Server::~Server() {
  // Producers hold references to what the handlers use, so they get the close (their provider
  // calls are cancelled) and a bounded time to return before anything is destroyed.
  CloseEventStreams();
  {
    std::unique_lock lock(event_streams_->mutex);
    if (!event_streams_->idle.wait_for(lock, options_.shutdown_timeout,
                                       [this] { return event_streams_->producers == 0; })) {
      spdlog::warn("{} event stream producers did not stop within the shutdown timeout", event_streams_->producers);
    }
  }
  handler_pool_.stop();
  handler_pool_.join();
}

bool Server::AdmitEventStream() {
  std::lock_guard lock(event_streams_->mutex);
  if (event_streams_->producers >= options_.max_event_streams) return false;
  event_streams_->producers += 1;
  return true;
}

void Server::CloseEventStreams() {
  std::vector<std::shared_ptr<EventChannel>> channels;
  {
    std::lock_guard lock(event_streams_->mutex);
    channels.assign(event_streams_->open.begin(), event_streams_->open.end());
  }
  for (auto& channel : channels) channel->Close();
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
    RequestParser parser;
    const HeaderResult header = co_await ReadRequestHeader(stream, buffer, parser, options_.max_body_bytes, session->idle);
    if (header.outcome == HeaderRead::kClosed) break;

    const auto started = std::chrono::steady_clock::now();
    in_flight_ += 1;
    Request request = ToRequest(parser.get().base(), client);
    Response response;
    bool keep_alive = false;

    if (header.outcome == HeaderRead::kBodyTooLarge) {
      response = ErrorResponse(Status(ErrorCode::kPayloadTooLarge, "Request body exceeds the maximum allowed upload size"));
    } else if (header.outcome == HeaderRead::kTooLarge) {
      response = JsonResponse({{"detail", "Request headers are too large"}}, 431);
    } else if (header.outcome == HeaderRead::kMalformed) {
      response = JsonResponse({{"detail", "Malformed HTTP request: " + header.error.message()}}, 400);
    } else {
      const BodyRead body = co_await ReadRequestBody(stream, buffer, parser);
      if (body == BodyRead::kFailed) {
        in_flight_ -= 1;
        break;
      }
      if (body == BodyRead::kTooLarge) {
        response = ErrorResponse(Status(ErrorCode::kPayloadTooLarge, "Request body exceeds the maximum allowed upload size"));
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

    if (response.events && !AdmitEventStream()) {
      ScopedLogContext context(request.request_id);
      spdlog::warn("{} {}: rejected an event stream because {} are open", request.method, request.path,
                   options_.max_event_streams);
      response = ErrorResponse(Status(ErrorCode::kUnavailable, "Too many event streams are open (" +
                                                                   std::to_string(options_.max_event_streams) +
                                                                   "); retry when one has finished"));
    }
    pipeline_.Finish(request, response);
    if (response.events) {
      co_await StreamEvents(session, request, response);
      const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
      metrics::RecordHttpRequest(response.route.empty() ? std::string_view("unmatched") : response.route, request.method,
                                 response.status, elapsed.count());
      in_flight_ -= 1;
      if (options_.access_log) {
        ScopedLogContext context(request.request_id);
        spdlog::info("{} {} {} {} {:.1f}ms event stream", client, request.method, request.path, response.status,
                     elapsed.count() * 1000);
      }
      // StreamEvents has closed the connection.
      co_return;
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

asio::awaitable<void> Server::StreamEvents(std::shared_ptr<Session> session, const Request& request, Response& response) {
  beast::tcp_stream& stream = session->stream;
  auto channel = std::make_shared<EventChannel>(stream.get_executor());

  bhttp::response<bhttp::empty_body> head{static_cast<bhttp::status>(response.status), 11};
  head.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) head.set(name, value);
  head.chunked(true);
  head.keep_alive(false);
  bhttp::response_serializer<bhttp::empty_body> serializer{head};
  stream.expires_after(kBodyTimeout);
  auto [head_error, head_bytes] = co_await bhttp::async_write_header(stream, serializer, kNoThrow);
  (void)head_bytes;

  if (head_error) {
    // The producer never runs, so its admission ends here.
    std::lock_guard lock(event_streams_->mutex);
    event_streams_->producers -= 1;
    event_streams_->idle.notify_all();
  } else {
    // A client sends nothing after its request, so a finished read means it closed the
    // connection (or reset it). The producer is notified at once, not at the next heartbeat.
    asio::co_spawn(
        stream.get_executor(),
        [session, channel]() -> asio::awaitable<void> {
          std::array<char, 256> scratch;
          for (;;) {
            auto [error, bytes] = co_await session->stream.socket().async_read_some(asio::buffer(scratch), kNoThrow);
            (void)bytes;
            if (error) {
              channel->Close();
              co_return;
            }
          }
        },
        asio::detached);

    // Producers wait on provider calls for minutes, so each runs on its own thread rather than on
    // the handler pool, and hundreds of open streams cannot starve ordinary requests.
    // AdmitEventStream caps their number. Shutdown closes the channel, which cancels the
    // producer's provider calls through its OnClose callbacks.
    {
      std::lock_guard lock(event_streams_->mutex);
      event_streams_->open.insert(channel);
    }
    if (draining_) channel->Close();
    std::thread([streams = event_streams_, channel, producer = std::move(response.events),
                 request_id = request.request_id] {
      {
        ScopedLogContext log_context(request_id);
        try {
          producer(*channel);
        } catch (const std::exception& error) {
          spdlog::error("event stream producer threw: {}", error.what());
        } catch (...) {
          spdlog::error("event stream producer threw a non-standard exception");
        }
      }
      channel->Finish();
      std::lock_guard lock(streams->mutex);
      streams->open.erase(channel);
      streams->producers -= 1;
      streams->idle.notify_all();
    }).detach();

    static const std::string kHeartbeat = ": keep-alive\n\n";
    std::deque<std::string> pending;
    auto last_write = std::chrono::steady_clock::now();
    bool failed = false;
    for (;;) {
      const bool finished = channel->Take(pending);
      if (channel->closed()) break;
      // A wake-up that arrives during a write finds no waiting timer and is lost, so after
      // writing the loop takes again instead of waiting.
      if (!pending.empty()) {
        for (const std::string& event : pending) {
          stream.expires_after(kBodyTimeout);
          auto [error, written] = co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(event)), kNoThrow);
          (void)written;
          if (error) {
            failed = true;
            break;
          }
          last_write = std::chrono::steady_clock::now();
        }
        pending.clear();
        if (failed) break;
        continue;
      }
      if (finished) {
        stream.expires_after(kBodyTimeout);
        auto [error, written] = co_await asio::async_write(stream, bhttp::make_chunk_last(), kNoThrow);
        (void)error;
        (void)written;
        break;
      }
      const auto quiet = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - last_write);
      if (quiet >= options_.event_heartbeat) {
        stream.expires_after(kBodyTimeout);
        auto [error, written] = co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(kHeartbeat)), kNoThrow);
        (void)written;
        if (error) {
          failed = true;
          break;
        }
        last_write = std::chrono::steady_clock::now();
        continue;
      }
      co_await channel->Wait(options_.event_heartbeat - quiet);
    }
    if (failed || channel->closed()) {
      ScopedLogContext log_context(request.request_id);
      spdlog::info("{} {}: the client closed the event stream", request.method, request.path);
    }
    channel->Close();
  }

  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
}

void Server::Shutdown() {
  if (draining_.exchange(true)) return;
  asio::post(io_, [this] {
    spdlog::info("shutting down: no new connections, waiting for {} in-flight requests", in_flight_.load());
    beast::error_code ignored;
    acceptor_.close(ignored);
    CloseIdleSessions();
    CloseEventStreams();
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
      spdlog::info("HTTP server stopped");
      io_.stop();
      return;
    }
    if (open_sessions > 0) CloseIdleSessions();
    WatchDrain(deadline);
  });
}

}  // namespace on::http
