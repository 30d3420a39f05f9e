// Measures the vector index: recall@10 of the HNSW graph against exact search, and query latency
// of both, on real embeddings from a file or on generated clustered vectors.
//
//   bench_vector file <float32 file> <dimension> <model> [threads]
//       Every vector is a query against all the others: the query's own label is excluded from
//       both result lists (self-match excluded), so no query is held out.
//   bench_vector synthetic <count> <dimension> <clusters> <queries> [threads] [ef_construction]
//                [save directory]
//       Queries are fresh points from the same generator, not in the index.
//
// With `--postgres <URL>` before the mode, the same vectors and queries also go through a pgvector
// HNSW index in that database (a scratch table, dropped at the end), with hnswlib's M and
// ef_construction. Its recall is measured against the same exact top 10, and the output adds the
// ratios pgvector/hnswlib.
//
// Prints Markdown table rows. Timings are wall-clock per query on one thread.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "pgvector_bench.h"
#include "clustered_generator.h"
#include "search/vector_index.h"

namespace {

using Clock = std::chrono::steady_clock;
using on::bench::ClusteredGenerator;
using on::search::VectorIndex;
using on::search::VectorIndexOptions;
using on::search::VectorMatch;
using on::search::VectorSearchOptions;

constexpr size_t kRecallK = 10;
constexpr size_t kEfSearchValues[] = {32, 64, 128, 256};

// The database for the pgvector comparison; empty to measure hnswlib only.
std::string postgres_url;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double Percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(fraction * values.size()));
  return values[index];
}

[[noreturn]] void Fail(const on::Status& status, const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  std::exit(1);
}

