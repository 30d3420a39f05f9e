// libFuzzer target for the request-target parsing of the HTTP layer: percent-decoding, query
// strings, routing, record ids, query parameter helpers and the request id choice.
//
// Input: the first byte picks the method, the rest is a request target ("/path?query"), split
// and decoded the way the server does before routing.
//
// Invariants checked:
// - PercentDecode never grows its input, leaves text without escapes unchanged, rejects exactly
//   the malformed escapes, and decodes the percent-encoding of any byte string to that string.
// - ParseQuery returns one pair per non-empty '&'-separated field.
// - SplitPath returns the non-empty runs between slashes, in order.
// - Router::Find agrees with a direct match against a fixed route table. A found route matches
//   the path and method, and its path parameters are the matching segments. 405 lists the
//   methods of the routes that match the path. 404 means that no route matches it.
// - NormalizeId returns "table:key" with a key of 1 to 64 characters from [A-Za-z0-9_-], and is
//   idempotent.
// - QueryBool and QueryInt return only accepted spellings and values inside the range.
// - ChooseRequestId keeps a client token of 1 to 64 characters from [A-Za-z0-9._-] and otherwise
//   returns 16 lowercase hex digits.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/json_body.h"
#include "core/ids.h"
#include "fuzz_checks.h"
#include "http/message.h"
#include "http/pipeline.h"
#include "http/router.h"

namespace {

using on::http::Request;
using on::http::Router;

constexpr size_t kMaxMessageBytes = 512;
constexpr const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "get"};

// A route table shaped like the API's: literal and parameter segments, several methods on one
// pattern, and a literal route ("/api/sources/json") that overlaps a parameter route.
const Router& Routes() {
  static const Router router = [] {
    Router table;
    const auto ok = [](Request&) -> on::Result<on::http::Response> { return on::http::Response{}; };
    table.Add("GET", "/", ok);
    table.Add("GET", "/health", ok);
    table.Add("GET", "/api/notebooks", ok);
    table.Add("POST", "/api/notebooks", ok);
    table.Add("GET", "/api/notebooks/{notebook_id}", ok);
    table.Add("PUT", "/api/notebooks/{notebook_id}", ok);
    table.Add("DELETE", "/api/notebooks/{notebook_id}", ok);
    table.Add("GET", "/api/notebooks/{notebook_id}/delete-preview", ok);
    table.Add("POST", "/api/sources/json", ok);
    table.Add("GET", "/api/sources/{source_id}", ok);
    table.Add("DELETE", "/api/sources/{source_id}", ok);
    table.Add("POST", "/api/notebooks/{notebook_id}/sources/{source_id}", ok);
    table.Add("DELETE", "/api/notebooks/{notebook_id}/sources/{source_id}", ok);
    table.Add("GET", "/api/{}/literal-braces", ok);
    return table;
  }();
  return router;
}

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool HasMalformedEscape(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') continue;
    if (text.size() - i < 3 || !IsHex(text[i + 1]) || !IsHex(text[i + 2])) return true;
    i += 2;
  }
  return false;
}

std::string PercentEncodeAll(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[byte >> 4];
    out += kHex[byte & 0xF];
  }
  return out;
}

void CheckPercentDecode(std::string_view text) {
  for (bool plus_is_space : {false, true}) {
    const auto decoded = on::http::PercentDecode(text, plus_is_space);
    FUZZ_CHECK(decoded.has_value() == !HasMalformedEscape(text));
    if (!decoded) continue;
    FUZZ_CHECK(decoded->size() <= text.size());
    const bool plain = text.find('%') == std::string_view::npos && (!plus_is_space || text.find('+') == std::string_view::npos);
    if (plain) FUZZ_CHECK(*decoded == text);
  }
  const auto round_trip = on::http::PercentDecode(PercentEncodeAll(text), true);
  FUZZ_CHECK(round_trip && *round_trip == text);
}

