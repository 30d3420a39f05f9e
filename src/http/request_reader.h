// Reading one HTTP/1.1 request from a connection: the part the API server and the web UI server
// share, with the same limits and time-outs.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace on::http {

// A keep-alive connection may wait this long for its next request.
inline constexpr std::chrono::seconds kIdleTimeout{75};
// The rest of a header that has started to arrive, and a response being written.
inline constexpr std::chrono::seconds kHeaderTimeout{30};
// A request body (uploads can be large and slow).
inline constexpr std::chrono::seconds kBodyTimeout{600};
inline constexpr uint32_t kHeaderLimit = 32 * 1024;

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

enum class HeaderRead {
  kReady,         // the header is in the parser
  kClosed,        // the client closed the connection or timed out between requests
  kTooLarge,      // headers over kHeaderLimit: respond 431
  kMalformed,     // not HTTP/1.1: respond 400
  kBodyTooLarge,  // Content-Length over the body limit: respond 413 without reading the body
};

struct HeaderResult {
  HeaderRead outcome;
  boost::beast::error_code error;  // the parser's error for kMalformed
};

// Reads the next request header into `parser`, which must be new. `idle` is true while the
// connection waits for the header's first byte, so a draining server may close it.
boost::asio::awaitable<HeaderResult> ReadRequestHeader(boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
                                                       RequestParser& parser, uint64_t max_body_bytes,
                                                       std::atomic<bool>& idle);

enum class BodyRead {
  kReady,     // the body is in the parser
  kTooLarge,  // over the body limit: respond 413
  kFailed,    // the connection failed or timed out: close it
};

// Sends 100 Continue when the client expects it, then reads the body of the request whose header is in `parser`.
boost::asio::awaitable<BodyRead> ReadRequestBody(boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
                                                 RequestParser& parser);

}  // namespace on::http
