#include "search/vector_index.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <thread>
#include <unordered_set>

#include "support/temp_dir.h"

namespace on::search {
namespace {

constexpr char kModel[] = "test/embedding-model";

// Deterministic clustered vectors: `clusters` random centres, each point a centre plus noise.
class ClusteredVectors {
 public:
  ClusteredVectors(uint32_t dimension, size_t clusters, uint32_t seed)
      : dimension_(dimension), random_(seed) {
    std::normal_distribution<float> normal(0.0F, 1.0F);
    centres_.resize(clusters * dimension);
    for (float& value : centres_) value = normal(random_);
  }

  std::vector<float> Next() {
    std::normal_distribution<float> normal(0.0F, 0.35F);
    std::uniform_int_distribution<size_t> pick(0, centres_.size() / dimension_ - 1);
    const size_t centre = pick(random_);
    std::vector<float> vector(dimension_);
    for (uint32_t i = 0; i < dimension_; ++i) {
      vector[i] = centres_[centre * dimension_ + i] + normal(random_);
    }
    return vector;
  }

  std::vector<float> Many(size_t count) {
    std::vector<float> all;
    all.reserve(count * dimension_);
    for (size_t i = 0; i < count; ++i) {
      const auto vector = Next();
      all.insert(all.end(), vector.begin(), vector.end());
    }
    return all;
  }

