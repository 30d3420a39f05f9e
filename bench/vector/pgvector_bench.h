// Runs the vector benchmark's vectors and queries through a pgvector HNSW index in PostgreSQL, over
// one libpq connection, so bench_vector can compare it with hnswlib on identical input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"

namespace on::bench {

struct PgvectorOptions {
  // A libpq connection URI naming the database that gets the scratch table.
  std::string url;
  size_t hnsw_m = 16;
  size_t ef_construction = 200;
  // Processes that build the index: the leader plus max_parallel_maintenance_workers.
  size_t build_processes = 2;
  // Seconds any one statement (COPY, CREATE INDEX, a query) may run before the server cancels it.
  int statement_timeout_s = 3600;
  // Passed to SET maintenance_work_mem. pgvector builds the graph in this memory and, once it no
  // longer fits, builds the rest on a much slower path (it prints a NOTICE then).
  std::string maintenance_work_mem = "2GB";
};

// Results and client-side latencies of one pass over the queries at one hnsw.ef_search.
struct PgvectorPass {
  size_t ef_search = 0;
  // Per query: the returned ids in rank order, with the query's own id removed when excluded.
  std::vector<std::vector<uint64_t>> results;
  std::vector<double> latencies_ms;
};

struct PgvectorReport {
  std::string server_version;
  std::string pgvector_version;
  double copy_seconds = 0;     // COPY FROM STDIN of every vector
  double analyze_seconds = 0;  // ANALYZE of the table
  double index_seconds = 0;    // CREATE INDEX ... USING hnsw
  int64_t table_bytes = 0;
  int64_t index_bytes = 0;
  // The EXPLAIN of the query statement, which names the HNSW index.
  std::string plan;
  // True when the planner preferred a sequential scan until enable_seqscan was turned off.
  bool seqscan_disabled = false;
  std::vector<PgvectorPass> passes;
  // Median client-side time of a prepared `SELECT 1` on the same connection: the share of each
  // query's latency that is protocol and loopback round trip rather than index search.
  double round_trip_p50_ms = 0;
};

// Loads `vectors` (row i gets id i) into a scratch table, builds the HNSW index, then runs every
// query once untimed to warm the caches and once per value of `ef_search_values`, timed, and
// times a prepared `SELECT 1`. `exclude` has one id per query to drop from its results
// (UINT64_MAX for none). Each query requests `k` rows, plus one when it has an id to exclude. The
// table is dropped on return, also after an error, unless the connection itself failed. The next
// run drops a table left behind. Fails when the query plan does not use the HNSW index.
Result<PgvectorReport> RunPgvector(const PgvectorOptions& options, std::span<const float> vectors,
                                   std::span<const float> queries, uint32_t dimension,
                                   std::span<const uint64_t> exclude, size_t k,
                                   std::span<const size_t> ef_search_values);

}  // namespace on::bench
