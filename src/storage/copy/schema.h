// The tables `db copy` moves and the canonical form of their rows, shared by both backends.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace on::storage::dbcopy {

// The storage type of a column, which differs between the backends: SQLite keeps booleans as 0 or 1 and vectors as float32 BLOBs,
// PostgreSQL has BOOLEAN and pgvector columns.
enum class Kind { kText, kInt, kBool, kVector };

struct Column {
  std::string name;
  Kind kind = Kind::kText;
};

// A tsvector column of the PostgreSQL schema that indexes a text column, with its token count.
// SQLite keeps the same index in FTS5 tables that its triggers fill.
struct KeywordIndex {
  std::string text_column;
  std::string vector_column;
  std::string tokens_column;
};

struct Table {
  std::string name;
  std::vector<Column> columns;
  std::vector<std::string> primary_key;
  // An integer key the database assigns: GENERATED ALWAYS AS IDENTITY in PostgreSQL, INTEGER
  // PRIMARY KEY in SQLite. Empty when the application chooses every key.
  std::string generated_key;
  // SQLite's AUTOINCREMENT, whose counter in sqlite_sequence stays above deleted ids.
  bool sqlite_autoincrement = false;
  std::vector<KeywordIndex> postgres_keyword_index;
  // Rows fetched from PostgreSQL at a time: few where one row may hold a whole document.
  int fetch_rows = 200;
};

// Every table of the latest schema, parents before children, so each foreign key points at a row
// copied before it. CheckSchemaMatches (copy.cc) rejects a database whose tables or columns
// differ, so a new migration cannot be forgotten here silently.
const std::vector<Table>& Tables();

// Tables each database keeps for itself: the migration record, which the target writes when it
// is migrated.
bool IsOwnBookkeeping(const std::string& table);
bool IsTimestamp(const std::string& column);

// A column value as canonical bytes (see TableComparison), nullopt for NULL.
using Value = std::optional<std::string>;
using Row = std::vector<Value>;

// Appends `row` to `out`: per value a tag byte (0 for NULL, 1 otherwise), then the length as 8
// little-endian bytes and the bytes, so no two different rows serialise alike.
void SerializeRow(const Row& row, std::string& out);

// The row count and SHA-256 checksum of a table's rows, fed in primary-key order.
class TableDigest {
 public:
  TableDigest() { crypto_hash_sha256_init(&state_); }
  void Add(const Row& row);
  int64_t rows() const { return rows_; }
  // The checksum as lowercase hex; call once, after the last Add.
  std::string Finish();

 private:
  crypto_hash_sha256_state state_;
  std::string buffer_;
  int64_t rows_ = 0;
};

}  // namespace on::storage::dbcopy
