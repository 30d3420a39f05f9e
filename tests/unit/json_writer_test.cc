#include "http/json_writer.h"

#include <gtest/gtest.h>

#include <limits>

#include <nlohmann/json.hpp>

namespace on::http {
namespace {

std::string JsonString(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

std::string JsonNumber(double value) {
  std::string out;
  AppendJsonNumber(out, value);
  return out;
}

TEST(JsonWriter, EscapesLikeNlohmann) {
  for (std::string_view text : {std::string_view("plain"), std::string_view("quote \" and \\ slash"),
                                std::string_view("tab\tnew\nline\r\b\f"), std::string_view("\x01\x1f", 2),
                                std::string_view("nul\0byte", 8), std::string_view("中文 and é"),
                                std::string_view("emoji \xF0\x9F\x98\x80")}) {
    EXPECT_EQ(JsonString(text), nlohmann::json(std::string(text)).dump()) << text;
  }
}

TEST(JsonWriter, ReplacesInvalidUtf8) {
  // A stray continuation byte, a truncated sequence, an overlong "/", a surrogate, U+110000.
  EXPECT_EQ(JsonString("a\x80z"), "\"a\xEF\xBF\xBDz\"");
  EXPECT_EQ(JsonString("\xE4\xB8"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(JsonString("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(JsonString("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(JsonString("\xF4\x90\x80\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_FALSE(nlohmann::json::parse(JsonString("\xF4\x90\x80\x80"), nullptr, false).is_discarded());
}

TEST(JsonWriter, WritesShortestNumbers) {
  EXPECT_EQ(JsonNumber(0.2), "0.2");
  EXPECT_EQ(JsonNumber(1.0), "1");
  EXPECT_EQ(nlohmann::json::parse(JsonNumber(1.0 / 3)).get<double>(), 1.0 / 3);
  EXPECT_EQ(JsonNumber(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(JsonNumber(std::numeric_limits<double>::infinity()), "null");
  std::string out;
  AppendJsonNumber(out, int64_t{-42});
  EXPECT_EQ(out, "-42");
}

}  // namespace
}  // namespace on::http
