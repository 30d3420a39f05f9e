#include "support/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace on::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

HttpResult HttpClient::Send(const std::string& method, const std::string& target, const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& headers) const {
  HttpResult result;
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(60));
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));

    bhttp::request<bhttp::string_body> request{bhttp::string_to_verb(method), target, 11};
    request.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port_));
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = body;
    if (!body.empty() || method == "POST" || method == "PUT") request.prepare_payload();
    bhttp::write(stream, request);

    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(1ull << 30);
    if (method == "HEAD") parser.skip(true);
    bhttp::read(stream, buffer, parser);
    auto& response = parser.get();
    result.status = static_cast<int>(response.result_int());
    result.body = response.body();
    for (const auto& field : response) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      result.headers[name] = std::string(field.value());
    }
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  } catch (const std::exception& error) {
    result.status = 0;
    result.error = error.what();
  }
  return result;
}

HttpResult HttpClient::PostForm(const std::string& target, const std::vector<FormField>& fields) const {
  const std::string boundary = "----on-test-boundary-7d1f";
  std::string body;
  for (const auto& field : fields) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field.name + "\"";
    if (!field.filename.empty()) body += "; filename=\"" + field.filename + "\"";
    if (!field.filename_ext.empty()) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      std::string encoded;
      for (unsigned char c : field.filename_ext) {
        if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
          encoded += static_cast<char>(c);
        } else {
          encoded += '%';
          encoded += kHex[c >> 4];
          encoded += kHex[c & 0xf];
        }
      }
      body += "; filename*=UTF-8''" + encoded;
    }
    body += "\r\n";
    if (!field.content_type.empty()) body += "Content-Type: " + field.content_type + "\r\n";
    body += "\r\n" + field.value + "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  auto headers = auth_headers();
  headers.emplace_back("Content-Type", "multipart/form-data; boundary=" + boundary);
  return Send("POST", target, body, headers);
}

std::vector<std::pair<std::string, std::string>> HttpClient::auth_headers() const {
  if (password_.empty()) return {};
  return {{"Authorization", "Bearer " + password_}};
}

std::vector<std::pair<std::string, std::string>> HttpClient::json_headers() const {
  auto headers = auth_headers();
  headers.emplace_back("Content-Type", "application/json");
  return headers;
}

uint16_t FreePort() { return FreePorts(1).front(); }

std::vector<uint16_t> FreePorts(std::size_t count) {
  asio::io_context io;
  // Every acceptor stays open until all ports are chosen, so the kernel cannot hand one out twice.
  std::vector<asio::ip::tcp::acceptor> acceptors;
  std::vector<uint16_t> ports;
  for (std::size_t i = 0; i < count; ++i) {
    acceptors.emplace_back(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    ports.push_back(acceptors.back().local_endpoint().port());
  }
  return ports;
}

}  // namespace on::test
