// Streamed response bodies, for Server-Sent Events.
//
// A handler that streams validates the request as usual (errors are still plain JSON responses)
// and then returns a Response whose `stream` is set. The server sends the status line and
// headers with chunked transfer encoding, runs StreamBody::produce on a thread of its own, and
// sends each piece the producer writes as soon as the connection can take it. Producers call
// blocking code (provider clients on libcurl), so each stream gets its own thread rather than a
// handler-pool thread: a few hundred long streams cannot starve ordinary requests.
//
// While a stream runs, the server also reads the connection: end of file or an error means the
// client went away, and the producer learns it through StreamWriter::closed() and OnClose(), so
// it can cancel provider calls. A client that half-closes its sending side after the request
// counts as gone too.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace on::http {

// The producer's side of a stream. Thread-safe.
class StreamWriter {
 public:
  // Queues `data` for the client. Returns false, dropping it, once the client has gone or the
  // client reads so slowly that more than kMaxQueuedBytes wait unsent (then the stream is closed).
  bool Write(std::string data);
  // True once the client has gone (or the server is shutting down).
  bool closed() const;
  // Registers `callback` to run once when the client goes away; runs it at once when it already
  // has. Callbacks run on an I/O thread and must be quick (cancel a token, notify a variable).
  void OnClose(std::function<void()> callback);

  static constexpr size_t kMaxQueuedBytes = 8u << 20;

 private:
  friend class StreamChannel;
  explicit StreamWriter(class StreamChannel* channel) : channel_(channel) {}
  StreamChannel* channel_;
};

// What a streamed response sends.
struct StreamBody {
  // Writes the body through the writer and returns when done; the stream ends when it returns.
  std::function<void(StreamWriter&)> produce;
  // Sent when nothing else was sent for `heartbeat_interval` (empty: no heartbeats). Keeps
  // proxies from closing an idle connection and lets the client see the server is alive.
  std::string heartbeat;
  std::chrono::milliseconds heartbeat_interval{15'000};
};

// The state one stream shares between its producer thread and the connection's coroutine.
class StreamChannel {
 public:
  StreamChannel() : writer_(this) {}
  StreamChannel(const StreamChannel&) = delete;
  StreamChannel& operator=(const StreamChannel&) = delete;

  StreamWriter& writer() { return writer_; }

  // Called by the connection: `notify` runs (from any thread) whenever data or the end arrives.
  void SetNotify(std::function<void()> notify);
  // Takes everything queued so far; `finished` is set when the producer has returned.
  std::string Take(bool* finished);
  // Marks the end of the producer's output.
  void Finish();
  // Marks the client gone and runs the close callbacks once.
  void Close();

  bool Write(std::string data);
  bool closed() const;
  void OnClose(std::function<void()> callback);

 private:
  mutable std::mutex mutex_;
  std::string queued_;             // guarded by mutex_
  bool finished_ = false;          // guarded by mutex_
  bool closed_ = false;            // guarded by mutex_
  std::function<void()> notify_;   // guarded by mutex_
  std::vector<std::function<void()>> close_callbacks_;  // guarded by mutex_
  StreamWriter writer_;
};

// Formats one Server-Sent Event whose data is `value` serialised as JSON: "data: {...}\n\n".
std::string SseEvent(const nlohmann::json& value);

// The SSE comment sent as a heartbeat.
inline constexpr std::string_view kSseHeartbeat = ": heartbeat\n\n";

}  // namespace on::http
