// Vector search through VectorSearcher on each storage backend: an in-process index on SQLite,
// pgvector's HNSW index inside PostgreSQL. Both must find the nearest vectors, keep models and
// dimensions apart, honour the notebook scope and the minimum score, and never return a deleted
// chunk.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "search/vector_search.h"
#include "support/temp_dir.h"
#include "support/test_storage.h"

namespace on::storage {
namespace {

constexpr size_t kDimension = 48;

// Deterministic vectors (SplitMix64), so every run searches the same data.
class Vectors {
 public:
  explicit Vectors(uint64_t seed) : state_(seed) {}

  std::vector<float> Next(size_t dimension = kDimension) {
    std::vector<float> vector(dimension);
    for (float& value : vector) value = static_cast<float>(NextUnit() * 2.0 - 1.0);
    return vector;
  }

 private:
  double NextUnit() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53);
  }

  uint64_t state_;
};

float Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0;
  double norm_a = 0;
  double norm_b = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    norm_a += static_cast<double>(a[i]) * a[i];
    norm_b += static_cast<double>(b[i]) * b[i];
  }
  return static_cast<float>(dot / std::sqrt(norm_a * norm_b));
}

class VectorSearchTest : public ::testing::TestWithParam<test::StorageBackend> {
 protected:
  void SetUp() override {
    database_ = std::make_unique<test::TestStorage>(GetParam());
    if (database_->skip_reason()) GTEST_SKIP() << *database_->skip_reason();
    ASSERT_EQ(database_->error(), "");
    storage_ = &database_->storage();
    const Status migrated = storage_->MigrateUp(std::nullopt);
    ASSERT_TRUE(migrated.ok()) << migrated.ToString();
    searcher_ = std::make_unique<search::VectorSearcher>(dir_.path() / "vectors");
  }

  // Adds a source with `count` chunks "<title> chunk <i>" in `notebook`; returns its id.
  std::string AddSource(const std::string& title, int count, const std::string& notebook) {
    SourceCreate create;
    create.title = title;
    create.notebooks = {notebook};
    create.job_app = "open_notebook";
    create.job_command = "process_source";
    auto source = storage_->CreateSource(create);
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    if (!source.ok()) return "";
    SourceExtraction extraction;
    for (int i = 0; i < count; ++i) {
      const std::string text = title + " chunk " + std::to_string(i);
      extraction.chunks.push_back(ChunkRecord{i, text, 0, 0, std::nullopt, 4});
      extraction.full_text += text + "\n";
    }
    const Status saved = storage_->SaveExtraction(source->id, extraction);
    EXPECT_TRUE(saved.ok()) << saved.ToString();
    return source->id;
  }

  // Gives every chunk of `source_id` a vector of `model` from `vectors`; returns text -> vector.
  std::map<std::string, std::vector<float>> Embed(const std::string& model, const std::string& source_id,
                                                  Vectors& vectors, size_t dimension = kDimension) {
    auto items = storage_->ListUnembedded(model, EmbeddingOwner{.source_id = source_id}, 10000);
    EXPECT_TRUE(items.ok()) << items.status().ToString();
    if (!items.ok()) return {};
    std::map<std::string, std::vector<float>> by_text;
    std::vector<std::vector<float>> batch;
    for (const auto& item : *items) {
      batch.push_back(vectors.Next(dimension));
      by_text[item.text] = batch.back();
    }
    auto saved = storage_->SaveEmbeddings(model, *items, batch);
    EXPECT_TRUE(saved.ok()) << saved.status().ToString();
    return by_text;
  }

  std::vector<search::VectorSearchHit> Search(const std::string& model, const std::vector<float>& query, size_t k,
                                              float min_score = -1.0F,
                                              const std::optional<std::string>& notebook = std::nullopt) {
    auto hits = searcher_->Search(*storage_, model, query, k, min_score, notebook);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    return hits.ok() ? *hits : std::vector<search::VectorSearchHit>{};
  }

  std::string Notebook(const std::string& name) {
    auto notebook = storage_->CreateNotebook(name, "");
    EXPECT_TRUE(notebook.ok()) << notebook.status().ToString();
    return notebook.ok() ? notebook->id : "";
  }

  test::TempDir dir_;
  std::unique_ptr<test::TestStorage> database_;
  Storage* storage_ = nullptr;
  std::unique_ptr<search::VectorSearcher> searcher_;
};

INSTANTIATE_TEST_SUITE_P(Backends, VectorSearchTest, test::kAllStorageBackends, test::StorageBackendName);

