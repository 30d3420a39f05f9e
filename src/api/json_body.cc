#include "api/json_body.h"

#include <algorithm>
#include <charconv>

namespace on::api {
namespace {

std::string_view TypeName(const nlohmann::json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  return "an object";
}

// Names the field whose value contains byte `offset`: the last "key": before it, cut to 64 bytes.
// Used to point at the field with invalid UTF-8, which the JSON parser reports only as a byte
// position.
std::string FieldBefore(std::string_view body, size_t offset) {
  offset = std::min(offset, body.size());
  size_t colon = body.rfind(':', offset);
  while (colon != std::string_view::npos) {
    size_t end = colon;
    while (end > 0 && (body[end - 1] == ' ' || body[end - 1] == '\t' || body[end - 1] == '\n')) --end;
    // The key needs an opening quote before its closing one at end - 1.
    if (end >= 2 && body[end - 1] == '"') {
      const size_t start = body.rfind('"', end - 2);
      if (start != std::string_view::npos) return std::string(body.substr(start + 1, std::min<size_t>(end - start - 2, 64)));
    }
    if (colon == 0) break;
    colon = body.rfind(':', colon - 1);
  }
  return "";
}

// True when arrays and objects in `body` nest deeper than `max_depth`. Brackets inside strings
// do not count. The result for malformed JSON is approximate, which is fine because the parser
// rejects it anyway.
bool NestsDeeperThan(std::string_view body, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') ++i;  // skips the escaped character, which may be a quote
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace

Result<JsonBody> JsonBody::Parse(std::string_view body, std::initializer_list<std::string_view> allowed) {
  // The parser itself does not recurse, but copying, serialising and comparing the parsed value
  // do. With nlohmann-json 3.11.2, dump() of a 200 KB body of '[' overflowed an 8 MB stack.
  if (NestsDeeperThan(body, kMaxJsonDepth)) {
    return ValidationError("request body nests arrays or objects more than " + std::to_string(kMaxJsonDepth) +
                           " levels deep; send a flat JSON object");
  }
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& error) {
    const std::string what = error.what();
    if (what.find("UTF-8") != std::string::npos) {
      const std::string field = FieldBefore(body, error.byte);
      if (!field.empty()) return ValidationError("field '" + field + "' is not valid UTF-8 text");
      return ValidationError("request body is not valid UTF-8");
    }
    return ValidationError("request body is not valid JSON: syntax error at byte " + std::to_string(error.byte) +
                           "; send a JSON object with Content-Type: application/json");
  } catch (const nlohmann::json::out_of_range&) {
    // Thrown for a number such as 1e400 that does not fit in a double.
    return ValidationError("request body contains a number too large to represent; send numbers within the range of a double");
  }
  if (!parsed.is_object()) {
    return ValidationError("request body must be a JSON object, not " + std::string(TypeName(parsed)));
  }

  for (const auto& [key, value] : parsed.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string names;
    for (auto name : allowed) names += (names.empty() ? "" : ", ") + std::string(name);
    return ValidationError("field '" + key.substr(0, 64) + "' is not accepted here; accepted fields: " + names);
  }
  return JsonBody(std::move(parsed));
}

Result<std::optional<std::string>> JsonBody::String(std::string_view field, size_t max_length) const {
  auto found = object_.find(field);
  if (found == object_.end() || found->is_null()) return std::optional<std::string>();
  if (!found->is_string()) {
    return ValidationError("field '" + std::string(field) + "' must be a string, not " + std::string(TypeName(*found)));
  }
  const auto& text = found->get_ref<const std::string&>();
  if (text.size() > max_length) {
    return ValidationError("field '" + std::string(field) + "' is too long: " + std::to_string(text.size()) +
                           " bytes, at most " + std::to_string(max_length) + " allowed");
  }
  return std::optional<std::string>(text);
}

Result<std::string> JsonBody::RequiredString(std::string_view field, size_t max_length) const {
  ON_ASSIGN_OR_RETURN(auto value, String(field, max_length));
  if (!value) return ValidationError("field '" + std::string(field) + "' is required");
  return *value;
}

Result<std::optional<bool>> JsonBody::Bool(std::string_view field) const {
  auto found = object_.find(field);
  if (found == object_.end() || found->is_null()) return std::optional<bool>();
  if (!found->is_boolean()) {
    return ValidationError("field '" + std::string(field) + "' must be true or false, not " + std::string(TypeName(*found)));
  }
  return std::optional<bool>(found->get<bool>());
}

Result<std::optional<bool>> QueryBool(const http::Request& request, std::string_view name) {
  auto value = request.Query(name);
  if (!value) return std::optional<bool>();
  if (*value == "true" || *value == "1" || *value == "yes" || *value == "on") return std::optional<bool>(true);
  if (*value == "false" || *value == "0" || *value == "no" || *value == "off") return std::optional<bool>(false);
  return ValidationError("query parameter '" + std::string(name) + "' must be true or false, not '" +
                         std::string(value->substr(0, 64)) + "'");
}

Result<std::optional<int64_t>> QueryInt(const http::Request& request, std::string_view name, int64_t min, int64_t max) {
  auto value = request.Query(name);
  if (!value) return std::optional<int64_t>();
  int64_t parsed = 0;
  auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), parsed);
  if (ec != std::errc() || ptr != value->data() + value->size() || parsed < min || parsed > max) {
    return ValidationError("query parameter '" + std::string(name) + "' must be an integer from " + std::to_string(min) +
                           " to " + std::to_string(max) + ", not '" + std::string(value->substr(0, 64)) + "'");
  }
  return std::optional<int64_t>(parsed);
}

std::string TrimWhitespace(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return std::string(text);
}

}  // namespace on::api
