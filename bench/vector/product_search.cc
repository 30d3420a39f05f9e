// Measures vector search through the product's own code on both backends with the same vectors:
// VectorSearcher over SqliteStorage (an in-process hnswlib index) and over PostgresStorage (the
// pgvector HNSW index, with the product's partial index, model filter and search settings). Both
// also load the hits' chunks, as the search API does.
//
//   bench_vector_product <postgresql:// URL of an empty database> <count> <queries> [dimension]
//
// The vectors are bench_vector's generated clustered points (1,000 clusters, the same seed),
// stored as the embeddings of one source's chunks through SaveEmbeddings. The queries are fresh
// points from the same generator.
// Prints the load time, the first search (which builds the in-process index on SQLite), recall@10
// against exact search and p50/p99 per query, as Markdown table rows.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include "clustered_generator.h"
#include "search/vector_search.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/postgres_storage.h"
#include "storage/sqlite/sqlite_storage.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kRecallK = 10;
constexpr size_t kClusters = 1000;
// The seed of the synthetic set of bench_vector, so both benchmarks search the same vectors.
constexpr uint64_t kSeed = 20261204;
constexpr size_t kSaveBatch = 1000;
const char* const kModel = "bench/clustered";

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double Percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(fraction * static_cast<double>(values.size())))];
}

[[noreturn]] void Fail(const on::Status& status, const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  std::exit(1);
}

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0;
  double norm_a = 0;
  double norm_b = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    norm_a += static_cast<double>(a[i]) * a[i];
    norm_b += static_cast<double>(b[i]) * b[i];
  }
  return dot / std::sqrt(norm_a * norm_b);
}