TEST_P(VectorSearchTest, FindsTheNearestVectorsBestFirst) {
  const std::string notebook = Notebook("Vectors");
  Vectors vectors(7);
  const auto stored = Embed("fake/a", AddSource("alpha", 400, notebook), vectors);
  ASSERT_EQ(stored.size(), 400u);

  Vectors queries(99);
  int matched = 0;
  int expected = 0;
  for (int round = 0; round < 20; ++round) {
    const std::vector<float> query = queries.Next();
    std::vector<std::pair<float, std::string>> exact;
    for (const auto& [text, vector] : stored) exact.emplace_back(Cosine(query, vector), text);
    std::sort(exact.rbegin(), exact.rend());
    exact.resize(10);

    const auto hits = Search("fake/a", query, 10);
    ASSERT_EQ(hits.size(), 10u);
    std::set<std::string> exact_texts;
    for (const auto& [score, text] : exact) exact_texts.insert(text);
    for (size_t i = 0; i < hits.size(); ++i) {
      const std::string& text = hits[i].target.content;
      ASSERT_TRUE(stored.contains(text)) << text;
      EXPECT_NEAR(hits[i].similarity, Cosine(query, stored.at(text)), 1e-4) << text;
      if (i > 0) {
        EXPECT_GE(hits[i - 1].similarity, hits[i].similarity) << "best first";
      }
      EXPECT_EQ(hits[i].target.type, "source");
      if (exact_texts.contains(text)) ++matched;
    }
    expected += 10;
  }
  // HNSW is approximate, but on 400 vectors with the default search width it misses almost nothing.
  EXPECT_GE(matched, expected * 95 / 100) << matched << " of " << expected << " exact neighbours found";

  // A stored vector finds itself first.
  const auto& [text, vector] = *stored.begin();
  const auto self = Search("fake/a", vector, 3);
  ASSERT_FALSE(self.empty());
  EXPECT_EQ(self[0].target.content, text);
  EXPECT_NEAR(self[0].similarity, 1.0, 1e-4);
}

