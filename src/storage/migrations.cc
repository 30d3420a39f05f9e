#include "storage/migrations.h"

#include <algorithm>
#include <map>

#include <sodium.h>

#include "core/embedded_assets.h"

namespace on::storage {

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(sizeof(digest) * 2);
  for (unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0xf];
  }
  return hex;
}

Result<std::vector<Migration>> LoadMigrations(std::string_view backend) { return LoadMigrations(backend, EmbeddedAssets()); }

Result<std::vector<Migration>> LoadMigrations(std::string_view backend, const std::vector<EmbeddedAsset>& files) {
  const std::string prefix = "src/storage/migrations/" + std::string(backend) + "/";
  std::map<int, Migration> by_version;

  for (const auto& asset : files) {
    if (asset.path.rfind(prefix, 0) != 0) continue;
    std::string_view file = asset.path.substr(prefix.size());

    const bool up = file.ends_with(".up.sql");
    const bool down = file.ends_with(".down.sql");
    const size_t underscore = file.find('_');
    if ((!up && !down) || underscore != 4) return InternalError("migration file name is invalid: " + std::string(asset.path));

    const int version = std::stoi(std::string(file.substr(0, 4)));
    const std::string name(file.substr(5, file.size() - 5 - (up ? 7 : 9)));
    Migration& migration = by_version[version];
    // Two branches may each add a migration with the same number: refuse that instead of letting
    // one file replace the other.
    if (!migration.name.empty() && migration.name != name) {
      return InternalError("migrations " + migration.name + " and " + name + " of " + std::string(backend) +
                           " share version " + std::to_string(version) + "; renumber one of them");
    }
    if (!(up ? migration.up_sql : migration.down_sql).empty()) {
      return InternalError("migration " + std::to_string(version) + " of " + std::string(backend) + " has two " +
                           (up ? "up" : "down") + " scripts");
    }
    migration.version = version;
    migration.name = name;
    if (up) {
      migration.up_sql = asset.content;
      migration.checksum = Sha256Hex(asset.content);
    } else {
      migration.down_sql = asset.content;
    }
  }

  std::vector<Migration> migrations;
  for (auto& [version, migration] : by_version) {
    if (version != static_cast<int>(migrations.size()) + 1) {
      return InternalError("migration versions of " + std::string(backend) + " have a gap before " + std::to_string(version));
    }
    if (migration.up_sql.empty() || migration.down_sql.empty()) {
      return InternalError("migration " + std::to_string(version) + " of " + std::string(backend) + " lacks an up or down script");
    }
    migrations.push_back(std::move(migration));
  }
  return migrations;
}

Status VerifyApplied(const std::vector<Migration>& migrations, const std::map<int, AppliedMigration>& applied) {
  const int latest = static_cast<int>(migrations.size());
  for (const auto& [version, row] : applied) {
    if (version > latest) {
      return Status(ErrorCode::kMigration,
                    "the database schema is at version " + std::to_string(applied.rbegin()->first) +
                        " but this open-notebook binary knows versions up to " + std::to_string(latest) +
                        "; run the newer binary that migrated it, or restore a backup made with this version");
    }
    const Migration& migration = migrations[static_cast<size_t>(version - 1)];
    if (row.checksum != migration.checksum) {
      return Status(ErrorCode::kMigration,
                    "migration " + std::to_string(version) + " (" + migration.name +
                        ") was changed after it was applied: checksum " + row.checksum.substr(0, 12) +
                        " in the database, " + migration.checksum.substr(0, 12) +
                        " in this binary; restore the original migration file, or restore the database from a backup");
    }
  }
  return Status::Ok();
}

int CurrentVersion(const std::map<int, AppliedMigration>& applied) {
  return applied.empty() ? 0 : applied.rbegin()->first;
}

}  // namespace on::storage
