#include "pgvector_bench.h"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

namespace on::bench {
namespace {

using Clock = std::chrono::steady_clock;

// A fixed name, so a run killed by its time limit leaves at most this one table behind, and the
// next run drops it. Two runs against the same database at once would collide.
constexpr const char* kTable = "bench_vector_scratch";
constexpr const char* kIndex = "bench_vector_scratch_hnsw";
constexpr const char* kQueryStatement = "bench_vector_query";

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

struct ConnectionDeleter {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
using ConnectionPtr = std::unique_ptr<PGconn, ConnectionDeleter>;

std::string TrimmedError(PGconn* connection) {
  std::string message = PQerrorMessage(connection);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

// pgvector reports a graph that outgrew maintenance_work_mem as a NOTICE, which changes the build
// time a lot, so notices go to stderr where the benchmark's reader sees them.
void PrintNotice(void* /*context*/, const char* message) { std::fprintf(stderr, "PostgreSQL: %s", message); }

Result<ResultPtr> Execute(PGconn* connection, const std::string& sql) {
  ResultPtr result(PQexec(connection, sql.c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return DatabaseError(sql + ": " + TrimmedError(connection));
  }
  return result;
}

// Formats a vector in pgvector's text form. Nine significant digits (FLT_DECIMAL_DIG) identify
// every float32, so the server stores the same bits that hnswlib indexed.
std::string VectorLiteral(std::span<const float> vector) {
  std::string text = "[";
  char number[32];
  for (size_t i = 0; i < vector.size(); ++i) {
    if (i > 0) text += ',';
    std::snprintf(number, sizeof(number), "%.9g", static_cast<double>(vector[i]));
    text += number;
  }
  text += ']';
  return text;
}

Status CopyVectors(PGconn* connection, std::span<const float> vectors, uint32_t dimension) {
  ResultPtr started(PQexec(connection, (std::string("COPY ") + kTable + " (id, v) FROM STDIN").c_str()));
  if (PQresultStatus(started.get()) != PGRES_COPY_IN) return DatabaseError("COPY: " + TrimmedError(connection));

  // Rows go out in batches of about 1 MiB, so libpq does not send one message per row.
  constexpr size_t kBatchBytes = 1 << 20;
  std::string batch;
  const size_t count = vectors.size() / dimension;
  for (size_t row = 0; row < count; ++row) {
    batch += std::to_string(row);
    batch += '\t';
    batch += VectorLiteral(vectors.subspan(row * dimension, dimension));
    batch += '\n';
    if (batch.size() >= kBatchBytes || row + 1 == count) {
      if (PQputCopyData(connection, batch.data(), static_cast<int>(batch.size())) != 1) {
        return DatabaseError("COPY: sending rows failed: " + TrimmedError(connection));
      }
      batch.clear();
    }
  }
  if (PQputCopyEnd(connection, nullptr) != 1) return DatabaseError("COPY: ending failed: " + TrimmedError(connection));
  ResultPtr finished(PQgetResult(connection));
  if (PQresultStatus(finished.get()) != PGRES_COMMAND_OK) return DatabaseError("COPY: " + TrimmedError(connection));
  while (ResultPtr(PQgetResult(connection)) != nullptr) {
  }
  return Status::Ok();
}

Result<std::string> ExplainQuery(PGconn* connection, const std::string& literal) {
  // EXPLAIN EXECUTE cannot take a bound parameter, so the vector goes in as a quoted literal.
  char* quoted = PQescapeLiteral(connection, literal.c_str(), literal.size());
  if (quoted == nullptr) return DatabaseError("quoting the query vector failed: " + TrimmedError(connection));
  const std::string explain = std::string("EXPLAIN EXECUTE ") + kQueryStatement + "(" + quoted + ")";
  PQfreemem(quoted);
  ON_ASSIGN_OR_RETURN(auto result, Execute(connection, explain));
  // The plan repeats the query vector (in the server's own float format), which would fill the
  // report with hundreds of numbers.
  std::string plan;
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    std::string line = PQgetvalue(result.get(), row, 0);
    const size_t open = line.find("'[");
    const size_t close = open == std::string::npos ? open : line.find("]'", open);
    if (close != std::string::npos) line.replace(open + 1, close - open, "[query vector]");
    plan += line;
    plan += '\n';
  }
  return plan;
}

// Checks that the prepared query runs as an index scan on the HNSW index. A small table may get a
// sequential scan and sort instead, which would measure exact search, so then enable_seqscan is
// turned off and the plan checked again.
Status RequireIndexScan(PGconn* connection, const std::string& literal, PgvectorReport& report) {
  const std::string expected = std::string("Index Scan using ") + kIndex;
  ON_ASSIGN_OR_RETURN(report.plan, ExplainQuery(connection, literal));
  if (report.plan.find(expected) != std::string::npos) return Status::Ok();

  ON_RETURN_IF_ERROR(Execute(connection, "SET enable_seqscan = off").status());
  report.seqscan_disabled = true;
  ON_ASSIGN_OR_RETURN(report.plan, ExplainQuery(connection, literal));
  if (report.plan.find(expected) != std::string::npos) return Status::Ok();
  return DatabaseError("the query plan does not use the HNSW index " + std::string(kIndex) + ":\n" + report.plan);
}

Result<double> MeasureRoundTrip(PGconn* connection, size_t count) {
  ResultPtr prepared(PQprepare(connection, "bench_vector_round_trip", "SELECT 1", 0, nullptr));
  if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
    return DatabaseError("preparing SELECT 1: " + TrimmedError(connection));
  }
  std::vector<double> latencies_ms;
  latencies_ms.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const auto start = Clock::now();
    ResultPtr result(PQexecPrepared(connection, "bench_vector_round_trip", 0, nullptr, nullptr, nullptr, 0));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return DatabaseError("SELECT 1: " + TrimmedError(connection));
    latencies_ms.push_back(SecondsSince(start) * 1000.0);
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  return latencies_ms[latencies_ms.size() / 2];
}

Result<PgvectorPass> RunQueries(PGconn* connection, const std::vector<std::string>& literals,
                                std::span<const uint64_t> exclude, size_t k, size_t ef_search) {
  ON_RETURN_IF_ERROR(Execute(connection, "SET hnsw.ef_search = " + std::to_string(ef_search)).status());
  PgvectorPass pass;
  pass.ef_search = ef_search;
  pass.results.reserve(literals.size());
  pass.latencies_ms.reserve(literals.size());
  for (size_t q = 0; q < literals.size(); ++q) {
    const char* values[] = {literals[q].c_str()};
    const auto start = Clock::now();
    ResultPtr result(PQexecPrepared(connection, kQueryStatement, 1, values, nullptr, nullptr, 0));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      return DatabaseError("query " + std::to_string(q) + ": " + TrimmedError(connection));
    }
    std::vector<uint64_t> ids;
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      const uint64_t id = std::strtoull(PQgetvalue(result.get(), row, 0), nullptr, 10);
      if (id != exclude[q] && ids.size() < k) ids.push_back(id);
    }
    pass.latencies_ms.push_back(SecondsSince(start) * 1000.0);
    pass.results.push_back(std::move(ids));
  }
  return pass;
}

Result<PgvectorReport> LoadAndQuery(PGconn* connection, const PgvectorOptions& options,
                                    std::span<const float> vectors, std::span<const float> queries,
                                    uint32_t dimension, std::span<const uint64_t> exclude, size_t k,
                                    std::span<const size_t> ef_search_values) {
  PgvectorReport report;
  ON_ASSIGN_OR_RETURN(auto version, Execute(connection, "SHOW server_version"));
  report.server_version = PQgetvalue(version.get(), 0, 0);
  ON_ASSIGN_OR_RETURN(auto extension,
                      Execute(connection, "SELECT extversion FROM pg_extension WHERE extname = 'vector'"));
  report.pgvector_version = PQntuples(extension.get()) == 1 ? PQgetvalue(extension.get(), 0, 0) : "unknown";

  ON_RETURN_IF_ERROR(Execute(connection, std::string("CREATE TABLE ") + kTable + " (id bigint NOT NULL, v vector(" +
                                             std::to_string(dimension) + ") NOT NULL)")
                         .status());
  auto start = Clock::now();
  ON_RETURN_IF_ERROR(CopyVectors(connection, vectors, dimension));
  report.copy_seconds = SecondsSince(start);
  start = Clock::now();
  ON_RETURN_IF_ERROR(Execute(connection, std::string("ANALYZE ") + kTable).status());
  report.analyze_seconds = SecondsSince(start);

  // At debug1, the server reports how many parallel workers the index build got.
  ON_RETURN_IF_ERROR(Execute(connection, "SET client_min_messages = debug1").status());
  start = Clock::now();
  ON_RETURN_IF_ERROR(Execute(connection, std::string("CREATE INDEX ") + kIndex + " ON " + kTable +
                                             " USING hnsw (v vector_cosine_ops) WITH (m = " +
                                             std::to_string(options.hnsw_m) +
                                             ", ef_construction = " + std::to_string(options.ef_construction) + ")")
                         .status());
  report.index_seconds = SecondsSince(start);
  ON_RETURN_IF_ERROR(Execute(connection, "RESET client_min_messages").status());
  ON_ASSIGN_OR_RETURN(auto sizes, Execute(connection, std::string("SELECT pg_table_size('") + kTable +
                                                          "'), pg_relation_size('" + kIndex + "')"));
  report.table_bytes = std::strtoll(PQgetvalue(sizes.get(), 0, 0), nullptr, 10);
  report.index_bytes = std::strtoll(PQgetvalue(sizes.get(), 0, 1), nullptr, 10);

  // The query literals are formatted before timing, so latency counts the round trip and the
  // server's work, not the client's float printing.
  const size_t query_count = queries.size() / dimension;
  std::vector<std::string> literals;
  literals.reserve(query_count);
  for (size_t q = 0; q < query_count; ++q) literals.push_back(VectorLiteral(queries.subspan(q * dimension, dimension)));

  const size_t limit = k + (exclude.empty() || exclude[0] == UINT64_MAX ? 0 : 1);
  const std::string query = std::string("SELECT id FROM ") + kTable + " ORDER BY v <=> $1::vector LIMIT " +
                            std::to_string(limit);
  ResultPtr prepared(PQprepare(connection, kQueryStatement, query.c_str(), 1, nullptr));
  if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
    return DatabaseError("preparing " + query + ": " + TrimmedError(connection));
  }
  ON_RETURN_IF_ERROR(RequireIndexScan(connection, literals.front(), report));

