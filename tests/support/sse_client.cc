#include "support/sse_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace on::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

std::vector<nlohmann::json> SseResult::OfType(const std::string& type) const {
  std::vector<nlohmann::json> found;
  for (const auto& event : events) {
    if (event.value("type", "") == type) found.push_back(event);
  }
  return found;
}

std::string SseResult::Types() const {
  std::string types;
  for (const auto& event : events) {
    if (!types.empty()) types += ' ';
    types += event.value("type", "?");
  }
  return types;
}

namespace {

// Splits complete events off the front of `pending`; returns false when the callback asked to stop.
bool TakeEvents(std::string& pending, SseResult& result, const SseEventCallback& on_event) {
  for (;;) {
    const size_t end = pending.find("\n\n");
    if (end == std::string::npos) return true;
    const std::string block = pending.substr(0, end);
    pending.erase(0, end + 2);
    std::string data;
    size_t line_start = 0;
    while (line_start <= block.size()) {
      size_t line_end = block.find('\n', line_start);
      if (line_end == std::string::npos) line_end = block.size();
      const std::string line = block.substr(line_start, line_end - line_start);
      if (line.starts_with(":")) {
        result.heartbeats += 1;
      } else if (line.starts_with("data: ")) {
        if (!data.empty()) data += '\n';
        data += line.substr(6);
      }
      line_start = line_end + 1;
    }
    if (data.empty()) continue;
    result.events.push_back(nlohmann::json::parse(data, nullptr, false));
    result.event_times.push_back(std::chrono::steady_clock::now());
    if (on_event && !on_event(result.events.back())) return false;
  }
}

}  // namespace

SseResult PostSse(uint16_t port, const std::string& target, const nlohmann::json& body,
                  const SseEventCallback& on_event, std::chrono::seconds timeout) {
  SseResult result;
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(timeout);
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));

    bhttp::request<bhttp::string_body> request{bhttp::verb::post, target, 11};
    request.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port));
    request.set(bhttp::field::content_type, "application/json");
    request.set(bhttp::field::accept, "text/event-stream");
    request.body() = body.dump();
    request.prepare_payload();
    bhttp::write(stream, request);

    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    bhttp::read_header(stream, buffer, parser);
    result.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      result.headers[name] = std::string(field.value());
    }
    const bool sse = result.headers["content-type"].starts_with("text/event-stream");

    std::string pending;
    bool keep_reading = true;
    while (keep_reading && !parser.is_done()) {
      char piece[4096];
      parser.get().body().data = piece;
      parser.get().body().size = sizeof(piece);
      beast::error_code error;
      // read_some returns what has arrived; read would wait until the piece buffer is full.
      bhttp::read_some(stream, buffer, parser, error);
      if (error == bhttp::error::need_buffer) error = {};
      const size_t got = sizeof(piece) - parser.get().body().size;
      if (sse) {
        pending.append(piece, got);
        keep_reading = TakeEvents(pending, result, on_event);
      } else {
        result.body.append(piece, got);
      }
      if (error) {
        result.error = error.message();
        break;
      }
    }
    result.ended = parser.is_done();
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
  } catch (const std::exception& error) {
    result.error = error.what();
  }
  return result;
}

}  // namespace on::test
