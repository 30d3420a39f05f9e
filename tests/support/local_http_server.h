// A small HTTP/1.1 server on 127.0.0.1 for tests that need a real peer: URL fetching, job
// retries, fake AI providers.
//
// The server listens on an ephemeral port from construction until destruction, on its own thread.
// Each path gets a response (or a sequence of responses, or a handler) set by the test, and other
// paths get 404. Connections are served concurrently, so a slow response does not hold up other requests.
//
//   on::test::LocalHttpServer server;
//   server.SetResponse("/page", on::test::TextResponse(200, "<html>hi</html>", "text/html"));
//   server.SetResponses("/flaky", {on::test::TextResponse(503, "busy"), on::test::TextResponse(200, "ok")});
//   FetchSomething(server.Url("/page"));
//   EXPECT_EQ(server.RequestCount("/flaky"), 2);
//
// All methods are thread-safe. Handlers run on the server thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace on::test {

// One request as the server received it.
struct HttpRequest {
  std::string method;
  std::string target;  // path and query as sent, e.g. "/search?q=x"
  std::string path;    // target without the query, used for routing
  std::map<std::string, std::string> headers;  // lowercase names; repeated fields joined with ", "
  std::string body;
};

// The response the server sends for one request. The defaults send "200 OK" with an empty body.
struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"Content-Type", "text/html"}
  std::string body;

  // Time to wait after reading the request before sending anything, for timeout tests.
  std::chrono::milliseconds delay_before_headers{0};
  // When chunk_bytes > 0, the body is written chunk_bytes at a time with chunk_delay after each
  // piece, for slow-transfer tests. Content-Length still announces the full size up front.
  std::size_t chunk_bytes = 0;
  std::chrono::milliseconds chunk_delay{0};
  // Sends no Content-Length and closes the connection after the body, so the client learns the
  // size only by reading to the end. A Content-Length in `headers` is still sent.
  bool close_delimited = false;
};

// Returns a response with a body and its Content-Type.
HttpResponse TextResponse(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");

// Returns a redirect to `location` (absolute or relative) with an empty body.
HttpResponse RedirectResponse(std::string location, int status = 302);

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class LocalHttpServer {
 public:
  // Binds 127.0.0.1 on a port chosen by the kernel and starts serving. Throws std::runtime_error
  // when the socket cannot be bound.
  LocalHttpServer();
  // Stops the server thread and drops open connections, including responses still being sent.
  ~LocalHttpServer();
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;

  std::uint16_t port() const;

  // Returns "http://127.0.0.1:<port>" followed by `path_and_query` ("/a?b=c").
  std::string Url(std::string_view path_and_query) const;

  // Responds to every request for `path` with `response`, replacing what was set for `path` before.
  void SetResponse(std::string path, HttpResponse response);

  // Responds to the n-th request for `path` with responses[n] and to later ones with the last
  // response, e.g. {503, 503, 200} for retry tests. `responses` must not be empty.
  void SetResponses(std::string path, std::vector<HttpResponse> responses);

  // Responds to requests for `path` with whatever `handler` returns. An exception from the handler
  // becomes a 500 response whose body is the exception's message.
  void SetHandler(std::string path, HttpHandler handler);

  // Number of requests received for `path` (any method, any query) so far.
  int RequestCount(std::string_view path) const;

  // Requests received for `path` so far, oldest first.
  std::vector<HttpRequest> Requests(std::string_view path) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Returns a port on 127.0.0.1 where nothing listens, for connection-refused tests. The port is
// bound and released, so another process could take it in between; that is unlikely enough for
// tests.
std::uint16_t ClosedLocalPort();

}  // namespace on::test
