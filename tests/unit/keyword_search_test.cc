// Keyword search planning on a real SQLite file: the common-word plan, its fallback, and counts
// that are cached while sources come and go.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "search/tokenizer.h"
#include "storage/sqlite/sqlite_storage.h"
#include "support/temp_dir.h"

namespace on::storage {
namespace {

class KeywordSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite::ConnectionOptions options;
    options.path = (dir_.path() / "search.db").string();
    options.synchronous = "normal";
    auto opened = sqlite::SqliteStorage::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  }

  // Adds a source whose chunks are `chunks`; returns its id.
  std::string AddSource(const std::string& title, const std::vector<std::string>& chunks) {
    SourceCreate create;
    create.title = title;
    create.job_app = "open_notebook";
    create.job_command = "process_source";
    auto source = storage_->CreateSource(create);
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    SourceExtraction extraction;
    for (size_t i = 0; i < chunks.size(); ++i) {
      extraction.chunks.push_back(ChunkRecord{static_cast<int>(i), chunks[i], 0, 0, std::nullopt, 10});
      extraction.full_text += chunks[i] + "\n";
    }
    EXPECT_TRUE(storage_->SaveExtraction(source->id, extraction).ok());
    return source->id;
  }

  // The contents of the chunks found for `query`, best first.
  std::vector<std::string> Search(const std::string& query) {
    TextSearchQuery text_query;
    for (auto& term : search::ExtractQueryTerms(query, tokenizer_)) {
      text_query.terms.push_back({std::move(term.term), std::move(term.surface)});
    }
    text_query.limit = 5000;
    text_query.search_notes = false;
    auto hits = storage_->SearchText(text_query);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    std::vector<const TextSearchHit*> chunk_hits;
    for (const auto& hit : *hits) {
      if (hit.match_field == "chunk") chunk_hits.push_back(&hit);
    }
    auto texts = storage_->LoadSearchTexts(chunk_hits);
    EXPECT_TRUE(texts.ok());
    return *texts;
  }

  test::TempDir dir_;
  search::Tokenizer tokenizer_;
  std::unique_ptr<sqlite::SqliteStorage> storage_;
};

// More chunks than the planner lets words contribute on their own (sqlite_search.cc).
constexpr int kCommonChunks = 2100;

std::vector<std::string> Repeated(const std::string& text, int count) {
  std::vector<std::string> chunks;
  for (int i = 0; i < count; ++i) chunks.push_back(text + " number " + std::to_string(i));
  return chunks;
}

TEST_F(KeywordSearchTest, AllWordsFirstThenRareWords) {
  AddSource("harbors", Repeated("the harbor at dawn", kCommonChunks));
  AddSource("keepers", {"the harbor keeper sleeps", "a keeper of bees"});

  const auto found = Search("harbor keeper");
  ASSERT_GE(found.size(), 2u);
  EXPECT_EQ(found[0], "the harbor keeper sleeps");
  EXPECT_EQ(found[1], "a keeper of bees");
}

TEST_F(KeywordSearchTest, DisjointCommonWordsFallBack) {
  AddSource("harbors", Repeated("the harbor at dawn", kCommonChunks));
  AddSource("lighthouses", Repeated("a lighthouse at night", kCommonChunks));

  const auto found = Search("harbor lighthouse");
  EXPECT_EQ(found.size(), static_cast<size_t>(2 * kCommonChunks));
}

TEST_F(KeywordSearchTest, NewAndDeletedWords) {
  const std::string harbors = AddSource("harbors", Repeated("the harbor at dawn", kCommonChunks));
  EXPECT_TRUE(Search("zeppelin").empty());
  EXPECT_EQ(Search("harbor").size(), static_cast<size_t>(kCommonChunks));  // the count is now cached

  const std::string zeppelins = AddSource("zeppelins", {"a zeppelin over the harbor"});
  EXPECT_EQ(Search("zeppelin"), std::vector<std::string>{"a zeppelin over the harbor"});
  EXPECT_EQ(Search("harbor zeppelin").front(), "a zeppelin over the harbor");

  ASSERT_TRUE(storage_->DeleteSource(zeppelins).ok());
  ASSERT_TRUE(storage_->DeleteSource(harbors).ok());
  EXPECT_TRUE(Search("zeppelin").empty());
  EXPECT_TRUE(Search("harbor").empty());
  EXPECT_TRUE(Search("harbor zeppelin").empty());
}

}  // namespace
}  // namespace on::storage
