// Parts of chat that need no server: context status strings, session titles, prompt templates
// and the channel between a streamed response's producer and its connection.
#include <gtest/gtest.h>

#include "ai/chat_context.h"
#include "ai/chat_turn.h"
#include "ai/prompts.h"

namespace on {
namespace {

TEST(ChatContextModes, ParsedBySubstringAsTheOriginal) {
  using ai::SourceContextMode;
  EXPECT_EQ(ai::ParseSourceContextMode("not in", "s").value(), SourceContextMode::kOff);
  EXPECT_EQ(ai::ParseSourceContextMode("Not in chat", "s").value(), SourceContextMode::kOff);
  EXPECT_EQ(ai::ParseSourceContextMode("off", "s").value(), SourceContextMode::kOff);
  EXPECT_EQ(ai::ParseSourceContextMode("insights", "s").value(), SourceContextMode::kInsights);
  EXPECT_EQ(ai::ParseSourceContextMode("Insights only", "s").value(), SourceContextMode::kInsights);
  EXPECT_EQ(ai::ParseSourceContextMode("full content", "s").value(), SourceContextMode::kFull);
  EXPECT_EQ(ai::ParseSourceContextMode("full", "s").value(), SourceContextMode::kFull);
  const auto bad = ai::ParseSourceContextMode("everything", "context_config.sources['source:a']");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(bad.status().message().find("context_config.sources['source:a'] is 'everything'"), std::string::npos);

  EXPECT_EQ(ai::ParseNoteContextMode("full content", "n").value(), ai::NoteContextMode::kFull);
  EXPECT_EQ(ai::ParseNoteContextMode("not in", "n").value(), ai::NoteContextMode::kOff);
  EXPECT_FALSE(ai::ParseNoteContextMode("insights", "n").ok()) << "notes have no insights";
}

TEST(ChatTitle, FirstLineCutAtWord) {
  EXPECT_EQ(ai::TitleFromQuestion("  How do viruses spread?\nMore text"), "How do viruses spread?");
  EXPECT_EQ(ai::TitleFromQuestion(" \n "), "Chat");
  const std::string long_question =
      "What are the differences between the stable, testing and unstable distributions of Debian today?";
  const std::string title = ai::TitleFromQuestion(long_question);
  EXPECT_EQ(title, "What are the differences between the stable, testing and...");
  // Sixty characters of two-byte text: cut on a character boundary, never inside one.
  std::string wide;
  for (int i = 0; i < 100; ++i) wide += "\xD0\x96";
  EXPECT_EQ(ai::TitleFromQuestion(wide), wide.substr(0, 120) + "...");
}

TEST(ChatContextIds, GroupedByKind) {
  ai::Evidence evidence;
  evidence.Add({"chunk:a_0", ai::EvidenceKind::kChunk, "source:a", 0, "A", "text"});
  evidence.Add({"source_insight:i", ai::EvidenceKind::kInsight, "source:b", std::nullopt, "B", "insight"});
  evidence.Add({"note:n", ai::EvidenceKind::kNote, "", std::nullopt, "N", "note"});
  evidence.Add({"chunk:a_1", ai::EvidenceKind::kChunk, "source:a", 1, "A", "more"});
  const nlohmann::json ids = ai::ContextIds(evidence);
  EXPECT_EQ(ids["sources"], nlohmann::json::array({"source:a", "source:b"}));
  EXPECT_EQ(ids["chunks"], nlohmann::json::array({"chunk:a_0", "chunk:a_1"}));
  EXPECT_EQ(ids["insights"], nlohmann::json::array({"source_insight:i"}));
  EXPECT_EQ(ids["notes"], nlohmann::json::array({"note:n"}));
  EXPECT_EQ(ai::CountCodePoints("a\xD0\x96\xE4\xB8\xAD"), 3);
}

TEST(PromptTemplate, ChatPromptsAreEmbedded) {
  const auto chat = ai::RenderPrompt("chat/system", {{"notebook_name", "N"}, {"notebook_description", "D"}, {"context", "C"}});
  ASSERT_TRUE(chat.ok()) << chat.status().ToString();
  EXPECT_NE(chat->find("\"N\""), std::string::npos);
  EXPECT_TRUE(chat->ends_with("C\n"));
  const auto source = ai::RenderPrompt("source_chat/system", {{"source_title", "T"}, {"coverage", "all"}, {"context", "C"}});
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_FALSE(ai::RenderPrompt("chat/missing", {}).ok());
}

}  // namespace
}  // namespace on

namespace on {
namespace {

std::string Filtered(const std::vector<std::string>& deltas) {
  std::string out;
  ai::TextDeltaCallback sink = [&](std::string_view text) { out += text; };
  ai::StreamReasoningFilter filter(sink);
  for (const auto& delta : deltas) filter.Add(delta);
  filter.Finish();
  return out;
}

TEST(StreamReasoningFilter, DropsLeadingThinkBlock) {
  EXPECT_EQ(Filtered({"<thi", "nk>plan ", "the answer</th", "ink>\n\nThe ", "answer."}), "The answer.");
  EXPECT_EQ(Filtered({"  <THINK>x</THINK>Done"}), "Done");
  EXPECT_EQ(Filtered({"Plain ", "answer"}), "Plain answer");
  EXPECT_EQ(Filtered({"<th"}), "<th") << "a short answer that only looked like a tag";
  EXPECT_EQ(Filtered({"<think>never closed"}), "");
  EXPECT_EQ(Filtered({"a <think> in the middle"}), "a <think> in the middle") << "only a leading block is held";
}

}  // namespace
}  // namespace on
