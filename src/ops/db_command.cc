#include "ops/db_command.h"

#include <cstdio>

#include <spdlog/spdlog.h>

#include "storage/copy.h"
#include "storage/database_url.h"

namespace on::ops {
namespace {

// Rows and the first 12 hex digits of the SHA-256 checksum on each side, one line per table.
void PrintHeader() {
  std::printf("%-22s %9s %9s  %-12s  %-12s\n", "table", "rows from", "rows to", "sha256 from", "sha256 to");
}

void PrintTable(const storage::TableComparison& table) {
  std::printf("%-22s %9lld %9lld  %-12s  %-12s%s\n", table.table.c_str(), static_cast<long long>(table.source_rows),
              static_cast<long long>(table.target_rows), table.source_checksum.substr(0, 12).c_str(),
              table.target_checksum.substr(0, 12).c_str(), table.matches() ? "" : "  DIFFERS");
}

}  // namespace

int RunDbCopy(const std::string& from, const std::string& to) {
  std::printf("copying %s to %s\n", storage::RedactUrl(from).c_str(), storage::RedactUrl(to).c_str());
  std::fflush(stdout);
  auto report = storage::CopyDatabase(from, to);
  if (!report.ok()) {
    std::fprintf(stderr, "db copy failed: %s\n", report.status().message().c_str());
    return 1;
  }

  PrintHeader();
  for (const auto& table : report->tables) PrintTable(table);
  std::printf("copied %lld rows of %zu tables (schema version %d) in %.1f s; the row count and checksum of every "
              "table match on both sides\n",
              static_cast<long long>(report->total_rows), report->tables.size(), report->schema_version,
              report->seconds);
  return 0;
}

int RunDbVerify(const std::string& from, const std::string& to) {
  auto tables = storage::CompareDatabases(from, to);
  if (!tables.ok()) {
    std::fprintf(stderr, "db verify failed: %s\n", tables.status().message().c_str());
    return 1;
  }

  PrintHeader();
  int differing = 0;
  for (const auto& table : *tables) {
    PrintTable(table);
    if (!table.matches()) ++differing;
  }
  if (differing > 0) {
    std::fprintf(stderr, "%d of %zu tables differ between %s and %s\n", differing, tables->size(),
                 storage::RedactUrl(from).c_str(), storage::RedactUrl(to).c_str());
    return 1;
  }
  std::printf("every table has the same rows in both databases\n");
  return 0;
}

}  // namespace on::ops
