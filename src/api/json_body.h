// Reading and checking JSON request bodies and query parameters.
//
// Shape errors (malformed JSON, wrong types, unknown fields, values over their length limit)
// return kValidation (HTTP 422) and name the field. Callers report semantic problems, such as an
// empty name, as kInvalidInput (HTTP 400).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "http/message.h"

namespace on::api {

// Deepest nesting of arrays and objects that JsonBody::Parse accepts. The API's bodies need 2
// levels. The limit exists because copying and serialising an nlohmann::json value recurse once
// per level.
inline constexpr size_t kMaxJsonDepth = 32;

class JsonBody {
 public:
  // Parses a request body that must be a JSON object of at most the fields in `allowed`, nested
  // at most kMaxJsonDepth deep.
  static Result<JsonBody> Parse(std::string_view body, std::initializer_list<std::string_view> allowed);

  bool Has(std::string_view field) const { return object_.contains(field); }
  bool IsNull(std::string_view field) const { return Has(field) && object_.at(std::string(field)).is_null(); }

  // A string field: nullopt when absent or null; kValidation for another type or a longer value.
  Result<std::optional<std::string>> String(std::string_view field, size_t max_length) const;
  // A string field that must be present and not null.
  Result<std::string> RequiredString(std::string_view field, size_t max_length) const;
  Result<std::optional<bool>> Bool(std::string_view field) const;

  const nlohmann::json& object() const { return object_; }

 private:
  explicit JsonBody(nlohmann::json object) : object_(std::move(object)) {}
  nlohmann::json object_;
};

// Query parameter helpers: kValidation naming the parameter when the value does not parse.
Result<std::optional<bool>> QueryBool(const http::Request& request, std::string_view name);
Result<std::optional<int64_t>> QueryInt(const http::Request& request, std::string_view name, int64_t min, int64_t max);

// Strips leading and trailing ASCII whitespace.
std::string TrimWhitespace(std::string_view text);

}  // namespace on::api
