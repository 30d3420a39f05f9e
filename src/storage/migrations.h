// Migration scripts compiled into the binary, per backend.
//
// Files are named NNNN_name.up.sql and NNNN_name.down.sql under src/storage/migrations/<backend>/.
// Versions start at 1 and have no gaps; every up script has a down script.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/embedded_assets.h"
#include "core/error.h"

namespace on::storage {

struct Migration {
  int version = 0;
  std::string name;
  std::string_view up_sql;
  std::string_view down_sql;
  std::string checksum;  // sha256 of up_sql, lowercase hex
};

// Returns the migrations of `backend` ("sqlite" or "postgres") ordered by version, or kInternal
// when the embedded files are inconsistent (a gap, a missing down script, two migrations with one
// version, a bad name).
Result<std::vector<Migration>> LoadMigrations(std::string_view backend);

// LoadMigrations over the given files instead of the embedded ones.
Result<std::vector<Migration>> LoadMigrations(std::string_view backend, const std::vector<on::EmbeddedAsset>& files);

// One row of a database's schema_migrations table.
struct AppliedMigration {
  std::string checksum;
  std::string applied_at;
};

// Rejects (kMigration) a database that this binary must not touch: one migrated by a newer binary,
// or one whose applied migration differs from the script compiled in.
Status VerifyApplied(const std::vector<Migration>& migrations, const std::map<int, AppliedMigration>& applied);

// Returns the highest applied version, 0 for none.
int CurrentVersion(const std::map<int, AppliedMigration>& applied);

// Lowercase hex sha256 of `text`.
std::string Sha256Hex(std::string_view text);

}  // namespace on::storage
