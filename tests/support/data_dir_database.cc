#include "support/data_dir_database.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include "support/test_backend.h"

namespace on::test {
namespace {

SqlResult QuerySqlite(const std::filesystem::path& file, const std::string& sql, const std::vector<std::string>& params) {
  SqlResult result;
  sqlite3* db = nullptr;
  sqlite3_stmt* statement = nullptr;
  const bool opened = sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK;
  if (opened) sqlite3_busy_timeout(db, 10000);  // the server may be writing
  if (!opened) {
    result.error = "cannot open " + file.string() + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory");
  } else if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    result.error = sqlite3_errmsg(db);
  } else {
    for (size_t i = 0; i < params.size(); ++i) {
      sqlite3_bind_text(statement, static_cast<int>(i + 1), params[i].c_str(), -1, SQLITE_TRANSIENT);
    }
    int step;
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
      SqlRow row;
      for (int column = 0; column < sqlite3_column_count(statement); ++column) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
        row.push_back(text == nullptr ? std::nullopt : std::optional<std::string>(text));
      }
      result.rows.push_back(std::move(row));
    }
    if (step != SQLITE_DONE) result.error = sqlite3_errmsg(db);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return result;
}

SqlResult QueryPostgres(const std::string& url, const std::string& sql, const std::vector<std::string>& params) {
  SqlResult result;
  PGconn* connection = PQconnectdb(url.c_str());
  if (PQstatus(connection) != CONNECTION_OK) {
    result.error = PQerrorMessage(connection);
    PQfinish(connection);
    return result;
  }
  std::vector<const char*> values;
  for (const std::string& param : params) values.push_back(param.c_str());
  PGresult* rows = PQexecParams(connection, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                nullptr, nullptr, 0);
  if (PQresultStatus(rows) != PGRES_TUPLES_OK && PQresultStatus(rows) != PGRES_COMMAND_OK) {
    result.error = PQresultErrorMessage(rows);
  } else {
    for (int row = 0; row < PQntuples(rows); ++row) {
      SqlRow values_of_row;
      for (int column = 0; column < PQnfields(rows); ++column) {
        values_of_row.push_back(PQgetisnull(rows, row, column) ? std::nullopt
                                                               : std::optional<std::string>(PQgetvalue(rows, row, column)));
      }
      result.rows.push_back(std::move(values_of_row));
    }
  }
  PQclear(rows);
  PQfinish(connection);
  return result;
}

}  // namespace

SqlResult QueryDataDir(const std::filesystem::path& data_dir, const std::string& sql,
                       const std::vector<std::string>& params) {
  if (!TestBackendIsPostgres()) return QuerySqlite(data_dir / "open-notebook.db", sql, params);
  SqlResult result;
  const std::string url = PostgresUrlForDataDir(data_dir, &result.error);
  if (url.empty()) return result;
  return QueryPostgres(url, sql, params);
}

}  // namespace on::test