void CheckQuery(std::string_view query, const std::vector<std::pair<std::string, std::string>>& pairs) {
  size_t fields = 0;
  size_t start = 0;
  while (start <= query.size()) {
    const size_t end = std::min(query.find('&', start), query.size());
    if (end > start) ++fields;
    start = end + 1;
  }
  FUZZ_CHECK(pairs.size() == fields);
  for (const auto& [key, value] : pairs) {
    FUZZ_CHECK(key.size() + value.size() <= query.size());
  }
}

void CheckSplitPath(std::string_view path, const std::vector<std::string_view>& segments) {
  std::string joined;
  for (std::string_view segment : segments) {
    FUZZ_CHECK(!segment.empty());
    FUZZ_CHECK(segment.find('/') == std::string_view::npos);
    FUZZ_CHECK(segment.data() >= path.data() && segment.data() + segment.size() <= path.data() + path.size());
    joined += segment;
  }
  std::string without_slashes;
  for (char c : path) {
    if (c != '/') without_slashes += c;
  }
  FUZZ_CHECK(joined == without_slashes);
}

bool IsParameter(std::string_view pattern_segment) {
  return pattern_segment.size() > 2 && pattern_segment.front() == '{' && pattern_segment.back() == '}';
}

bool PatternMatches(const std::string& pattern, const std::vector<std::string_view>& segments) {
  const auto expected = on::http::SplitPath(pattern);
  if (expected.size() != segments.size()) return false;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (!IsParameter(expected[i]) && expected[i] != segments[i]) return false;
  }
  return true;
}

bool MethodMatches(const std::string& route_method, const std::string& request_method) {
  return route_method == request_method || (request_method == "HEAD" && route_method == "GET");
}

void CheckRouting(Request& request) {
  const Router& router = Routes();
  const auto segments = on::http::SplitPath(request.path);
  CheckSplitPath(request.path, segments);

  const on::http::Handler* handler = nullptr;
  std::string allowed = "stale";
  const Router::Match match = router.Find(request, &handler, &allowed);

  bool any_path = false;
  bool any_method = false;
  for (const auto& route : router.routes()) {
    if (!PatternMatches(route.pattern, segments)) continue;
    any_path = true;
    any_method = any_method || MethodMatches(route.method, request.method);
  }

  switch (match) {
    case Router::Match::kFound: {
      FUZZ_CHECK(handler != nullptr);
      const on::http::Route* found = nullptr;
      for (const auto& route : router.routes()) {
        if (&route.handler == handler) found = &route;
      }
      FUZZ_CHECK(found != nullptr);
      FUZZ_CHECK(PatternMatches(found->pattern, segments));
      FUZZ_CHECK(MethodMatches(found->method, request.method));

      const auto pattern = on::http::SplitPath(found->pattern);
      size_t parameter = 0;
      for (size_t i = 0; i < pattern.size(); ++i) {
        if (!IsParameter(pattern[i])) continue;
        FUZZ_CHECK(parameter < request.path_params.size());
        FUZZ_CHECK(request.path_params[parameter].first == pattern[i].substr(1, pattern[i].size() - 2));
        FUZZ_CHECK(request.path_params[parameter].second == segments[i]);
        ++parameter;
      }
      FUZZ_CHECK(parameter == request.path_params.size());
      break;
    }
    case Router::Match::kWrongMethod:
      FUZZ_CHECK(any_path && !any_method);
      FUZZ_CHECK(!allowed.empty());
      for (const auto& route : router.routes()) {
        if (PatternMatches(route.pattern, segments)) FUZZ_CHECK(allowed.find(route.method) != std::string::npos);
      }
      break;
    case Router::Match::kNoPath:
      FUZZ_CHECK(!any_path);
      FUZZ_CHECK(allowed.empty());
      break;
  }
}

bool IsIdKeyCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

