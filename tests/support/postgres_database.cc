#include "support/postgres_database.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <random>

namespace on::test {
namespace {

std::string RandomName() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device device;
  std::mt19937_64 generator(device());
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string name = "t_";
  for (int i = 0; i < 16; ++i) name += kAlphabet[pick(generator)];
  return name;
}

// Replaces the database name at the end of a postgresql:// URL, keeping any ?parameters.
std::string WithDatabase(const std::string& url, const std::string& database) {
  const size_t query = url.find('?');
  const std::string base = url.substr(0, query);
  const std::string parameters = query == std::string::npos ? "" : url.substr(query);
  const size_t authority = base.find("://");
  const size_t slash = base.find('/', authority == std::string::npos ? 0 : authority + 3);
  return (slash == std::string::npos ? base : base.substr(0, slash)) + "/" + database + parameters;
}

}  // namespace

std::optional<std::string> PostgresServerUrl() {
  const char* url = std::getenv("OPEN_NOTEBOOK_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

std::string PostgresDatabase::ExecuteOnServer(const std::string& sql) {
  auto server = PostgresServerUrl();
  if (!server) return "OPEN_NOTEBOOK_TEST_POSTGRES_URL is not set";
  PGconn* connection = PQconnectdb(server->c_str());
  std::string error;
  if (PQstatus(connection) != CONNECTION_OK) {
    error = PQerrorMessage(connection);
  } else {
    PGresult* result = PQexec(connection, sql.c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK && PQresultStatus(result) != PGRES_TUPLES_OK) {
      error = PQresultErrorMessage(result);
    }
    PQclear(result);
  }
  PQfinish(connection);
  return error;
}

PostgresDatabase::PostgresDatabase() : name_(RandomName()) {
  auto server = PostgresServerUrl();
  if (!server) {
    error_ = kPostgresSkipMessage;
    return;
  }
  url_ = WithDatabase(*server, name_);
  // The name is generated above from letters and digits, so it is safe inside the DDL, which
  // cannot take it as a parameter.
  error_ = ExecuteOnServer("CREATE DATABASE " + name_);
}

PostgresDatabase::~PostgresDatabase() {
  if (url_.empty()) return;
  // FORCE ends connections that a failed test left open (PostgreSQL 13 and later).
  (void)ExecuteOnServer("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

}  // namespace on::test
