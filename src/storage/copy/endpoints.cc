#include "storage/copy/endpoints.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>

#include "search/tokenizer.h"
#include "storage/postgres/postgres_storage.h"
#include "storage/postgres/tsvector.h"

namespace on::storage::dbcopy {
namespace {

static_assert(sizeof(float) == 4, "vectors are stored as 32-bit floats");

std::vector<float> FloatsOf(std::string_view bytes) {
  std::vector<float> floats(bytes.size() / sizeof(float));
  std::memcpy(floats.data(), bytes.data(), floats.size() * sizeof(float));
  return floats;
}

std::string BytesOf(const std::vector<float>& floats) {
  return std::string(reinterpret_cast<const char*>(floats.data()), floats.size() * sizeof(float));
}

Result<int64_t> ParseInt(const std::string& text, const std::string& table, const std::string& column) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return InvalidInput("column " + table + "." + column + " holds '" + text + "', which is not an integer");
  }
  return value;
}

std::string ColumnList(const Table& table) {
  std::string list;
  for (const Column& column : table.columns) list += (list.empty() ? "" : ", ") + column.name;
  return list;
}

// --- SQLite ---

class SqliteReader final : public RowReader {
 public:
  SqliteReader(sqlite::Statement statement, const Table& table) : statement_(std::move(statement)), table_(table) {}

  Result<bool> Next(Row& row) override {
    ON_ASSIGN_OR_RETURN(bool has_row, statement_.Step());
    if (!has_row) return false;
    row.assign(table_.columns.size(), std::nullopt);
    for (size_t i = 0; i < table_.columns.size(); ++i) {
      const int column = static_cast<int>(i);
      if (statement_.IsNull(column)) continue;
      switch (table_.columns[i].kind) {
        case Kind::kText:
          row[i] = statement_.Text(column);
          break;
        case Kind::kInt:
        case Kind::kBool:
          row[i] = std::to_string(statement_.Int(column));
          break;
        case Kind::kVector:
          row[i] = std::string(statement_.Blob(column));
          break;
      }
    }
    return true;
  }

 private:
  sqlite::Statement statement_;
  const Table& table_;
};

class SqliteEndpoint final : public Endpoint {
 public:
  explicit SqliteEndpoint(std::unique_ptr<sqlite::Connection> db) : db_(std::move(db)) {}

  Result<std::map<std::string, std::set<std::string>>> ReadSchema() override {
    ON_ASSIGN_OR_RETURN(auto tables, db_->Prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                                                  "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"));
    std::vector<std::string> names;
    std::vector<std::string> virtual_tables;
    for (;;) {
      ON_ASSIGN_OR_RETURN(bool row, tables.Step());
      if (!row) break;
      const std::string sql = tables.Text(1);
      (sql.starts_with("CREATE VIRTUAL TABLE") ? virtual_tables : names).push_back(tables.Text(0));
    }
    tables.Reset();