 private:
  uint32_t dimension_;
  std::mt19937 random_;
  std::vector<float> centres_;
};

VectorIndexOptions Options(uint32_t dimension, size_t exact_threshold = 2000) {
  VectorIndexOptions options;
  options.model = kModel;
  options.dimension = dimension;
  options.exact_threshold = exact_threshold;
  return options;
}

std::unique_ptr<VectorIndex> MakeIndex(const VectorIndexOptions& options) {
  auto index = VectorIndex::Create(options);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  return std::move(index).value();
}

// Adds labels 0..count-1 with the given vectors, one call per vector.
void AddAll(VectorIndex& index, const std::vector<float>& vectors, uint32_t dimension) {
  const size_t count = vectors.size() / dimension;
  for (size_t i = 0; i < count; ++i) {
    ASSERT_TRUE(index.Upsert(i, std::span(vectors).subspan(i * dimension, dimension)).ok());
  }
}

std::vector<VectorMatch> SearchOrDie(const VectorIndex& index, std::span<const float> query,
                                     const VectorSearchOptions& options) {
  auto result = index.Search(query, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? result.value() : std::vector<VectorMatch>{};
}

std::vector<uint64_t> Labels(const std::vector<VectorMatch>& matches) {
  std::vector<uint64_t> labels;
  for (const auto& match : matches) labels.push_back(match.label);
  return labels;
}

double RecallAt(const std::vector<VectorMatch>& found, const std::vector<VectorMatch>& truth) {
  std::set<uint64_t> expected;
  for (const auto& match : truth) expected.insert(match.label);
  size_t hits = 0;
  for (const auto& match : found) hits += expected.count(match.label);
  return truth.empty() ? 1.0 : static_cast<double>(hits) / static_cast<double>(truth.size());
}

std::string ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteBytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(VectorIndex, ExactScanMatchesBruteForce) {
  constexpr uint32_t kDimension = 16;
  ClusteredVectors generator(kDimension, 8, 1);
  const auto vectors = generator.Many(500);
  auto index = MakeIndex(Options(kDimension));
  AddAll(*index, vectors, kDimension);
  ASSERT_FALSE(index->UsesGraph());
  ASSERT_EQ(index->Size(), 500u);

  for (int q = 0; q < 20; ++q) {
    const auto query = generator.Next();
    // Brute force in double precision over normalised copies.
    auto unit = [](std::span<const float> v) {
      double norm = 0;
      for (float x : v) norm += double{x} * x;
      std::vector<double> out;
      for (float x : v) out.push_back(x / std::sqrt(norm));
      return out;
    };
    const auto query_unit = unit(query);
    std::vector<std::pair<double, uint64_t>> expected;
    for (size_t i = 0; i < 500; ++i) {
      const auto row = unit(std::span(vectors).subspan(i * kDimension, kDimension));
      double dot = 0;
      for (uint32_t d = 0; d < kDimension; ++d) dot += row[d] * query_unit[d];
      expected.emplace_back(-dot, i);
    }
    std::sort(expected.begin(), expected.end());

    const auto found = SearchOrDie(*index, query, {.k = 10});
    ASSERT_EQ(found.size(), 10u);
    for (size_t r = 0; r < 10; ++r) {
      EXPECT_EQ(found[r].label, expected[r].second) << "rank " << r << " of query " << q;
      EXPECT_NEAR(found[r].score, -expected[r].first, 1e-5);
    }
  }
}

TEST(VectorIndex, GraphRecallAtTenAgainstExact) {
  constexpr uint32_t kDimension = 32;
  ClusteredVectors generator(kDimension, 40, 2);
  const auto vectors = generator.Many(4000);
  auto options = Options(kDimension, 1000);
  options.build_threads = 2;
  auto index = MakeIndex(options);
  std::vector<uint64_t> labels(4000);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = 1000000 + i;
  ASSERT_TRUE(index->UpsertBatch(labels, vectors).ok());
  ASSERT_TRUE(index->UsesGraph());
  ASSERT_EQ(index->Size(), 4000u);

  double recall_sum = 0;
  constexpr int kQueries = 100;
  for (int q = 0; q < kQueries; ++q) {
    const auto query = generator.Next();
    const auto exact = SearchOrDie(*index, query, {.k = 10, .exact = true});
    const auto approximate = SearchOrDie(*index, query, {.k = 10});
    ASSERT_EQ(exact.size(), 10u);
    ASSERT_EQ(approximate.size(), 10u);
    EXPECT_TRUE(std::is_sorted(approximate.begin(), approximate.end(),
                               [](const auto& a, const auto& b) { return a.score > b.score; }));
    recall_sum += RecallAt(approximate, exact);
  }
  EXPECT_GE(recall_sum / kQueries, 0.95);
}

TEST(VectorIndex, RemovedLabelsNeverReturned) {
  constexpr uint32_t kDimension = 16;
  ClusteredVectors generator(kDimension, 10, 3);
  const auto vectors = generator.Many(1500);
  for (size_t threshold : {size_t{5000}, size_t{200}}) {
    SCOPED_TRACE("exact_threshold " + std::to_string(threshold));
    auto index = MakeIndex(Options(kDimension, threshold));
    AddAll(*index, vectors, kDimension);
    std::unordered_set<uint64_t> removed;
    for (uint64_t label = 0; label < 1500; label += 3) {
      ASSERT_TRUE(index->Remove(label));
      removed.insert(label);
    }
    EXPECT_FALSE(index->Remove(0)) << "a second removal reports absence";
    EXPECT_FALSE(index->Contains(3));
    EXPECT_TRUE(index->Contains(4));
    EXPECT_EQ(index->Size(), 1000u);

    for (int q = 0; q < 30; ++q) {
      // Query with a removed vector itself: the most tempting match must not come back.
      const uint64_t removed_label = static_cast<uint64_t>(q) * 3;
      const auto query = std::span(vectors).subspan(removed_label * kDimension, kDimension);
      for (const auto& match : SearchOrDie(*index, query, {.k = 20})) {
        EXPECT_FALSE(removed.contains(match.label)) << "label " << match.label;
      }
    }

    // New labels take over deleted slots and are found; a removed label can come back.
    for (uint64_t i = 0; i < 100; ++i) {
      const auto vector = generator.Next();
      ASSERT_TRUE(index->Upsert(5000 + i, vector).ok());
      const auto found = SearchOrDie(*index, vector, {.k = 1});
      ASSERT_EQ(found.size(), 1u);
      EXPECT_EQ(found[0].label, 5000 + i);
    }
    ASSERT_TRUE(index->Upsert(3, std::span(vectors).subspan(3 * kDimension, kDimension)).ok());
    EXPECT_TRUE(index->Contains(3));
    const auto found = SearchOrDie(*index, std::span(vectors).subspan(3 * kDimension, kDimension), {.k = 1});
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].label, 3u);
    EXPECT_EQ(index->Size(), 1101u);
  }
}

TEST(VectorIndex, ShrinkingGraphReturnsToExactScan) {
  constexpr uint32_t kDimension = 8;
  ClusteredVectors generator(kDimension, 4, 4);
  const auto vectors = generator.Many(300);
  auto index = MakeIndex(Options(kDimension, 100));
  AddAll(*index, vectors, kDimension);
  ASSERT_TRUE(index->UsesGraph());
  for (uint64_t label = 0; label < 251; ++label) ASSERT_TRUE(index->Remove(label));
  EXPECT_FALSE(index->UsesGraph());
  EXPECT_EQ(index->Size(), 49u);
  const auto found = SearchOrDie(*index, generator.Next(), {.k = 100});
  ASSERT_EQ(found.size(), 49u);
  for (const auto& match : found) EXPECT_GE(match.label, 251u);
}

TEST(VectorIndex, FilterReturnsKWhenTheyExist) {
  constexpr uint32_t kDimension = 16;
  ClusteredVectors generator(kDimension, 10, 5);
  const auto vectors = generator.Many(3000);
  for (size_t threshold : {size_t{5000}, size_t{500}}) {
    SCOPED_TRACE("exact_threshold " + std::to_string(threshold));
    auto index = MakeIndex(Options(kDimension, threshold));
    AddAll(*index, vectors, kDimension);
    // 60 of 3000 labels pass: far fewer than the default candidate list holds.
    const LabelFilter rare = [](uint64_t label) { return label % 50 == 7; };
    for (int q = 0; q < 10; ++q) {
      const auto query = generator.Next();
      const auto found = SearchOrDie(*index, query, {.k = 10, .filter = rare});
      const auto exact = SearchOrDie(*index, query, {.k = 10, .filter = rare, .exact = true});
      ASSERT_EQ(found.size(), 10u);
      for (const auto& match : found) EXPECT_EQ(match.label % 50, 7u);
      EXPECT_GE(RecallAt(found, exact), 0.9);
    }
    // Asking for more than pass returns exactly those that pass.
    const auto all = SearchOrDie(*index, generator.Next(), {.k = 100, .filter = rare});
    EXPECT_EQ(all.size(), 60u);
    const auto none = SearchOrDie(*index, generator.Next(), {.k = 10, .filter = [](uint64_t) { return false; }});
    EXPECT_TRUE(none.empty());
  }
}

TEST(VectorIndex, MinScoreDropsWeakMatches) {
  constexpr uint32_t kDimension = 4;
  auto index = MakeIndex(Options(kDimension));
  ASSERT_TRUE(index->Upsert(1, std::vector<float>{1, 0, 0, 0}).ok());
  ASSERT_TRUE(index->Upsert(2, std::vector<float>{1, 1, 0, 0}).ok());
  ASSERT_TRUE(index->Upsert(3, std::vector<float>{0, 1, 0, 0}).ok());
  ASSERT_TRUE(index->Upsert(4, std::vector<float>{-1, 0, 0, 0}).ok());

  const auto found = SearchOrDie(*index, std::vector<float>{2, 0, 0, 0}, {.k = 10, .min_score = 0.5F});
  ASSERT_EQ(Labels(found), (std::vector<uint64_t>{1, 2}));
  EXPECT_NEAR(found[0].score, 1.0, 1e-6);
  EXPECT_NEAR(found[1].score, std::sqrt(0.5), 1e-6);
  EXPECT_EQ(SearchOrDie(*index, std::vector<float>{2, 0, 0, 0}, {.k = 10}).size(), 4u);
}

TEST(VectorIndex, UpsertReplacesVectorAndTiesSortByLabel) {
  constexpr uint32_t kDimension = 3;
  auto index = MakeIndex(Options(kDimension));
  ASSERT_TRUE(index->Upsert(9, std::vector<float>{0, 0, 1}).ok());
  ASSERT_TRUE(index->Upsert(5, std::vector<float>{0, 0, 2}).ok());
  ASSERT_TRUE(index->Upsert(7, std::vector<float>{1, 0, 0}).ok());
  EXPECT_EQ(Labels(SearchOrDie(*index, std::vector<float>{0, 0, 1}, {.k = 3})),
            (std::vector<uint64_t>{5, 9, 7}));
  ASSERT_TRUE(index->Upsert(9, std::vector<float>{0, 1, 0}).ok());
  EXPECT_EQ(index->Size(), 3u);
  const auto found = SearchOrDie(*index, std::vector<float>{0, 1, 0}, {.k = 1});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].label, 9u);
}

