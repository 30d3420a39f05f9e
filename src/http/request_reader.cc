#include "http/request_reader.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace on::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
}  // namespace

asio::awaitable<HeaderResult> ReadRequestHeader(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                RequestParser& parser, uint64_t max_body_bytes, std::atomic<bool>& idle) {
  parser.header_limit(kHeaderLimit);
  parser.body_limit(max_body_bytes);
  idle = true;
  stream.expires_after(buffer.size() > 0 ? kHeaderTimeout : kIdleTimeout);
  auto [error, bytes] = co_await bhttp::async_read_header(stream, buffer, parser, kNoThrow);
  (void)bytes;
  idle = false;
  if (error == bhttp::error::end_of_stream || error == asio::error::operation_aborted ||
      error == beast::error::timeout || error == asio::error::connection_reset) {
    co_return HeaderResult{HeaderRead::kClosed, error};
  }
  // Beast checks Content-Length against the body limit while parsing the header.
  if (error == bhttp::error::body_limit) co_return HeaderResult{HeaderRead::kBodyTooLarge, error};
  if (error == bhttp::error::header_limit) co_return HeaderResult{HeaderRead::kTooLarge, error};
  if (error) co_return HeaderResult{HeaderRead::kMalformed, error};
  if (parser.content_length() && *parser.content_length() > max_body_bytes) {
    co_return HeaderResult{HeaderRead::kBodyTooLarge, error};
  }
  co_return HeaderResult{HeaderRead::kReady, error};
}

asio::awaitable<BodyRead> ReadRequestBody(beast::tcp_stream& stream, beast::flat_buffer& buffer, RequestParser& parser) {
  if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
    bhttp::response<bhttp::empty_body> proceed{bhttp::status::continue_, 11};
    auto [error, written] = co_await bhttp::async_write(stream, proceed, kNoThrow);
    (void)written;
    if (error) co_return BodyRead::kFailed;
  }
  stream.expires_after(kBodyTimeout);
  auto [error, bytes] = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
  (void)bytes;
  if (error == bhttp::error::body_limit) co_return BodyRead::kTooLarge;
  if (error) co_return BodyRead::kFailed;
  co_return BodyRead::kReady;
}

}  // namespace on::http