struct Run {
  std::string backend;
  double load_seconds = 0;
  double first_search_ms = 0;
  double recall = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// Chunk texts are "chunk <i>", so a hit's text names the vector it was stored for.
Run Measure(const std::string& backend, on::storage::Storage& storage, const std::filesystem::path& vectors_dir,
            const std::vector<std::vector<float>>& points, const std::vector<std::vector<float>>& queries,
            const std::vector<std::set<size_t>>& exact, const std::function<void()>& after_load) {
  Run run;
  run.backend = backend;
  if (const auto migrated = storage.MigrateUp(std::nullopt); !migrated.ok()) Fail(migrated, "migrating");
  auto notebook = storage.CreateNotebook("Vector benchmark", "");
  if (!notebook.ok()) Fail(notebook.status(), "creating the notebook");

  const auto load_start = Clock::now();
  on::storage::SourceCreate create;
  create.title = "Clustered points";
  create.notebooks = {notebook->id};
  create.job_app = "open_notebook";
  create.job_command = "process_source";
  auto source = storage.CreateSource(create);
  if (!source.ok()) Fail(source.status(), "creating the source");
  on::storage::SourceExtraction extraction;
  for (size_t i = 0; i < points.size(); ++i) {
    extraction.chunks.push_back(on::storage::ChunkRecord{static_cast<int>(i), "chunk " + std::to_string(i), 0, 0,
                                                        std::nullopt, 2});
  }
  extraction.full_text = "clustered points";
  if (const auto saved = storage.SaveExtraction(source->id, extraction); !saved.ok()) Fail(saved, "saving the chunks");
  for (;;) {
    auto items = storage.ListUnembedded(kModel, on::storage::EmbeddingOwner{.source_id = source->id},
                                        static_cast<int>(kSaveBatch));
    if (!items.ok()) Fail(items.status(), "listing the chunks to embed");
    if (items->empty()) break;
    std::vector<std::vector<float>> batch;
    for (const auto& item : *items) batch.push_back(points[std::stoul(item.text.substr(6))]);
    if (auto saved = storage.SaveEmbeddings(kModel, *items, batch); !saved.ok()) Fail(saved.status(), "saving vectors");
  }
  after_load();
  run.load_seconds = SecondsSince(load_start);

  on::search::VectorSearcher searcher(vectors_dir);
  auto search = [&](const std::vector<float>& query) {
    auto hits = searcher.Search(storage, kModel, query, kRecallK, -1.0F, std::nullopt);
    if (!hits.ok()) Fail(hits.status(), "searching");
    return std::move(*hits);
  };
  const auto first_start = Clock::now();
  search(queries[0]);
  run.first_search_ms = SecondsSince(first_start) * 1000;
  for (const auto& query : queries) search(query);  // warms the caches

  std::vector<double> latencies;
  size_t found = 0;
  for (size_t q = 0; q < queries.size(); ++q) {
    const auto start = Clock::now();
    const auto hits = search(queries[q]);
    latencies.push_back(SecondsSince(start) * 1000);
    for (const auto& hit : hits) found += exact[q].contains(std::stoul(hit.target.content.substr(6))) ? 1 : 0;
  }
  run.recall = static_cast<double>(found) / static_cast<double>(queries.size() * kRecallK);
  run.p50_ms = Percentile(latencies, 0.5);
  run.p99_ms = Percentile(latencies, 0.99);
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr,
                 "usage: %s <postgresql:// URL of an empty database, or sqlite-only> <count> <queries> [dimension]\n",
                 argv[0]);
    return 2;
  }
  const std::string url = argv[1];
  const size_t count = std::strtoul(argv[2], nullptr, 10);
  const size_t query_count = std::strtoul(argv[3], nullptr, 10);
  const size_t dimension = argc == 5 ? std::strtoul(argv[4], nullptr, 10) : 384;
  if (count < kRecallK || query_count == 0 || dimension == 0) {
    std::fprintf(stderr, "count must be at least %zu, queries and dimension at least 1\n", kRecallK);
    return 2;
  }

  on::bench::ClusteredGenerator generator(static_cast<uint32_t>(dimension), kClusters, kSeed);
  auto next = [&generator] {
    std::vector<float> point;
    generator.Append(point);
    return point;
  };
  std::vector<std::vector<float>> points;
  for (size_t i = 0; i < count; ++i) points.push_back(next());
  std::vector<std::vector<float>> queries;
  for (size_t i = 0; i < query_count; ++i) queries.push_back(next());
  std::vector<std::set<size_t>> exact;
  for (const auto& query : queries) {
    std::vector<std::pair<double, size_t>> scored;
    for (size_t i = 0; i < points.size(); ++i) scored.emplace_back(Cosine(query, points[i]), i);
    std::partial_sort(scored.begin(), scored.begin() + kRecallK, scored.end(), std::greater<>());
    std::set<size_t> top;
    for (size_t i = 0; i < kRecallK; ++i) top.insert(scored[i].second);
    exact.push_back(std::move(top));
  }

  const std::filesystem::path work = std::filesystem::temp_directory_path() /
                                     ("bench-vector-product-" + std::to_string(::getpid()));
  std::filesystem::create_directories(work);
  std::vector<Run> runs;
  {
    on::storage::sqlite::ConnectionOptions options;
    options.path = (work / "open-notebook.db").string();
    auto storage = on::storage::sqlite::SqliteStorage::Open(options);
    if (!storage.ok()) Fail(storage.status(), "opening SQLite");
    runs.push_back(Measure("SQLite, in-process hnswlib", **storage, work / "vectors", points, queries, exact, [] {}));
  }
  if (url != "sqlite-only") {
    on::storage::postgres::PoolOptions options;
    options.connection.url = url;
    options.size = 2;
    auto storage = on::storage::postgres::PostgresStorage::Open(options);
    if (!storage.ok()) Fail(storage.status(), "opening PostgreSQL");
    auto analyze = [&url] {
      on::storage::postgres::ConnectionOptions connection;
      connection.url = url;
      auto db = on::storage::postgres::Connection::Open(connection);
      if (!db.ok()) Fail(db.status(), "connecting for ANALYZE");
      if (const auto analyzed = (*db)->Execute("ANALYZE embedding"); !analyzed.ok()) Fail(analyzed, "ANALYZE");
    };
    runs.push_back(Measure("PostgreSQL, pgvector HNSW", **storage, work / "unused", points, queries, exact, analyze));
  }
  std::filesystem::remove_all(work);

  std::printf("%zu vectors of %zu dimensions, %zu queries, k = %zu, through VectorSearcher\n", count, dimension,
              query_count, kRecallK);
  std::printf("| backend | load (chunks and vectors) | first search | recall@10 | p50 | p99 |\n|---|---|---|---|---|---|\n");
  for (const auto& run : runs) {
    std::printf("| %s | %.1f s | %.1f ms | %.4f | %.3f ms | %.3f ms |\n", run.backend.c_str(), run.load_seconds,
                run.first_search_ms, run.recall, run.p50_ms, run.p99_ms);
  }
  if (runs.size() == 2) {
    std::printf("PostgreSQL / SQLite: p50 %.2fx, p99 %.2fx, recall %.3f\n", runs[1].p50_ms / runs[0].p50_ms,
                runs[1].p99_ms / runs[0].p99_ms, runs[1].recall / runs[0].recall);
  }
  return 0;
}