  // One untimed pass reads the index into PostgreSQL's buffers or the page cache, as hnswlib's
  // graph is in memory from the start.
  ON_RETURN_IF_ERROR(RunQueries(connection, literals, exclude, k, 128).status());
  ON_ASSIGN_OR_RETURN(report.round_trip_p50_ms, MeasureRoundTrip(connection, literals.size()));
  for (const size_t ef_search : ef_search_values) {
    ON_ASSIGN_OR_RETURN(auto pass, RunQueries(connection, literals, exclude, k, ef_search));
    report.passes.push_back(std::move(pass));
  }
  return report;
}

}  // namespace

Result<PgvectorReport> RunPgvector(const PgvectorOptions& options, std::span<const float> vectors,
                                   std::span<const float> queries, uint32_t dimension,
                                   std::span<const uint64_t> exclude, size_t k,
                                   std::span<const size_t> ef_search_values) {
  if (queries.empty() || exclude.size() != queries.size() / dimension) {
    return InvalidInput("pgvector run needs at least one query and one exclude id per query");
  }
  const char* keywords[] = {"dbname", "connect_timeout", nullptr};
  const char* values[] = {options.url.c_str(), "10", nullptr};
  ConnectionPtr connection(PQconnectdbParams(keywords, values, 1));
  if (connection == nullptr || PQstatus(connection.get()) != CONNECTION_OK) {
    return Status(ErrorCode::kUnavailable,
                  "cannot connect to PostgreSQL: " + (connection ? TrimmedError(connection.get()) : "out of memory"));
  }
  PQsetNoticeProcessor(connection.get(), PrintNotice, nullptr);

  // client_connection_check_interval makes the server stop a long CREATE INDEX soon after this
  // process dies (for example when run.sh's time limit kills it).
  const std::string session =
      "SET statement_timeout = '" + std::to_string(options.statement_timeout_s) + "s'; " +
      "SET client_connection_check_interval = '5s'; " +
      "SET maintenance_work_mem = '" + options.maintenance_work_mem + "'; " +
      "SET max_parallel_maintenance_workers = " +
      std::to_string(options.build_processes > 0 ? options.build_processes - 1 : 0) + "; " +
      "CREATE EXTENSION IF NOT EXISTS vector; " +
      "DROP TABLE IF EXISTS " + kTable;
  ON_RETURN_IF_ERROR(Execute(connection.get(), session).status());

  auto report = LoadAndQuery(connection.get(), options, vectors, queries, dimension, exclude, k, ef_search_values);
  const Status dropped = Execute(connection.get(), std::string("DROP TABLE IF EXISTS ") + kTable).status();
  if (!report.ok()) return report.status();
  if (!dropped.ok()) return dropped;
  return report;
}

}  // namespace on::bench