void CheckNormalizeId(std::string_view table, std::string_view value) {
  const auto id = on::NormalizeId(table, value, "notebook_id");
  if (!id.ok()) {
    FUZZ_CHECK(id.status().code() == on::ErrorCode::kInvalidInput);
    FUZZ_CHECK(id.status().message().size() <= kMaxMessageBytes);
    return;
  }
  FUZZ_CHECK(id->starts_with(std::string(table) + ":"));
  const std::string_view key = std::string_view(*id).substr(table.size() + 1);
  FUZZ_CHECK(!key.empty() && key.size() <= on::kMaxIdKeyLength);
  for (char c : key) FUZZ_CHECK(IsIdKeyCharacter(c));
  FUZZ_CHECK(value == *id || value == key);

  const auto again = on::NormalizeId(table, *id, "notebook_id");
  FUZZ_CHECK(again.ok() && *again == *id);
}

// Handlers pass constant parameter names, so the names here are fixed too. The values come from
// the query.
void CheckQueryHelpers(const Request& request) {
  for (std::string_view name : {"archived", "limit", "flag", ""}) {
    const auto raw = request.Query(name);
    const auto flag = on::api::QueryBool(request, name);
    if (flag.ok() && flag->has_value()) {
      const bool spelled_true = *raw == "true" || *raw == "1" || *raw == "yes" || *raw == "on";
      const bool spelled_false = *raw == "false" || *raw == "0" || *raw == "no" || *raw == "off";
      FUZZ_CHECK(**flag ? spelled_true : spelled_false);
    } else if (flag.ok()) {
      FUZZ_CHECK(!raw.has_value());
    } else {
      FUZZ_CHECK(raw.has_value());
      FUZZ_CHECK(flag.status().message().size() <= kMaxMessageBytes);
    }

    const auto number = on::api::QueryInt(request, name, -5, 1000);
    if (number.ok() && !number->has_value()) {
      FUZZ_CHECK(!raw.has_value());
    } else if (number.ok()) {
      FUZZ_CHECK(**number >= -5 && **number <= 1000);
      const std::string_view first = raw.value();
      int64_t reparsed = 0;
      const auto [end, error] = std::from_chars(first.data(), first.data() + first.size(), reparsed);
      FUZZ_CHECK(error == std::errc() && end == first.data() + first.size() && reparsed == **number);
    } else {
      FUZZ_CHECK(number.status().message().size() <= kMaxMessageBytes);
    }
  }
}

bool IsRequestIdCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

void CheckRequestId(std::string_view client_value) {
  const std::string id = on::http::ChooseRequestId(client_value);
  FUZZ_CHECK(!id.empty() && id.size() <= 64);
  for (char c : id) FUZZ_CHECK(IsRequestIdCharacter(c));

  bool client_token_valid = !client_value.empty() && client_value.size() <= 64;
  for (char c : client_value) client_token_valid = client_token_valid && IsRequestIdCharacter(c);
  if (client_token_valid) {
    FUZZ_CHECK(id == client_value);
  } else {
    FUZZ_CHECK(id.size() == 16);
    for (char c : id) FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view target = on::fuzz::AsText(data + 1, size - 1);

  // The same split as the server's ToRequest: decode the path, parse the query.
  Request request;
  request.method = kMethods[data[0] % (sizeof(kMethods) / sizeof(kMethods[0]))];
  const size_t question = target.find('?');
  const std::string_view raw_path = target.substr(0, question);
  request.path = on::http::PercentDecode(raw_path, false).value_or(std::string(raw_path));
  const std::string_view query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  request.query = on::http::ParseQuery(query);

  CheckPercentDecode(target);
  CheckQuery(query, request.query);
  CheckRouting(request);
  for (const auto& [name, value] : request.path_params) CheckNormalizeId("notebook", value);
  CheckNormalizeId("notebook", target);
  CheckNormalizeId("source", target);
  CheckQueryHelpers(request);
  CheckRequestId(target);
  return 0;
}
