// A blocking HTTP/1.1 client for tests, one connection per request, 127.0.0.1 only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace on::test {

struct HttpResult {
  int status = 0;  // 0 when the connection failed
  std::string body;
  std::map<std::string, std::string> headers;  // names lowercase
  std::string error;                           // transport error text when status is 0

  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
  std::string Header(const std::string& name) const {
    auto found = headers.find(name);
    return found == headers.end() ? "" : found->second;
  }
};

class HttpClient {
 public:
  explicit HttpClient(uint16_t port) : port_(port) {}

  // Sends one request; `headers` are added as given. Never throws.
  HttpResult Send(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) const;

  HttpResult Get(const std::string& target) const { return Send("GET", target, "", auth_headers()); }
  HttpResult Delete(const std::string& target) const { return Send("DELETE", target, "", auth_headers()); }
  HttpResult Post(const std::string& target, const nlohmann::json& body) const {
    return Send("POST", target, body.dump(), json_headers());
  }
  HttpResult Put(const std::string& target, const nlohmann::json& body) const {
    return Send("PUT", target, body.dump(), json_headers());
  }

  struct FormField {
    std::string name;
    std::string value;
    std::string filename;      // sent as filename="..." when not empty
    std::string filename_ext;  // sent as filename*=UTF-8''<percent-encoded> when not empty
    std::string content_type;
  };
  // POSTs multipart/form-data built from `fields`.
  HttpResult PostForm(const std::string& target, const std::vector<FormField>& fields) const;

  // Sends "Authorization: Bearer <password>" with the helpers above when not empty.
  void set_password(std::string password) { password_ = std::move(password); }

 private:
  std::vector<std::pair<std::string, std::string>> auth_headers() const;
  std::vector<std::pair<std::string, std::string>> json_headers() const;

  uint16_t port_;
  std::string password_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
uint16_t FreePort();
// `count` different TCP ports on 127.0.0.1 that were free a moment ago. Calling FreePort() twice
// can return the same port twice, because the first is released before the second is chosen.
std::vector<uint16_t> FreePorts(std::size_t count);

}  // namespace on::test