struct RunResult {
  double recall = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// Mean fraction of each query's exact top 10 that `results` found.
double Recall(const std::vector<std::vector<VectorMatch>>& truth, const std::vector<std::vector<uint64_t>>& results) {
  double recall_sum = 0;
  for (size_t q = 0; q < results.size(); ++q) {
    std::set<uint64_t> expected;
    for (const auto& match : truth[q]) expected.insert(match.label);
    size_t hits = 0;
    for (const uint64_t label : results[q]) hits += expected.count(label);
    recall_sum += expected.empty() ? 1.0 : static_cast<double>(hits) / expected.size();
  }
  return recall_sum / results.size();
}

// Searches every query and compares with `truth` (the exact top 10 per query). `exclude[q]` is a
// label to drop from the results (the query itself), or UINT64_MAX.
RunResult Measure(const VectorIndex& index, const std::vector<float>& queries, uint32_t dimension,
                  const std::vector<uint64_t>& exclude, const VectorSearchOptions& base,
                  std::vector<std::vector<VectorMatch>>* truth) {
  const size_t count = queries.size() / dimension;
  const bool defines_truth = truth->empty();  // the first (exact) run defines the truth
  std::vector<double> latencies;
  latencies.reserve(count);
  std::vector<std::vector<uint64_t>> found(count);
  for (size_t q = 0; q < count; ++q) {
    VectorSearchOptions options = base;
    options.k = kRecallK + (exclude[q] != UINT64_MAX ? 1 : 0);
    const auto start = Clock::now();
    auto result = index.Search(std::span(queries).subspan(q * dimension, dimension), options);
    latencies.push_back(SecondsSince(start) * 1000.0);
    if (!result.ok()) Fail(result.status(), "search");
    std::vector<VectorMatch> matches;
    for (const auto& match : result.value()) {
      if (match.label != exclude[q] && matches.size() < kRecallK) matches.push_back(match);
    }
    for (const auto& match : matches) found[q].push_back(match.label);
    if (defines_truth) truth->push_back(std::move(matches));
  }
  return {Recall(*truth, found), Percentile(latencies, 0.50), Percentile(latencies, 0.99)};
}

std::unique_ptr<VectorIndex> Build(const VectorIndexOptions& options, const std::vector<uint64_t>& labels,
                                   const std::vector<float>& vectors, double* seconds) {
  auto index = VectorIndex::Create(options);
  if (!index.ok()) Fail(index.status(), "create");
  const auto start = Clock::now();
  on::Status status = index.value()->UpsertBatch(labels, vectors);
  *seconds = SecondsSince(start);
  if (!status.ok()) Fail(status, "build");
  return std::move(index).value();
}

void Report(const char* name, const RunResult& result, const char* note) {
  std::printf("| %s | %.4f | %.3f ms | %.3f ms | %s |\n", name, result.recall, result.p50_ms,
              result.p99_ms, note);
}

// Runs the same vectors and queries through pgvector with the graph's M and ef_construction and
// prints its recall against `truth`, its latencies and its ratios to hnswlib's `hnswlib_results`
// (one per kEfSearchValues entry).
void ComparePgvector(const std::vector<float>& vectors, const std::vector<float>& queries,
                     const std::vector<uint64_t>& exclude, uint32_t dimension,
                     const VectorIndexOptions& graph_options, size_t threads, double graph_build_seconds,
                     const std::vector<RunResult>& hnswlib_results,
                     const std::vector<std::vector<VectorMatch>>& truth) {
  on::bench::PgvectorOptions options;
  options.url = postgres_url;
  options.hnsw_m = graph_options.hnsw_m;
  options.ef_construction = graph_options.ef_construction;
  options.build_processes = threads;
  auto report = on::bench::RunPgvector(options, vectors, queries, dimension, exclude, kRecallK, kEfSearchValues);
  if (!report.ok()) Fail(report.status(), "pgvector");

  const size_t count = vectors.size() / dimension;
  std::printf("\npgvector %s on PostgreSQL %s, same vectors and queries, one connection: COPY of %zu rows in "
              "%.2f s, ANALYZE in %.2f s, CREATE INDEX USING hnsw (m = %zu, ef_construction = %zu, "
              "maintenance_work_mem %s, up to %zu processes) in %.1f s (%.0f vectors/s); table %.1f MiB, "
              "index %.1f MiB\n",
              report->pgvector_version.c_str(), report->server_version.c_str(), count, report->copy_seconds,
              report->analyze_seconds, options.hnsw_m, options.ef_construction,
              options.maintenance_work_mem.c_str(), options.build_processes, report->index_seconds,
              count / report->index_seconds, report->table_bytes / 1048576.0, report->index_bytes / 1048576.0);
  std::printf("query plan%s:\n%s", report->seqscan_disabled ? " (after SET enable_seqscan = off)" : "",
              report->plan.c_str());
  std::printf("| search | recall@10 | p50 | p99 | pgvector/hnswlib recall | p50 | p99 |\n"
              "|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < report->passes.size(); ++i) {
    const auto& pass = report->passes[i];
    const RunResult pgvector{Recall(truth, pass.results), Percentile(pass.latencies_ms, 0.50),
                             Percentile(pass.latencies_ms, 0.99)};
    const RunResult& hnswlib = hnswlib_results[i];
    std::printf("| pgvector ef_search=%zu | %.4f | %.3f ms | %.3f ms | %.3f | %.2fx | %.2fx |\n", pass.ef_search,
                pgvector.recall, pgvector.p50_ms, pgvector.p99_ms, pgvector.recall / hnswlib.recall,
                pgvector.p50_ms / hnswlib.p50_ms, pgvector.p99_ms / hnswlib.p99_ms);
  }
  const double load_seconds = report->copy_seconds + report->analyze_seconds;
  std::printf("round trip of a prepared SELECT 1 on the same connection, p50: %.3f ms\n", report->round_trip_p50_ms);
  std::printf("build pgvector/hnswlib: index %.2fx (%.2f s / %.2f s), COPY, ANALYZE and index %.2fx\n",
              report->index_seconds / graph_build_seconds, report->index_seconds, graph_build_seconds,
              (load_seconds + report->index_seconds) / graph_build_seconds);
}

void RunAll(const std::vector<float>& vectors, const std::vector<float>& queries,
            const std::vector<uint64_t>& exclude, uint32_t dimension, const std::string& model,
            size_t threads, size_t ef_construction, const std::filesystem::path& save_directory) {
  const size_t count = vectors.size() / dimension;
  std::vector<uint64_t> labels(count);
  for (size_t i = 0; i < count; ++i) labels[i] = i;

  VectorIndexOptions exact_options;
  exact_options.model = model;
  exact_options.dimension = dimension;
  exact_options.exact_threshold = count;  // never builds a graph
  double exact_build = 0;
  auto exact = Build(exact_options, labels, vectors, &exact_build);

  VectorIndexOptions graph_options = exact_options;
  graph_options.exact_threshold = 0;  // always a graph, whatever the size
  graph_options.build_threads = threads;
  if (ef_construction != 0) graph_options.ef_construction = ef_construction;
  double graph_build = 0;
  auto graph = Build(graph_options, labels, vectors, &graph_build);

  std::printf("vectors: %zu x %u, queries: %zu, graph M=%zu ef_construction=%zu, built on %zu "
              "threads in %.1f s (%.0f vectors/s); exact array filled in %.2f s\n",
              count, dimension, queries.size() / dimension, graph_options.hnsw_m,
              graph_options.ef_construction, threads, graph_build, count / graph_build, exact_build);
  std::printf("| search | recall@10 | p50 | p99 | note |\n|---|---|---|---|---|\n");

  std::vector<std::vector<VectorMatch>> truth;
  Report("exact scan", Measure(*exact, queries, dimension, exclude, {}, &truth), "defines the truth");
  std::vector<RunResult> hnswlib_results;
  for (const size_t ef : kEfSearchValues) {
    VectorSearchOptions options;
    options.ef_search = ef;
    const std::string name = "HNSW ef_search=" + std::to_string(ef);
    hnswlib_results.push_back(Measure(*graph, queries, dimension, exclude, options, &truth));
    Report(name.c_str(), hnswlib_results.back(), ef == graph_options.ef_search ? "default" : "");
  }

  if (!save_directory.empty()) {
    const auto path = save_directory / "bench-vector-index.bin";
    auto start = Clock::now();
    on::Status saved = graph->Save(path);
    if (!saved.ok()) Fail(saved, "save");
    const double save_seconds = SecondsSince(start);
    start = Clock::now();
    auto loaded = VectorIndex::Load(path, graph_options);
    if (!loaded.ok()) Fail(loaded.status(), "load");
    std::printf("graph file: %.1f MiB, saved (with fsync) in %.1f s, loaded and verified in %.1f s\n",
                std::filesystem::file_size(path) / 1048576.0, save_seconds, SecondsSince(start));
    std::filesystem::remove(path);
  }

  if (!postgres_url.empty()) {
    ComparePgvector(vectors, queries, exclude, dimension, graph_options, threads, graph_build, hnswlib_results, truth);
  }
}

int RunFile(int argc, char** argv) {
  if (argc < 5) return 2;
  const uint32_t dimension = static_cast<uint32_t>(std::stoul(argv[3]));
  const size_t threads = argc > 5 ? std::stoul(argv[5]) : 2;
  std::ifstream in(argv[2], std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  if (bytes.empty() || bytes.size() % (dimension * sizeof(float)) != 0) {
    std::fprintf(stderr, "%s: %zu bytes is not a whole number of %u-float vectors\n", argv[2],
                 bytes.size(), dimension);
    return 1;
  }
  std::vector<float> vectors(bytes.size() / sizeof(float));
  std::memcpy(vectors.data(), bytes.data(), bytes.size());
  std::vector<uint64_t> exclude(vectors.size() / dimension);
  for (size_t i = 0; i < exclude.size(); ++i) exclude[i] = i;
  RunAll(vectors, vectors, exclude, dimension, argv[4], threads, 0, {});
  return 0;
}

int RunSynthetic(int argc, char** argv) {
  if (argc < 6) return 2;
  const size_t count = std::stoul(argv[2]);
  const uint32_t dimension = static_cast<uint32_t>(std::stoul(argv[3]));
  const size_t clusters = std::stoul(argv[4]);
  const size_t query_count = std::stoul(argv[5]);
  const size_t threads = argc > 6 ? std::stoul(argv[6]) : 2;
  const size_t ef_construction = argc > 7 ? std::stoul(argv[7]) : 0;
  const std::filesystem::path save_directory = argc > 8 ? argv[8] : "";

  ClusteredGenerator generator(dimension, clusters, 20261204);
  std::vector<float> vectors;
  vectors.reserve(count * dimension);
  for (size_t i = 0; i < count; ++i) generator.Append(vectors);
  std::vector<float> queries;
  for (size_t i = 0; i < query_count; ++i) generator.Append(queries);
  std::printf("synthetic: %zu clusters of rank %zu, spread %.2f, noise %.2f, seed 20261204\n",
              clusters, ClusteredGenerator::kClusterRank, ClusteredGenerator::kSpread,
              ClusteredGenerator::kNoise);
  RunAll(vectors, queries, std::vector<uint64_t>(query_count, UINT64_MAX), dimension,
         "synthetic", threads, ef_construction, save_directory);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 && std::string(argv[1]) == "--postgres") {
    postgres_url = argv[2];
    argv[2] = argv[0];
    argc -= 2;
    argv += 2;
  }
  int code = 2;
  if (argc > 1 && std::string(argv[1]) == "file") code = RunFile(argc, argv);
  if (argc > 1 && std::string(argv[1]) == "synthetic") code = RunSynthetic(argc, argv);
  if (code == 2) {
    std::fprintf(stderr,
                 "usage: %s [--postgres <URL>] file <float32 file> <dimension> <model> [threads]\n"
                 "       %s [--postgres <URL>] synthetic <count> <dimension> <clusters> <queries> [threads] "
                 "[ef_construction] [save directory]\n",
                 argv[0], argv[0]);
  }
  return code;
}
