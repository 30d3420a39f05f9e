// HTTP request and response as handlers see them: plain values, no Beast types.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace on::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-decoded path without the query, e.g. "/api/notebooks/notebook:abc"
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in request order
  HeaderList headers;                                      // names lowercase
  std::string body;
  std::vector<std::pair<std::string, std::string>> path_params;  // filled by the router
  std::string client_address;
  std::string request_id;
  std::string target;  // path and query exactly as sent, the key of cached responses

  // Value of the first header named `name` (lowercase), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
  // Value of the first query parameter named `name`, or nullopt.
  std::optional<std::string_view> Query(std::string_view name) const;
  // Value of the path parameter `name`; empty when the route has none of that name.
  std::string_view Param(std::string_view name) const;
};

// The writing end of a server-sent event stream, handed to the producer of a streamed response.
// Thread-safe: the producer runs on a handler thread while the server writes on an I/O thread.
class EventStream {
 public:
  virtual ~EventStream() = default;

  // Queues one event with `data` as its payload (one "data:" line per line of `data`). Returns
  // false once the client has gone, so a producer can stop early.
  virtual bool Send(std::string_view data) = 0;

  // Sends `value` as one event. Text that is not valid UTF-8 (a model may cut a character in
  // two) is replaced rather than thrown on, so an event is never lost to it.
  bool SendJson(const nlohmann::json& value);

  // True once the client has closed the connection or a write to it failed.
  virtual bool closed() const = 0;

  // Registers `callback` to run once when the client goes away: at once, on this thread, when it
  // already has, otherwise later on an I/O thread, so it must be quick (e.g. cancel a token).
  virtual void OnClose(std::function<void()> callback) = 0;
};

// Produces the events of a streamed response; it returns when the stream is complete.
using EventProducer = std::function<void(EventStream&)>;

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  HeaderList headers;
  // Set by a handler whose response depends only on the request target and the stored data.
  bool cacheable = false;
  // The route pattern that matched the request, for metrics; empty when none did. Points into the
  // router, which outlives every response.
  std::string_view route;
  // Set for a server-sent event stream: the server sends the status and headers, then runs the
  // producer on a handler thread and writes its events as they come, with a comment line as a
  // heartbeat while it is quiet. `body` is ignored, and the connection closes after the stream.
  EventProducer events;

  void SetHeader(std::string name, std::string value);
};

// A 200 text/event-stream response whose events come from `producer`, with the headers that stop
// caches and proxies (nginx) from holding events back.
Response EventStreamResponse(EventProducer producer);

// A 200 (or `status`) response with `value` serialised as JSON.
Response JsonResponse(const nlohmann::json& value, int status = 200);

// Splits "a=1&b=%20x" into decoded pairs; '+' decodes to a space.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

// Decodes %XX escapes; returns nullopt for a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace on::http
