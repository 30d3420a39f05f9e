// The parsing of ask's search plans and the rendering of prompt templates.
#include <gtest/gtest.h>

#include "ai/ask.h"
#include "ai/prompts.h"

namespace on::ai {
namespace {

TEST(AskStrategy, ParsesPlainObject) {
  auto strategy = ParseAskStrategy(
      R"({"reasoning": "two parts", "searches": [{"term": "virus spread", "instructions": "how"}, {"term": "vaccines"}]})");
  ASSERT_TRUE(strategy.ok()) << strategy.status().message();
  EXPECT_EQ(strategy->reasoning, "two parts");
  ASSERT_EQ(strategy->searches.size(), 2u);
  EXPECT_EQ(strategy->searches[0].term, "virus spread");
  EXPECT_EQ(strategy->searches[0].instructions, "how");
  EXPECT_EQ(strategy->searches[1].term, "vaccines");
  EXPECT_EQ(strategy->searches[1].instructions, "");
}

TEST(AskStrategy, AcceptsFenceAndReasoning) {
  auto strategy = ParseAskStrategy(
      "<think>The user wants {braces} explained.</think>\nHere is the plan:\n```json\n"
      R"({"reasoning": "r", "searches": [{"term": "  trimmed  "}]})"
      "\n```");
  ASSERT_TRUE(strategy.ok()) << strategy.status().message();
  ASSERT_EQ(strategy->searches.size(), 1u);
  EXPECT_EQ(strategy->searches[0].term, "trimmed");
}

TEST(AskStrategy, KeepsAtMostFiveSearches) {
  std::string plan = R"({"reasoning": "many", "searches": [)";
  for (int i = 0; i < 8; ++i) plan += std::string(i ? "," : "") + R"({"term": "term )" + std::to_string(i) + "\"}";
  plan += "]}";
  auto strategy = ParseAskStrategy(plan);
  ASSERT_TRUE(strategy.ok());
  ASSERT_EQ(strategy->searches.size(), kMaxAskSearches);
  EXPECT_EQ(strategy->searches.back().term, "term 4");
}

TEST(AskStrategy, DropsSearchesWithoutTerm) {
  auto strategy = ParseAskStrategy(R"({"searches": [{"term": ""}, {"instructions": "x"}, "bare term", 7]})");
  ASSERT_TRUE(strategy.ok());
  ASSERT_EQ(strategy->searches.size(), 1u);
  EXPECT_EQ(strategy->searches[0].term, "bare term");
}

TEST(AskStrategy, RejectsMalformedOutput) {
  for (const char* output : {"token1 token2", "{not json}", R"({"reasoning": "no list"})", R"({"searches": "a"})",
                             R"({"searches": []})", R"({"searches": [{"term": "   "}]})", "<think>{\"searches\": [\"a\"]}</think>"}) {
    auto strategy = ParseAskStrategy(output);
    EXPECT_FALSE(strategy.ok()) << output;
    if (!strategy.ok()) {
      EXPECT_EQ(strategy.status().code(), ErrorCode::kInvalidInput) << output;
    }
  }
}

TEST(Prompts, InsertsValuesOnce) {
  auto prompt = RenderPrompt("ask/answer", {{"term", "{{passages}}"}, {"instructions", "find it"}, {"passages", "[note:a] text"}});
  ASSERT_TRUE(prompt.ok()) << prompt.status().message();
  EXPECT_NE(prompt->find("The search \"{{passages}}\" was run"), std::string::npos) << "a value is never expanded";
  EXPECT_NE(prompt->find("[note:a] text"), std::string::npos);
  EXPECT_NE(prompt->find("find it"), std::string::npos);
}

TEST(Prompts, MissingValueOrTemplateIsError) {
  EXPECT_EQ(RenderPrompt("ask/answer", {{"term", "x"}}).status().code(), ErrorCode::kInternal);
  EXPECT_EQ(RenderPrompt("ask/no_such_prompt", {}).status().code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace on::ai