    std::map<std::string, std::set<std::string>> schema;
    for (const std::string& name : names) {
      // An FTS5 table keeps its index in shadow tables named after it (chunk_fts_data, ...).
      bool shadow = false;
      for (const std::string& owner : virtual_tables) shadow = shadow || name.starts_with(owner + "_");
      if (shadow) continue;
      ON_ASSIGN_OR_RETURN(auto columns, db_->Prepare("SELECT name FROM pragma_table_info(?1)"));
      columns.Bind(1, name);
      std::set<std::string>& set = schema[name];
      for (;;) {
        ON_ASSIGN_OR_RETURN(bool row, columns.Step());
        if (!row) break;
        set.insert(columns.Text(0));
      }
    }
    return schema;
  }

  std::set<std::string> BackendColumns(const Table& /*table*/) const override { return {}; }

  Status BeginSnapshot() override {
    ON_RETURN_IF_ERROR(db_->Execute("BEGIN"));
    // A deferred transaction takes its snapshot at the first read.
    return db_->Execute("SELECT count(*) FROM sqlite_master");
  }
  Status BeginWrite() override { return db_->Execute("BEGIN IMMEDIATE"); }
  Status Commit() override { return db_->Execute("COMMIT"); }
  void Rollback() override { (void)db_->Execute("ROLLBACK"); }

  Result<std::unique_ptr<RowReader>> Scan(const Table& table) override {
    std::string order;
    for (const std::string& key : table.primary_key) order += (order.empty() ? "" : ", ") + key;
    ON_ASSIGN_OR_RETURN(auto statement,
                        db_->Prepare("SELECT " + ColumnList(table) + " FROM " + table.name + " ORDER BY " + order));
    return std::unique_ptr<RowReader>(new SqliteReader(std::move(statement), table));
  }

  Status Insert(const Table& table, const Row& row) override {
    std::string placeholders;
    for (size_t i = 0; i < table.columns.size(); ++i) placeholders += (i == 0 ? "?" : ", ?") + std::to_string(i + 1);
    ON_ASSIGN_OR_RETURN(auto insert, db_->Prepare("INSERT INTO " + table.name + " (" + ColumnList(table) +
                                                  ") VALUES (" + placeholders + ")"));
    for (size_t i = 0; i < table.columns.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const Value& value = row[i];
      if (!value) {
        insert.BindNull(index);
        continue;
      }
      switch (table.columns[i].kind) {
        case Kind::kText:
          insert.Bind(index, *value);
          break;
        case Kind::kInt:
        case Kind::kBool: {
          ON_ASSIGN_OR_RETURN(int64_t number, ParseInt(*value, table.name, table.columns[i].name));
          insert.Bind(index, number);
          break;
        }
        case Kind::kVector:
          insert.BindBlob(index, value->data(), value->size());
          break;
      }
    }
    return insert.Run();
  }

  Status FlushInserts() override { return Status::Ok(); }

  Status DeleteAll(const Table& table) override { return db_->Execute("DELETE FROM " + table.name); }

  Result<int64_t> KeyCounter(const Table& table) override {
    ON_ASSIGN_OR_RETURN(auto largest, db_->Prepare("SELECT coalesce(max(" + table.generated_key + "), 0) FROM " +
                                                   table.name));
    ON_RETURN_IF_ERROR(largest.Step().status());
    int64_t counter = largest.Int(0);
    largest.Reset();
    if (table.sqlite_autoincrement) {
      ON_ASSIGN_OR_RETURN(auto sequence, db_->Prepare("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = ?1"));
      sequence.Bind(1, table.name);
      ON_RETURN_IF_ERROR(sequence.Step().status());
      counter = std::max(counter, sequence.Int(0));
    }
    return counter;
  }

  Status RaiseKeyCounter(const Table& table, int64_t counter) override {
    // Without AUTOINCREMENT SQLite assigns the largest id plus one and keeps no counter.
    if (!table.sqlite_autoincrement || counter <= 0) return Status::Ok();
    ON_ASSIGN_OR_RETURN(auto update, db_->Prepare("UPDATE sqlite_sequence SET seq = ?2 WHERE name = ?1 AND seq < ?2"));
    update.Bind(1, table.name).Bind(2, counter);
    ON_RETURN_IF_ERROR(update.Run());
    ON_ASSIGN_OR_RETURN(auto insert, db_->Prepare("INSERT INTO sqlite_sequence (name, seq) SELECT ?1, ?2 "
                                                  "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?1)"));
    insert.Bind(1, table.name).Bind(2, counter);
    return insert.Run();
  }

  // The FTS5 tables were filled by the triggers of each insert.
  Status FinishWrite() override { return Status::Ok(); }

 private:
  std::unique_ptr<sqlite::Connection> db_;
};

// --- PostgreSQL ---

class PostgresReader final : public RowReader {
 public:
  PostgresReader(postgres::Connection& db, std::string cursor, const Table& table)
      : db_(db), cursor_(std::move(cursor)), table_(table) {}
  ~PostgresReader() override { (void)db_.Execute("CLOSE " + cursor_); }

  Result<bool> Next(Row& row) override {
    if (!rows_ || next_ >= rows_->size()) {
      if (done_) return false;
      ON_ASSIGN_OR_RETURN(auto fetched, db_.Query("FETCH " + std::to_string(table_.fetch_rows) + " FROM " + cursor_));
      rows_.emplace(std::move(fetched));
      next_ = 0;
      done_ = rows_->size() < table_.fetch_rows;
      if (rows_->empty()) return false;
    }
    row.assign(table_.columns.size(), std::nullopt);
    for (size_t i = 0; i < table_.columns.size(); ++i) {
      const int column = static_cast<int>(i);
      if (rows_->IsNull(next_, column)) continue;
      row[i] = table_.columns[i].kind == Kind::kVector ? BytesOf(postgres::ParseVector(rows_->Text(next_, column)))
                                                       : rows_->Text(next_, column);
    }
    ++next_;
    return true;
  }

