// Copies every record of one Open Notebook database into another, between SQLite and PostgreSQL
// in either direction (`open-notebook db copy`).
//
// A location is a PostgreSQL URL (postgresql:// or postgres://), sqlite:///path/to/file.db, or a
// plain path to a SQLite file. The copy reads the source in one snapshot and writes the target in
// one transaction. Before committing it checks, table by table, that the target contains the same
// number of rows with the same content checksum as the source, and rolls back otherwise.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace on::storage {

// The row count and content checksum of one table on both sides.
struct TableComparison {
  std::string table;
  int64_t source_rows = 0;
  int64_t target_rows = 0;
  // Lowercase hex SHA-256 over a canonical serialisation of the rows in primary-key order. Both
  // backends serialise the same record to the same bytes: booleans as 0 or 1, integers in
  // decimal, vectors as little-endian float32, and columns that only one backend has (the
  // keyword index) left out.
  std::string source_checksum;
  std::string target_checksum;

  bool matches() const { return source_rows == target_rows && source_checksum == target_checksum; }
};

struct CopyReport {
  int schema_version = 0;
  std::vector<TableComparison> tables;  // in copy order
  int64_t total_rows = 0;
  double seconds = 0;
};

// Copies `from` into `to`. `to` is migrated to this binary's latest schema first and must then be
// empty: it may hold only the rows the migrations insert (default transformations, podcast
// profiles, default-model slots), unchanged; those are replaced by the source's. Errors:
// kInvalidInput for an unusable location or the same database on both sides, kNotFound for a
// missing SQLite source file, kMigration when the source is not at the latest schema version,
// kConflict when the target contains data (the message names the table), kDatabase when the
// verification finds a difference (nothing is committed then; the message names the tables).
Result<CopyReport> CopyDatabase(const std::string& from, const std::string& to);

// Computes the row counts and checksums of every table of `from` and `to` without changing
// either; a table that differs has matches() false. Both must be at the latest schema version.
Result<std::vector<TableComparison>> CompareDatabases(const std::string& from, const std::string& to);

}  // namespace on::storage
