#include "ai/citations.h"

#include <gtest/gtest.h>

namespace on::ai {
namespace {

Evidence SampleEvidence() {
  Evidence evidence;
  evidence.Add({ChunkCitationId("source:abc", 4), EvidenceKind::kChunk, "source:abc", 4, "Debian FAQ", "apt-get installs"});
  evidence.Add({"note:n1", EvidenceKind::kNote, "", std::nullopt, "My note", "remember dpkg"});
  evidence.Add({"source_insight:i9", EvidenceKind::kInsight, "source:xyz", std::nullopt, "Summary", "short"});
  return evidence;
}

TEST(Citations, ChunkIdsUseTheSourceKeyAndIndex) {
  EXPECT_EQ(ChunkCitationId("source:abc", 4), "chunk:abc_4");
  EXPECT_EQ(ChunkCitationId("abc", 0), "chunk:abc_0");
}

TEST(Citations, FindsIdsInTheFormsModelsWrite) {
  EXPECT_EQ(FindCitedIds("See [source:a1], [note:b-2, chunk:c_3] and **insight:d4**."),
            (std::vector<std::string>{"source:a1", "note:b-2", "chunk:c_3", "source_insight:d4"}));
  // Not ids: a prefix inside a word, an empty key, a prefix after another id's colon.
  EXPECT_TRUE(FindCitedIds("resource:a1 note: x:note:b source:").empty());
}

TEST(Citations, KeepsCitationsOfShownEvidenceInOrderOnce) {
  CitationCheck check = CheckCitations("Use apt [chunk:abc_4] and dpkg [note:n1] [chunk:abc_4].", SampleEvidence());
  EXPECT_TRUE(check.rejected.empty());
  ASSERT_EQ(check.citations.size(), 2u);
  EXPECT_EQ(check.citations[0].id, "chunk:abc_4");
  EXPECT_EQ(check.citations[0].source_id, "source:abc");
  EXPECT_EQ(check.citations[0].chunk_index, 4);
  EXPECT_EQ(check.citations[1].kind, EvidenceKind::kNote);
  EXPECT_EQ(check.answer, "Use apt [chunk:abc_4] and dpkg [note:n1] [chunk:abc_4].");
}

TEST(Citations, SourceIdResolvesToAShownPassageOfIt) {
  CitationCheck check = CheckCitations("It says so [source:abc]; see [insight:i9].", SampleEvidence());
  EXPECT_TRUE(check.rejected.empty());
  ASSERT_EQ(check.citations.size(), 2u);
  EXPECT_EQ(check.citations[0].id, "chunk:abc_4");
  EXPECT_EQ(check.citations[1].id, "source_insight:i9");
}

TEST(Citations, RemovesIdsThatWereNotShown) {
  CitationCheck check = CheckCitations("A [source:zzz]. B [note:n1, chunk:abc_9]. C [chunk:abc_9, note:n1].",
                                       SampleEvidence());
  EXPECT_EQ(check.rejected, (std::vector<std::string>{"source:zzz", "chunk:abc_9"}));
  ASSERT_EQ(check.citations.size(), 1u);
  EXPECT_EQ(check.citations[0].id, "note:n1");
  EXPECT_EQ(check.answer, "A. B [note:n1]. C [note:n1].");
}

TEST(Citations, RendersIdsBeforePassages) {
  EXPECT_EQ(SampleEvidence().Render(),
            "[chunk:abc_4] Debian FAQ\napt-get installs\n\n[note:n1] My note\nremember dpkg\n\n"
            "[source_insight:i9] Summary\nshort");
  Evidence evidence = SampleEvidence();
  EXPECT_FALSE(evidence.Add({"note:n1", EvidenceKind::kNote, "", std::nullopt, "again", "x"}));
  EXPECT_EQ(evidence.items().size(), 3u);
}

}  // namespace
}  // namespace on::ai