 private:
  postgres::Connection& db_;
  std::string cursor_;
  const Table& table_;
  std::optional<postgres::Rows> rows_;
  int next_ = 0;
  bool done_ = false;
};

class PostgresEndpoint final : public Endpoint {
 public:
  explicit PostgresEndpoint(std::unique_ptr<postgres::Connection> db) : db_(std::move(db)) {}

  Result<std::map<std::string, std::set<std::string>>> ReadSchema() override {
    ON_ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT c.table_name::text, c.column_name::text "
                                              "FROM information_schema.columns c JOIN information_schema.tables t "
                                              "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
                                              "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"));
    std::map<std::string, std::set<std::string>> schema;
    for (int row = 0; row < rows.size(); ++row) schema[rows.Text(row, 0)].insert(rows.Text(row, 1));
    return schema;
  }

  std::set<std::string> BackendColumns(const Table& table) const override {
    std::set<std::string> columns;
    for (const KeywordIndex& index : table.postgres_keyword_index) {
      columns.insert(index.vector_column);
      columns.insert(index.tokens_column);
    }
    return columns;
  }

  Status BeginSnapshot() override { return db_->Execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); }
  Status BeginWrite() override { return db_->Execute("BEGIN"); }
  Status Commit() override {
    if (db_->InFailedTransaction()) {
      Rollback();
      return DatabaseError("the transaction was aborted by a failed statement");
    }
    return db_->Execute("COMMIT");
  }
  void Rollback() override {
    if (!db_->IsIdle()) (void)db_->Execute("ROLLBACK");
  }

  Result<std::unique_ptr<RowReader>> Scan(const Table& table) override {
    std::string select;
    for (const Column& column : table.columns) {
      if (!select.empty()) select += ", ";
      switch (column.kind) {
        case Kind::kText:
          select += column.name;
          break;
        case Kind::kInt:
          select += column.name + "::text";
          break;
        case Kind::kBool:
          select += "(" + column.name + ")::int::text";
          break;
        case Kind::kVector:
          select += column.name + "::text";
          break;
      }
    }
    // COLLATE "C" orders text by bytes, as SQLite's BINARY collation does, so both sides hash
    // their rows in the same order whatever the database's collation. The keys are qualified
    // with the table alias because a bare name would sort by the text output column of that
    // name ("10" before "9").
    std::string order;
    for (const std::string& key : table.primary_key) {
      const bool text = std::any_of(table.columns.begin(), table.columns.end(), [&](const Column& column) {
        return column.name == key && column.kind == Kind::kText;
      });
      order += (order.empty() ? "t." : ", t.") + key + (text ? " COLLATE \"C\"" : "");
    }
    const std::string cursor = "copy_cursor_" + std::to_string(++cursors_);
    ON_RETURN_IF_ERROR(db_->Execute("DECLARE " + cursor + " NO SCROLL CURSOR FOR SELECT " + select + " FROM " +
                                    table.name + " AS t ORDER BY " + order));
    return std::unique_ptr<RowReader>(new PostgresReader(*db_, cursor, table));
  }

  Status Insert(const Table& table, const Row& row) override {
    if (pending_table_ != nullptr && pending_table_ != &table) ON_RETURN_IF_ERROR(FlushInserts());
    pending_table_ = &table;
    for (const Value& value : row) pending_bytes_ += value ? value->size() : 0;
    pending_.push_back(row);
    if (pending_.size() >= kBatchRows || pending_bytes_ >= kBatchBytes) return FlushInserts();
    return Status::Ok();
  }

  Status FlushInserts() override {
    if (pending_.empty()) return Status::Ok();
    const Table& table = *pending_table_;
    // Full batches share one statement; a shorter last batch inserts row by row, so each table
    // prepares at most two statements.
    if (pending_.size() == kBatchRows) {
      ON_RETURN_IF_ERROR(InsertRows(table, pending_));
    } else {
      for (const Row& row : pending_) ON_RETURN_IF_ERROR(InsertRows(table, {row}));
    }
    pending_.clear();
    pending_bytes_ = 0;
    return Status::Ok();
  }

  Status DeleteAll(const Table& table) override { return db_->Query("DELETE FROM " + table.name).status(); }

  Result<int64_t> KeyCounter(const Table& table) override {
    // The sequence's last value stays above ids of deleted rows; NULL when it was never used.
    ON_ASSIGN_OR_RETURN(auto rows,
                        db_->Query("SELECT greatest(coalesce(pg_sequence_last_value(pg_get_serial_sequence($1, $2)::regclass), 0), "
                                   "coalesce((SELECT max(" + table.generated_key + ") FROM " + table.name + "), 0))",
                                   postgres::Params().Add(table.name).Add(table.generated_key)));
    return rows.Int(0, 0);
  }

  Status RaiseKeyCounter(const Table& table, int64_t counter) override {
    if (counter <= 0) return Status::Ok();
    return db_->Query("SELECT setval(pg_get_serial_sequence($1, $2), $3)",
                      postgres::Params().Add(table.name).Add(table.generated_key).Add(counter))
        .status();
  }

  Status FinishWrite() override {
    // Vector search uses one HNSW index per dimension; the copy built none while inserting.
    ON_ASSIGN_OR_RETURN(auto dimensions, db_->Query("SELECT DISTINCT dimension FROM embedding ORDER BY dimension"));
    for (int row = 0; row < dimensions.size(); ++row) {
      ON_RETURN_IF_ERROR(postgres::EnsureHnswIndex(*db_, static_cast<size_t>(dimensions.Int(row, 0))));
    }
    return Status::Ok();
  }

 private:
  static constexpr size_t kBatchRows = 100;
  static constexpr size_t kBatchBytes = size_t{4} << 20;

  Status InsertRows(const Table& table, const std::vector<Row>& rows) {
    std::string columns = ColumnList(table);
    for (const KeywordIndex& index : table.postgres_keyword_index) {
      columns += ", " + index.vector_column + ", " + index.tokens_column;
    }
    std::string values;
    postgres::Params params;
    int parameter = 0;
    auto placeholder = [&](const char* cast) { return "$" + std::to_string(++parameter) + cast; };
    for (const Row& row : rows) {
      std::string tuple;
      for (size_t i = 0; i < table.columns.size(); ++i) {
        const Value& value = row[i];
        const Kind kind = table.columns[i].kind;
        if (kind == Kind::kVector && value) {
          params.Add(postgres::VectorText(FloatsOf(*value)));
        } else {
          params.Add(value);
        }
        static constexpr const char* kCasts[] = {"::text", "::bigint", "::boolean", "::vector"};
        tuple += (i == 0 ? "" : ", ") + placeholder(kCasts[static_cast<int>(kind)]);
      }
      for (const KeywordIndex& index : table.postgres_keyword_index) {
        size_t text_column = 0;
        while (table.columns[text_column].name != index.text_column) ++text_column;
        const postgres::IndexedText indexed =
            postgres::BuildTsvector(row[text_column].value_or(std::string()), tokenizer_);
        params.Add(indexed.tsvector).Add(indexed.tokens);
        // Two statements, because the operands of one + expression are evaluated in no fixed order.
        tuple += ", " + placeholder("::tsvector");
        tuple += ", " + placeholder("::integer");
      }
      values += (values.empty() ? "(" : ", (") + tuple + ")";
    }
    const std::string overriding = table.generated_key.empty() ? "" : " OVERRIDING SYSTEM VALUE";
    return db_->Query("INSERT INTO " + table.name + " (" + columns + ")" + overriding + " VALUES " + values, params)
        .status();
  }

  std::unique_ptr<postgres::Connection> db_;
  // The keyword index's tokenizer, the one PostgresStorage writes with.
  search::Tokenizer tokenizer_{"english"};
  int cursors_ = 0;
  const Table* pending_table_ = nullptr;
  std::vector<Row> pending_;
  size_t pending_bytes_ = 0;
};

}  // namespace

std::unique_ptr<Endpoint> MakeSqliteEndpoint(std::unique_ptr<sqlite::Connection> db) {
  return std::make_unique<SqliteEndpoint>(std::move(db));
}

std::unique_ptr<Endpoint> MakePostgresEndpoint(std::unique_ptr<postgres::Connection> db) {
  return std::make_unique<PostgresEndpoint>(std::move(db));
}

}  // namespace on::storage::dbcopy
