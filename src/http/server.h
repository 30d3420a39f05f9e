// The HTTP/1.1 server: Boost.Beast on Asio with C++20 coroutines.
//
// I/O runs on `io_threads` threads; request handlers, which may wait on the database, run on a
// separate pool of `handler_threads` so slow handlers never stall the event loop. Request bodies
// larger than `max_body_bytes` are answered with 413 as soon as the headers show it, before any
// body byte is read.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/error.h"
#include "http/pipeline.h"

namespace on::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 5055;  // 0 picks a free port; read it back with port()
  int io_threads = 2;
  int handler_threads = 8;
  uint64_t max_body_bytes = 100ull << 20;
  std::chrono::seconds shutdown_timeout{30};
  bool access_log = true;
  // A server-sent event stream that has sent nothing for this long gets a comment line, so
  // proxies and browsers keep it open and a closed client is noticed by the failed write.
  std::chrono::milliseconds event_heartbeat{15'000};
  // Event streams open at once; another one is answered with 503 until one ends. Each producer has
  // a thread of its own.
  int max_event_streams = 1024;
};

class Server {
 public:
  Server(ServerOptions options, Pipeline& pipeline);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Returns kUnavailable naming the address when the port is taken.
  Status Listen();
  uint16_t port() const { return bound_port_; }

  // Serves until Shutdown() completes. Blocks the calling thread.
  void Run();

  // Starts a graceful shutdown: stop accepting, close event streams (their producers are told to
  // stop), let in-flight requests finish (up to the shutdown timeout), close idle connections, then
  // return from Run(). Thread-safe, idempotent.
  void Shutdown();

  // Requests being handled right now.
  int in_flight() const { return in_flight_.load(); }

 private:
  struct Session;
  struct EventStreams;

  // Reserves a place for one more event stream; false when max_event_streams are open.
  bool AdmitEventStream();
  // Closes every open event stream, which tells its producer to stop.
  void CloseEventStreams();

  void StartAccepting();
  boost::asio::awaitable<void> ServeSession(std::shared_ptr<Session> session);
  // Sends the head of `response`, runs its event producer on the handler pool and writes the
  // events until the producer returns or the client goes away.
  boost::asio::awaitable<void> StreamEvents(std::shared_ptr<Session> session, const Request& request,
                                            Response& response);
  void WatchDrain(std::chrono::steady_clock::time_point deadline);
  void CloseIdleSessions();

  ServerOptions options_;
  Pipeline& pipeline_;
  boost::asio::io_context io_;
  boost::asio::thread_pool handler_pool_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t bound_port_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<int> in_flight_{0};
  std::mutex sessions_mutex_;
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions_;  // guarded by sessions_mutex_
  uint64_t next_session_id_ = 0;                                   // guarded by sessions_mutex_
  std::shared_ptr<EventStreams> event_streams_;
};

}  // namespace on::http
