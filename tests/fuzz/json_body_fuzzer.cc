// libFuzzer target for JSON request bodies (api/json_body.h): JsonBody::Parse, its getters, and
// what the handlers then do with nested values (copy them, serialise them with dump()).
//
// Input: the request body.
//
// Invariants checked:
// - Parse returns a JSON object whose keys are all in the accepted list, nested at most
//   kMaxJsonDepth deep. Anything else is kValidation with a short message.
// - String, RequiredString and Bool agree with the parsed value: a value is returned only for
//   the right type within the length limit, nullopt only for an absent or null field.
// - Copying and serialising every accepted field works (this recurses once per nesting level).
// - TrimWhitespace returns a substring without leading or trailing ASCII whitespace.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/json_body.h"
#include "fuzz_checks.h"

namespace {

using on::api::JsonBody;

constexpr size_t kMaxMessageBytes = 512;
constexpr size_t kMaxStringLength = 16;
constexpr std::string_view kFields[] = {"type", "url", "title", "notebooks", "embed", "limit", "topics"};

// Depth of the deepest array or object, counted without recursion so that the check itself
// cannot overflow the stack.
size_t NestingDepth(const nlohmann::json& root) {
  size_t deepest = 0;
  std::vector<std::pair<const nlohmann::json*, size_t>> pending = {{&root, 0}};
  while (!pending.empty()) {
    const auto [value, depth] = pending.back();
    pending.pop_back();
    if (!value->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    for (const auto& child : *value) pending.emplace_back(&child, depth + 1);
  }
  return deepest;
}

void CheckError(const on::Status& status) {
  FUZZ_CHECK(status.code() == on::ErrorCode::kValidation);
  FUZZ_CHECK(status.message().size() <= kMaxMessageBytes);
}

void CheckStringGetters(const JsonBody& body, std::string_view field) {
  const nlohmann::json& object = body.object();
  const auto found = object.find(field);
  const bool absent = found == object.end() || found->is_null();

  const auto text = body.String(field, kMaxStringLength);
  if (text.ok() && text->has_value()) {
    FUZZ_CHECK(!absent && found->is_string());
    FUZZ_CHECK((*text)->size() <= kMaxStringLength);
    FUZZ_CHECK(**text == found->get_ref<const std::string&>());
  } else if (text.ok()) {
    FUZZ_CHECK(absent);
  } else {
    CheckError(text.status());
    FUZZ_CHECK(!absent);
    FUZZ_CHECK(!found->is_string() || found->get_ref<const std::string&>().size() > kMaxStringLength);
  }

  const auto required = body.RequiredString(field, kMaxStringLength);
  FUZZ_CHECK(required.ok() == (text.ok() && text->has_value()));
  if (!required.ok()) CheckError(required.status());
}

void CheckBoolGetter(const JsonBody& body, std::string_view field) {
  const nlohmann::json& object = body.object();
  const auto found = object.find(field);
  const bool absent = found == object.end() || found->is_null();

  const auto flag = body.Bool(field);
  if (flag.ok() && flag->has_value()) {
    FUZZ_CHECK(!absent && found->is_boolean());
    FUZZ_CHECK(**flag == found->get<bool>());
  } else if (flag.ok()) {
    FUZZ_CHECK(absent);
  } else {
    CheckError(flag.status());
    FUZZ_CHECK(!absent && !found->is_boolean());
  }
}

void CheckBody(const JsonBody& body) {
  const nlohmann::json& object = body.object();
  FUZZ_CHECK(object.is_object());
  FUZZ_CHECK(NestingDepth(object) <= on::api::kMaxJsonDepth);
  for (const auto& [key, value] : object.items()) {
    bool accepted = false;
    for (std::string_view field : kFields) accepted = accepted || key == field;
    FUZZ_CHECK(accepted);
  }

  for (std::string_view field : kFields) {
    FUZZ_CHECK(body.Has(field) == object.contains(field));
    FUZZ_CHECK(body.IsNull(field) == (object.contains(field) && object.find(field)->is_null()));
    CheckStringGetters(body, field);
    CheckBoolGetter(body, field);
    if (!body.Has(field)) continue;

    // The source handlers serialise nested arrays to re-parse them as id lists.
    const nlohmann::json copy = *object.find(field);
    const std::string text = copy.dump();
    FUZZ_CHECK(!text.empty());
  }
}

bool IsAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

void CheckTrim(std::string_view text) {
  const std::string trimmed = on::api::TrimWhitespace(text);
  FUZZ_CHECK(trimmed.empty() || (!IsAsciiSpace(trimmed.front()) && !IsAsciiSpace(trimmed.back())));
  FUZZ_CHECK(text.find(trimmed) != std::string_view::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = on::fuzz::AsText(data, size);
  const auto body = JsonBody::Parse(input, {"type", "url", "title", "notebooks", "embed", "limit", "topics"});
  if (body.ok()) {
    CheckBody(*body);
  } else {
    CheckError(body.status());
  }
  CheckTrim(input.substr(0, 256));
  return 0;
}