// Above 2,000 vectors SQLite's in-process index builds its graph. PostgreSQL's planner orders by
// the HNSW index rather than comparing every row.
TEST_P(VectorSearchTest, LargeSetsSearchTheGraph) {
  const std::string notebook = Notebook("Large");
  Vectors vectors(21);
  const auto stored = Embed("fake/a", AddSource("gamma", 5000, notebook), vectors);
  ASSERT_EQ(stored.size(), 5000u);
  if (database_->backend() == test::StorageBackend::kPostgres) {
    ASSERT_EQ(database_->ExecuteRaw("ANALYZE embedding"), "");
  }

  Vectors queries(23);
  int matched = 0;
  for (int round = 0; round < 10; ++round) {
    const std::vector<float> query = queries.Next();
    std::vector<std::pair<float, std::string>> exact;
    for (const auto& [text, vector] : stored) exact.emplace_back(Cosine(query, vector), text);
    std::partial_sort(exact.begin(), exact.begin() + 10, exact.end(), std::greater<>());
    std::set<std::string> exact_texts;
    for (int i = 0; i < 10; ++i) exact_texts.insert(exact[static_cast<size_t>(i)].second);
    for (const auto& hit : Search("fake/a", query, 10)) matched += exact_texts.contains(hit.target.content) ? 1 : 0;
  }
  EXPECT_GE(matched, 90) << "recall@10 over 10 queries, in hundredths";

  if (database_->backend() == test::StorageBackend::kPostgres) {
    // A session publishes its statistics some time after it goes idle (about 10 s in local runs),
    // so this polls for up to 15 s.
    std::string used;
    for (int attempt = 0; attempt < 150; ++attempt) {
      used = database_->ExecuteRaw(
          "DO $$ BEGIN IF (SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes "
          "WHERE indexrelname = 'embedding_hnsw_48') = 0 THEN RAISE EXCEPTION 'embedding_hnsw_48 was not scanned'; "
          "END IF; END $$");
      if (used.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(used, "");
  }
}

TEST_P(VectorSearchTest, ModelsAndDimensionsStayApart) {
  const std::string notebook = Notebook("Models");
  const std::string source = AddSource("beta", 60, notebook);
  Vectors vectors(11);
  const auto model_a = Embed("fake/a", source, vectors);
  const auto model_b = Embed("fake/b", source, vectors);
  Embed("fake/short", source, vectors, 16);

  const std::vector<float> query = model_a.begin()->second;
  const auto in_a = Search("fake/a", query, 5);
  ASSERT_FALSE(in_a.empty());
  EXPECT_NEAR(in_a[0].similarity, 1.0, 1e-4) << "its own vector, of model a";
  const auto in_b = Search("fake/b", query, 5);
  ASSERT_EQ(in_b.size(), 5u);
  for (const auto& hit : in_b) {
    EXPECT_NEAR(hit.similarity, Cosine(query, model_b.at(hit.target.content)), 1e-4)
        << "scored against model b's vector of " << hit.target.content;
  }
  EXPECT_TRUE(Search("fake/short", query, 5).empty()) << "a 48-dimension query is never compared with 16";
  EXPECT_TRUE(Search("fake/none", query, 5).empty());
  EXPECT_EQ(Search("fake/short", Vectors(3).Next(16), 5).size(), 5u);
}

TEST_P(VectorSearchTest, NotebookScopeMinimumScoreAndDeletions) {
  const std::string first_notebook = Notebook("First");
  const std::string second_notebook = Notebook("Second");
  const std::string first_source = AddSource("first", 30, first_notebook);
  const std::string second_source = AddSource("second", 30, second_notebook);
  Vectors vectors(5);
  const auto first_vectors = Embed("fake/a", first_source, vectors);
  Embed("fake/a", second_source, vectors);

  Note note;
  note.title = "Plan";
  note.content = "a note in the second notebook";
  note.note_type = "human";
  note.notebook_id = second_notebook;
  auto created = storage_->CreateNote(note);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto note_items = storage_->ListUnembedded("fake/a", EmbeddingOwner{.note_id = created->id}, 10);
  ASSERT_TRUE(note_items.ok());
  ASSERT_EQ(note_items->size(), 1u);
  const std::vector<float> note_vector = vectors.Next();
  ASSERT_TRUE(storage_->SaveEmbeddings("fake/a", *note_items, {note_vector}).ok());

  // The query is the first source's vector: scoped to the second notebook, it is not found.
  const std::vector<float> query = first_vectors.begin()->second;
  const auto scoped = Search("fake/a", query, 100, -1.0F, second_notebook);
  EXPECT_EQ(scoped.size(), 31u) << "the second source's 30 chunks and the note";
  for (const auto& hit : scoped) {
    EXPECT_TRUE(hit.target.item_id == second_source || hit.target.item_id == created->id) << hit.target.item_id;
  }
  const auto note_first = Search("fake/a", note_vector, 1, -1.0F, second_notebook);
  ASSERT_EQ(note_first.size(), 1u);
  EXPECT_EQ(note_first[0].target.type, "note");
  EXPECT_EQ(note_first[0].target.item_id, created->id);

  const auto close = Search("fake/a", query, 100, 0.2F);
  ASSERT_FALSE(close.empty());
  for (const auto& hit : close) EXPECT_GE(hit.similarity, 0.2F);
  EXPECT_LT(close.size(), 61u) << "random vectors are mostly far from each other";

  ASSERT_TRUE(storage_->DeleteSource(first_source).ok());
  const auto after = Search("fake/a", query, 100);
  EXPECT_EQ(after.size(), 31u);
  for (const auto& hit : after) EXPECT_NE(hit.target.item_id, first_source);
}

// SQLite's in-process index only filters out vectors deleted from the database, until they make
// up a fifth of it (and more than 100): then it is built again from the live rows.
TEST_P(VectorSearchTest, InProcessIndexRebuiltAfterManyDeletions) {
  if (GetParam() != test::StorageBackend::kSqlite) GTEST_SKIP() << "PostgreSQL searches in the database";
  const std::string notebook = Notebook("Deletions");
  const std::string remaining = AddSource("remaining", 200, notebook);
  const std::string few = AddSource("few", 20, notebook);
  const std::string many = AddSource("many", 150, notebook);
  Vectors vectors(9);
  const auto remaining_vectors = Embed("fake/a", remaining, vectors);
  Embed("fake/a", few, vectors);
  Embed("fake/a", many, vectors);
  const std::vector<float> query = remaining_vectors.begin()->second;

  EXPECT_EQ(Search("fake/a", query, 5).size(), 5u);
  EXPECT_EQ(searcher_->IndexedVectors("fake/a", kDimension), std::optional<size_t>(370));

  ASSERT_TRUE(storage_->DeleteSource(few).ok());
  EXPECT_EQ(Search("fake/a", query, 400).size(), 350u);
  EXPECT_EQ(searcher_->IndexedVectors("fake/a", kDimension), std::optional<size_t>(370)) << "20 deletions are filtered";

  ASSERT_TRUE(storage_->DeleteSource(many).ok());
  EXPECT_EQ(Search("fake/a", query, 400).size(), 200u);
  EXPECT_EQ(searcher_->IndexedVectors("fake/a", kDimension), std::optional<size_t>(200)) << "170 deletions rebuild it";
}

}  // namespace
}  // namespace on::storage
