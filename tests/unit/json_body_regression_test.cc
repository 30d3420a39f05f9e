// Regression tests for request bodies that the json_body fuzzer (tests/fuzz) or a review found
// mishandled.
#include <gtest/gtest.h>

#include <string>

#include "api/json_body.h"

namespace on {
namespace {

using api::JsonBody;

// 100,000 levels: serialising the parsed value with dump() overflowed an 8 MB stack.
TEST(JsonBodyRegression, RejectsDeepNesting) {
  const std::string body = "{\"notebooks\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto parsed = JsonBody::Parse(body, {"notebooks"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), ErrorCode::kValidation);
  EXPECT_NE(parsed.status().message().find("32 levels"), std::string::npos) << parsed.status().message();
}

TEST(JsonBodyRegression, AcceptsNestingAtLimit) {
  // The object is one level, so 31 arrays inside it reach the limit of 32.
  const std::string arrays = std::string(api::kMaxJsonDepth - 1, '[') + std::string(api::kMaxJsonDepth - 1, ']');
  auto parsed = JsonBody::Parse("{\"topics\":" + arrays + "}", {"topics"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->object().at("topics").dump(), arrays);

  auto deeper = JsonBody::Parse("{\"topics\":[" + arrays + "]}", {"topics"});
  EXPECT_FALSE(deeper.ok());
}

TEST(JsonBodyRegression, BracketsInStringsDoNotCount) {
  const std::string title = std::string(100, '[') + "\\\"{";
  auto parsed = JsonBody::Parse("{\"title\":\"" + title + "\"}", {"title"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->object().at("title"), std::string(100, '[') + "\"{");
}

// nlohmann::json throws out_of_range (not parse_error) for a number beyond a double, and that
// exception escaped Parse.
TEST(JsonBodyRegression, NumberOverflowIsValidationError) {
  auto parsed = JsonBody::Parse("{\"limit\":1e400}", {"limit"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), ErrorCode::kValidation);
  EXPECT_NE(parsed.status().message().find("number"), std::string::npos) << parsed.status().message();

  auto fuzzer_input = JsonBody::Parse("5e6789a5555f", {"limit"});
  EXPECT_EQ(fuzzer_input.status().code(), ErrorCode::kValidation);
}

// A body starting with `":` made the field-name search wrap around and quote the text after
// the error, of any length.
TEST(JsonBodyRegression, InvalidUtf8MessageQuotesNothingAfterError) {
  const std::string body = "\":\xff\"" + std::string(1000, 'x');
  auto parsed = JsonBody::Parse(body, {"title"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), ErrorCode::kValidation);
  EXPECT_EQ(parsed.status().message().find("xxxx"), std::string::npos) << parsed.status().message();
  EXPECT_LT(parsed.status().message().size(), 200u);
}

TEST(JsonBodyRegression, InvalidUtf8FieldNameIsCut) {
  const std::string key(1000, 'k');
  auto parsed = JsonBody::Parse("{\"" + key + "\":\"\xff\"}", {"title"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("field '" + std::string(64, 'k') + "'"), std::string::npos)
      << parsed.status().message();
  EXPECT_LT(parsed.status().message().size(), 200u);
}

TEST(JsonBodyRegression, InvalidUtf8NamesField) {
  auto parsed = JsonBody::Parse("{\"title\": \"a\xff\"}", {"title"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "field 'title' is not valid UTF-8 text");
}

}  // namespace
}  // namespace on
