// HTTP request and response as handlers see them: plain values, no Beast types.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/stream.h"

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
  // Set for a streamed body (http/stream.h); `body` is then ignored.
  std::shared_ptr<StreamBody> stream;

  void SetHeader(std::string name, std::string value);
};

// A 200 (or `status`) response with `value` serialised as JSON.
Response JsonResponse(const nlohmann::json& value, int status = 200);

// Splits "a=1&b=%20x" into decoded pairs; '+' decodes to a space.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

// Decodes %XX escapes; returns nullopt for a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace on::http
