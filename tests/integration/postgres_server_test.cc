// The PostgreSQL server that CI starts for the PostgreSQL backend (scripts/test-postgres.sh):
// version 15 on 127.0.0.1, where pgvector's HNSW index returns nearest neighbours.
// Skipped when OPEN_NOTEBOOK_TEST_POSTGRES_URL is not set, as on a developer machine without
// the cluster; .ci/run always sets it.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace on {
namespace {

struct ConnectionCloser {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;
using QueryResult = std::unique_ptr<PGresult, ResultClearer>;

Connection ConnectOrSkip() {
  const char* url = std::getenv("OPEN_NOTEBOOK_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') return nullptr;
  return Connection(PQconnectdb(url));
}

QueryResult Query(PGconn* connection, const std::string& sql) { return QueryResult(PQexec(connection, sql.c_str())); }

// The first column of every row, as text.
std::vector<std::string> Column(PGresult* result) {
  std::vector<std::string> values;
  for (int row = 0; row < PQntuples(result); ++row) values.emplace_back(PQgetvalue(result, row, 0));
  return values;
}

TEST(PostgresServer, VersionAndPgvectorHnsw) {
  Connection connection = ConnectOrSkip();
  if (!connection) GTEST_SKIP() << "OPEN_NOTEBOOK_TEST_POSTGRES_URL is not set; .ci/run starts a cluster with "
                                   "scripts/test-postgres.sh and sets it";
  ASSERT_EQ(PQstatus(connection.get()), CONNECTION_OK) << PQerrorMessage(connection.get());
  EXPECT_EQ(PQserverVersion(connection.get()) / 10000, 15);

  // A temporary table is private to this session, so tests running in parallel never share it.
  QueryResult created = Query(connection.get(),
                            "CREATE TEMP TABLE passage (id text PRIMARY KEY, embedding vector(3));"
                            "INSERT INTO passage VALUES ('east', '[1,0,0]'), ('north-east', '[0.8,0.6,0]'),"
                            " ('north', '[0,1,0]'), ('up', '[0,0,1]');"
                            "CREATE INDEX ON passage USING hnsw (embedding vector_cosine_ops);"
                            "SET enable_seqscan = off;");
  ASSERT_EQ(PQresultStatus(created.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(created.get());

  const std::string nearest = "SELECT id FROM passage ORDER BY embedding <=> '[0.9,0.1,0]' LIMIT 3";
  QueryResult plan = Query(connection.get(), "EXPLAIN " + nearest);
  ASSERT_EQ(PQresultStatus(plan.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(plan.get());
  std::string plan_text;
  for (const std::string& line : Column(plan.get())) plan_text += line + "\n";
  EXPECT_NE(plan_text.find("Index Scan"), std::string::npos) << plan_text;

  QueryResult found = Query(connection.get(), nearest);
  ASSERT_EQ(PQresultStatus(found.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(found.get());
  EXPECT_EQ(Column(found.get()), (std::vector<std::string>{"east", "north-east", "north"}));
}

}  // namespace
}  // namespace on
