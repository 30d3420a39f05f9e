// Prompt files, note title cleaning and fallback titles (ai/transformation.h).
#include <gtest/gtest.h>

#include "ai/transformation.h"

namespace on::ai {
namespace {

TEST(PromptFiles, ValuesAreInsertedAsData) {
  auto rendered = RenderPromptFile("prompts/transformation/execute.md",
                                   {{"global_instructions", "GLOBAL {{transformation_prompt}}"},
                                    {"transformation_prompt", "PROMPT {% for i in range(10) %}{{part_note}}"},
                                    {"part_note", ""}});
  ASSERT_TRUE(rendered.ok()) << rendered.status().message();
  EXPECT_EQ(rendered->find("GLOBAL {{transformation_prompt}}"), 0u) << *rendered;
  EXPECT_NE(rendered->find("PROMPT {% for i in range(10) %}{{part_note}}"), std::string::npos) << *rendered;
  EXPECT_LT(rendered->find("GLOBAL"), rendered->find("PROMPT"));
  EXPECT_NE(rendered->find("# INPUT"), std::string::npos);
}

TEST(PromptFiles, EveryPromptFileIsEmbedded) {
  for (const char* path : {"prompts/transformation/execute.md", "prompts/transformation/combine.md",
                           "prompts/note/title.md"}) {
    auto rendered = RenderPromptFile(path, {});
    ASSERT_TRUE(rendered.ok()) << path;
    EXPECT_FALSE(rendered->empty()) << path;
  }
  EXPECT_EQ(RenderPromptFile("prompts/missing.md", {}).status().code(), ErrorCode::kInternal);
}

TEST(PromptFiles, UnknownMarkersStay) {
  auto rendered = RenderPromptFile("prompts/transformation/combine.md", {{"part_count", "3"}});
  ASSERT_TRUE(rendered.ok());
  EXPECT_NE(rendered->find("into 3 consecutive parts"), std::string::npos) << *rendered;
  EXPECT_NE(rendered->find("{{global_instructions}}"), std::string::npos);
}

TEST(NoteTitle, CleansModelOutput) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Tides and the Moon", "Tides and the Moon"},
      {"  \n\"Tides and the Moon\"\n", "Tides and the Moon"},
      {"# Title: Tides and the Moon.", "Tides and the Moon"},
      {"**Tides and the Moon**\nSecond line", "Tides and the Moon"},
      {"'Quoted'", "Quoted"},
      {"one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen",
       "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"},
      {"", ""},
      {"\n\n  \n", ""},
  };
  for (const auto& [raw, expected] : cases) EXPECT_EQ(CleanNoteTitle(raw), expected) << raw;
}

TEST(NoteTitle, FallbackFromContent) {
  EXPECT_EQ(FallbackNoteTitle("## Moon and tides\n\nThe moon pulls."), "Moon and tides");
  EXPECT_EQ(FallbackNoteTitle("<think>plan</think>Answer line\nmore"), "Answer line");
  EXPECT_EQ(FallbackNoteTitle("   "), "Untitled note");
  EXPECT_EQ(FallbackNoteTitle("a b c d e f g h i j k l m n o p q"), "a b c d e f g h i j k l m n o...");
  // A long run without spaces is cut on a UTF-8 boundary.
  std::string han;
  for (int i = 0; i < 100; ++i) han += "\xE6\xBD\xAE";  // 潮
  const std::string title = FallbackNoteTitle(han);
  EXPECT_LE(title.size(), 203u);
  EXPECT_EQ(title.substr(title.size() - 3), "...");
  EXPECT_EQ((title.size() - 3) % 3, 0u) << "no partial character";
}

}  // namespace
}  // namespace on::ai
