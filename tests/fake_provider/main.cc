// fake_provider: an OpenAI-, Ollama-, Anthropic- and Gemini-compatible test server on 127.0.0.1
// with deterministic models and faults on demand. README.md in this directory describes it.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "fake_provider/handlers.h"
#include "http/message.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxRequestBodyBytes = 64 * 1024 * 1024;

on::fake::Request ToRequest(const bhttp::request<bhttp::string_body>& message) {
  on::fake::Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  const std::size_t question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos) {
    for (auto& [name, value] : on::http::ParseQuery(std::string_view(request.target).substr(question + 1))) {
      request.query.emplace(std::move(name), std::move(value));
    }
  }
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.headers[name] = std::string(field.value());
  }
  request.body = message.body();
  return request;
}

asio::awaitable<void> Sleep(std::chrono::milliseconds delay) {
  if (delay.count() <= 0) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(kAsTuple);
}

// Keeps the connection open without sending anything until the client closes it.
asio::awaitable<void> WaitForClose(beast::tcp_stream& stream) {
  std::array<char, 4096> scratch{};
  for (;;) {
    auto [error, bytes] = co_await stream.socket().async_read_some(asio::buffer(scratch), kAsTuple);
    if (error) co_return;
  }
}

// Sends `reply`; returns false when the connection must close afterwards.
asio::awaitable<bool> Send(beast::tcp_stream& stream, const on::fake::Reply& reply, unsigned version, bool keep_alive) {
  if (reply.reset) {
    beast::error_code ignored;
    stream.socket().set_option(asio::socket_base::linger(true, 0), ignored);
    stream.socket().close(ignored);
    co_return false;
  }
  if (reply.never_answer) {
    co_await WaitForClose(stream);
    co_return false;
  }
  co_await Sleep(reply.delay);

  if (!reply.streamed) {
    bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(reply.status), version};
    if (!reply.body.empty()) response.set(bhttp::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) response.insert(name, value);
    response.body() = reply.body;
    response.keep_alive(keep_alive);
    response.prepare_payload();
    auto [error, bytes] = co_await bhttp::async_write(stream, response, kAsTuple);
    co_return !error && keep_alive;
  }

  bhttp::response<bhttp::empty_body> head{static_cast<bhttp::status>(reply.status), version};
  head.set(bhttp::field::content_type, reply.content_type);
  for (const auto& [name, value] : reply.headers) head.insert(name, value);
  head.chunked(true);
  head.keep_alive(keep_alive);
  bhttp::response_serializer<bhttp::empty_body> serializer(head);
  if (auto [error, bytes] = co_await bhttp::async_write_header(stream, serializer, kAsTuple); error) co_return false;
  for (std::size_t i = 0; i < reply.frames.size(); ++i) {
    if (reply.stall_after && i == *reply.stall_after) {
      beast::error_code ignored;
      if (reply.reset_at_stall) {
        stream.socket().set_option(asio::socket_base::linger(true, 0), ignored);
        stream.socket().close(ignored);
        co_return false;
      }
      co_await WaitForClose(stream);
      co_return false;
    }
    co_await Sleep(reply.interval);
    auto [error, bytes] = co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(reply.frames[i])), kAsTuple);
    if (error) co_return false;
  }
  auto [error, bytes] = co_await asio::async_write(stream, bhttp::make_chunk_last(), kAsTuple);
  co_return !error && keep_alive;
}

asio::awaitable<void> Serve(tcp::socket socket, const on::fake::Options& options, on::fake::ControlState& control) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxRequestBodyBytes);
    auto [read_error, read_bytes] = co_await bhttp::async_read(stream, buffer, parser, kAsTuple);
    if (read_error) co_return;
    const auto& message = parser.get();
    const on::fake::Reply reply = on::fake::HandleRequest(ToRequest(message), options, control);
    if (!co_await Send(stream, reply, message.version(), message.keep_alive())) {
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
  }
}

asio::awaitable<void> AcceptLoop(tcp::acceptor& acceptor, const on::fake::Options& options,
                                 on::fake::ControlState& control) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(kAsTuple);
    if (!acceptor.is_open()) co_return;
    if (error) continue;
    asio::co_spawn(acceptor.get_executor(), Serve(std::move(socket), options, control), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fake AI provider for tests: OpenAI, Ollama, Anthropic and Gemini APIs on 127.0.0.1"};
  int port = 0;
  on::fake::Options options;
  app.add_option("--port", port, "TCP port on 127.0.0.1; 0 picks a free port")->check(CLI::Range(0, 65535));
  app.add_option("--api-key", options.api_key, "API key every provider request must carry; empty accepts any");
  app.add_option("--embed-max-batch", options.embed_max_batch, "Maximum inputs per embedding request; 0 is unlimited");
  app.add_option("--embed-max-words", options.embed_max_words,
                 "Maximum words per embedding input before a context-length error; 0 is unlimited");
  app.add_option("--context-words", options.context_words,
                 "Maximum words per chat request before a context-length error; 0 is unlimited");
  app.add_option("--answer-max-words", options.answer_max_words,
                 "Cut chat answers (not search-strategy JSON) to this many words; 0 keeps all");
  bool record_messages = false;
  app.add_flag("--record-messages", record_messages,
               "Keep the messages of each chat request in the request log (GET /control/requests)");
  CLI11_PARSE(app, argc, argv);

  try {
    asio::io_context io(1);
    tcp::acceptor acceptor(io);
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), static_cast<unsigned short>(port));
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    std::printf("listening 127.0.0.1:%u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
    std::fflush(stdout);

    on::fake::ControlState control;
    control.set_record_messages(record_messages);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const beast::error_code&, int) { io.stop(); });
    asio::co_spawn(io, AcceptLoop(acceptor, options, control), asio::detached);
    io.run();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "fake_provider: %s\n", error.what());
    return 1;
  }
  return 0;
}