TEST(VectorIndex, BatchKeepsLastVectorOfRepeatedLabel) {
  constexpr uint32_t kDimension = 2;
  auto index = MakeIndex(Options(kDimension));
  const std::vector<uint64_t> labels = {1, 2, 1};
  const std::vector<float> vectors = {1, 0, 0, 1, -1, 0};
  ASSERT_TRUE(index->UpsertBatch(labels, vectors).ok());
  EXPECT_EQ(index->Size(), 2u);
  const auto found = SearchOrDie(*index, std::vector<float>{-1, 0}, {.k = 1});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].label, 1u);
  EXPECT_NEAR(found[0].score, 1.0, 1e-6);
}

TEST(VectorIndex, WrongDimensionAndBadVectorsRejected) {
  auto index = MakeIndex(Options(4));
  const auto wrong = index->Upsert(1, std::vector<float>{1, 2, 3});
  EXPECT_EQ(wrong.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(wrong.message().find("3 dimensions"), std::string::npos) << wrong.message();
  EXPECT_NE(wrong.message().find(kModel), std::string::npos) << wrong.message();
  EXPECT_EQ(index->Upsert(1, std::vector<float>{0, 0, 0, 0}).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(index->Upsert(1, std::vector<float>{1, NAN, 0, 0}).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(index->Upsert(1, std::vector<float>{1, INFINITY, 0, 0}).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(index->Search(std::vector<float>{1, 2, 3, 4, 5}, {}).status().code(), ErrorCode::kInvalidInput);

  // A batch with one bad vector stores none of them.
  const std::vector<uint64_t> labels = {1, 2};
  EXPECT_EQ(index->UpsertBatch(labels, std::vector<float>{1, 0, 0, 0, 0, 0, 0}).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(index->UpsertBatch(labels, std::vector<float>{1, 0, 0, 0, 0, 0, 0, 0}).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(index->Size(), 0u);

  EXPECT_EQ(VectorIndex::Create(Options(0)).status().code(), ErrorCode::kInvalidInput);
  auto no_model = Options(4);
  no_model.model.clear();
  EXPECT_EQ(VectorIndex::Create(no_model).status().code(), ErrorCode::kInvalidInput);
}

TEST(VectorIndex, SaveLoadRoundTrip) {
  constexpr uint32_t kDimension = 24;
  ClusteredVectors generator(kDimension, 12, 6);
  const auto vectors = generator.Many(1200);
  test::TempDir dir;
  for (size_t threshold : {size_t{5000}, size_t{300}}) {
    SCOPED_TRACE("exact_threshold " + std::to_string(threshold));
    const auto options = Options(kDimension, threshold);
    auto index = MakeIndex(options);
    AddAll(*index, vectors, kDimension);
    for (uint64_t label = 0; label < 1200; label += 5) ASSERT_TRUE(index->Remove(label));
    index->set_generation(42);
    const auto path = dir.path() / ("index-" + std::to_string(threshold) + ".bin");
    ASSERT_TRUE(index->Save(path).ok());
    // Saving again replaces the file in place.
    ASSERT_TRUE(index->Save(path).ok());
    size_t files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
    EXPECT_EQ(files, threshold == 5000 ? 1u : 2u) << "no temporary file is left behind";

    auto info = VectorIndex::ReadFileInfo(path);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->model, kModel);
    EXPECT_EQ(info->dimension, kDimension);
    EXPECT_EQ(info->generation, 42u);
    EXPECT_EQ(info->size, 960u);

    auto loaded = VectorIndex::Load(path, options);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    VectorIndex& copy = *loaded.value();
    EXPECT_EQ(copy.Size(), 960u);
    EXPECT_EQ(copy.generation(), 42u);
    EXPECT_EQ(copy.UsesGraph(), index->UsesGraph());
    EXPECT_FALSE(copy.Contains(0));
    for (int q = 0; q < 20; ++q) {
      const auto query = generator.Next();
      EXPECT_EQ(SearchOrDie(copy, query, {.k = 10}), SearchOrDie(*index, query, {.k = 10}));
    }
    // The loaded index keeps working: deleted slots are reused, new labels are found.
    const auto vector = generator.Next();
    ASSERT_TRUE(copy.Upsert(99999, vector).ok());
    EXPECT_EQ(SearchOrDie(copy, vector, {.k = 1}).at(0).label, 99999u);
    EXPECT_EQ(copy.Size(), 961u);
  }
}

TEST(VectorIndex, LoadRejectsOtherModelOrDimension) {
  test::TempDir dir;
  auto index = MakeIndex(Options(8));
  ASSERT_TRUE(index->Upsert(1, std::vector<float>(8, 1.0F)).ok());
  const auto path = dir.path() / "index.bin";
  ASSERT_TRUE(index->Save(path).ok());

  auto other_model = Options(8);
  other_model.model = "other/model";
  const auto by_model = VectorIndex::Load(path, other_model);
  EXPECT_EQ(by_model.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(by_model.status().message().find("other/model"), std::string::npos);
  EXPECT_EQ(VectorIndex::Load(path, Options(16)).status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(VectorIndex::Load(dir.path() / "missing.bin", Options(8)).status().code(), ErrorCode::kNotFound);
}

// Truncates and garbles saved files of both layouts; every variant must be rejected as kIo.
TEST(VectorIndex, DamagedFilesRejected) {
  constexpr uint32_t kDimension = 8;
  ClusteredVectors generator(kDimension, 5, 7);
  const auto vectors = generator.Many(400);
  test::TempDir dir;
  std::mt19937 random(8);
  for (size_t threshold : {size_t{5000}, size_t{100}}) {
    SCOPED_TRACE("exact_threshold " + std::to_string(threshold));
    const auto options = Options(kDimension, threshold);
    auto index = MakeIndex(options);
    AddAll(*index, vectors, kDimension);
    const auto path = dir.path() / "index.bin";
    ASSERT_TRUE(index->Save(path).ok());
    const std::string original = ReadBytes(path);
    const auto damaged = dir.path() / "damaged.bin";

    std::vector<size_t> lengths = {0, 1, 7, 8, 12, 40, 60, original.size() - 33, original.size() - 1};
    for (size_t length = 64; length < original.size(); length += original.size() / 97) lengths.push_back(length);
    for (size_t length : lengths) {
      WriteBytes(damaged, original.substr(0, length));
      const auto loaded = VectorIndex::Load(damaged, options);
      EXPECT_EQ(loaded.status().code(), ErrorCode::kIo) << "truncated to " << length << ": " << loaded.status().ToString();
    }

    std::uniform_int_distribution<size_t> position(0, original.size() - 1);
    for (int trial = 0; trial < 200; ++trial) {
      std::string garbled = original;
      const size_t at = position(random);
      garbled[at] = static_cast<char>(garbled[at] ^ (1 + trial % 255));
      WriteBytes(damaged, garbled);
      const auto loaded = VectorIndex::Load(damaged, options);
      EXPECT_FALSE(loaded.ok()) << "byte " << at << " flipped";
      // A flipped model name byte is caught by the header checksum, not reported as another model.
      EXPECT_EQ(loaded.status().code(), ErrorCode::kIo) << "byte " << at << ": " << loaded.status().ToString();
    }
    // Appended bytes are rejected too.
    WriteBytes(damaged, original + "extra");
    EXPECT_EQ(VectorIndex::Load(damaged, options).status().code(), ErrorCode::kIo);
  }
}

// A file whose checksum was recomputed after a link was changed must still be rejected, so a
// search never follows an id outside the graph.
TEST(VectorIndex, DamagedLinksRejectedDespiteValidChecksum) {
  constexpr uint32_t kDimension = 8;
  ClusteredVectors generator(kDimension, 5, 9);
  const auto vectors = generator.Many(200);
  test::TempDir dir;
  const auto options = Options(kDimension, 50);
  auto index = MakeIndex(options);
  AddAll(*index, vectors, kDimension);
  ASSERT_TRUE(index->UsesGraph());
  const auto path = dir.path() / "index.bin";
  ASSERT_TRUE(index->Save(path).ok());
  std::string bytes = ReadBytes(path);

  // Header: magic 8, version 4, dimension 4, model length 4, model, generation 8, layout 1,
  // live 8, header checksum 16; then six graph fields (8+8+8+8+4+4) and level-0 memory, whose
  // first slot starts with a 4-byte link count and its first neighbour id.
  const size_t header_bytes = 8 + 4 + 4 + 4 + std::string(kModel).size() + 8 + 1 + 8 + 16;
  const size_t first_link = header_bytes + 40 + 4;
  const uint32_t invalid = 1u << 30;
  std::memcpy(bytes.data() + first_link, &invalid, sizeof(invalid));
  ASSERT_EQ(sodium_init() < 0, false);
  crypto_generichash(reinterpret_cast<unsigned char*>(bytes.data() + bytes.size() - 32), 32,
                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size() - 32, nullptr, 0);
  WriteBytes(path, bytes);
  const auto loaded = VectorIndex::Load(path, options);
  EXPECT_EQ(loaded.status().code(), ErrorCode::kIo) << loaded.status().ToString();
  EXPECT_NE(loaded.status().message().find("links to invalid node"), std::string::npos)
      << loaded.status().message();
}

// Readers search while one writer adds enough vectors to move from exact scan to the graph and
// grow it. In the AddressSanitizer build, a search that read memory freed by a resize would fail.
TEST(VectorIndex, ConcurrentSearchesWhileAdding) {
  constexpr uint32_t kDimension = 16;
  constexpr size_t kCount = 2500;
  ClusteredVectors generator(kDimension, 10, 10);
  const auto vectors = generator.Many(kCount);
  std::vector<std::vector<float>> queries;
  for (int i = 0; i < 16; ++i) queries.push_back(generator.Next());
  auto options = Options(kDimension, 500);
  options.build_threads = 2;
  auto index = MakeIndex(options);

  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0};
  std::atomic<size_t> failures{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      size_t i = static_cast<size_t>(r);
      while (!done.load()) {
        const auto& query = queries[i++ % queries.size()];
        const LabelFilter even = [](uint64_t label) { return label % 2 == 0; };
        auto result = index->Search(query, {.k = 5, .filter = r == 0 ? even : LabelFilter{}});
        if (!result.ok()) {
          ++failures;
          continue;
        }
        for (const auto& match : result.value()) {
          if (match.label >= kCount || (r == 0 && match.label % 2 != 0)) ++failures;
        }
        ++searches;
      }
    });
  }
  for (size_t start = 0; start < kCount; start += 100) {
    std::vector<uint64_t> labels;
    for (size_t i = start; i < start + 100; ++i) labels.push_back(i);
    ASSERT_TRUE(index->UpsertBatch(labels, std::span(vectors).subspan(start * kDimension, 100 * kDimension)).ok());
    if (start % 500 == 0) index->Remove(start);
  }
  done = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(failures.load(), 0u);
  EXPECT_GT(searches.load(), 0u);
  EXPECT_TRUE(index->UsesGraph());
  EXPECT_EQ(index->Size(), kCount - 5);
}

}  // namespace
}  // namespace on::search
