#include "storage/migrations.h"

#include <gtest/gtest.h>

#include <vector>

namespace on::storage {
namespace {

constexpr std::string_view kDir = "src/storage/migrations/sqlite/";

std::vector<EmbeddedAsset> Files(const std::vector<std::string_view>& names, std::vector<std::string>& paths) {
  paths.clear();
  for (std::string_view name : names) paths.push_back(std::string(kDir) + std::string(name));
  std::vector<EmbeddedAsset> files;
  for (const std::string& path : paths) files.push_back(EmbeddedAsset{path, "SELECT 1;"});
  return files;
}

TEST(Migrations, OrderedByVersion) {
  std::vector<std::string> paths;
  auto loaded = LoadMigrations("sqlite", Files({"0002_b.up.sql", "0001_a.down.sql", "0001_a.up.sql", "0002_b.down.sql"}, paths));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].name, "a");
  EXPECT_EQ((*loaded)[1].name, "b");
}

// Two branches that each added a migration 0002 must not merge into one that silently drops one.
TEST(Migrations, SharedVersionRejected) {
  std::vector<std::string> paths;
  auto loaded = LoadMigrations("sqlite", Files({"0001_a.up.sql", "0001_a.down.sql", "0002_chat.up.sql", "0002_chat.down.sql",
                                                "0002_podcasts.up.sql", "0002_podcasts.down.sql"},
                                               paths));
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), ErrorCode::kInternal);
  EXPECT_NE(loaded.status().message().find("share version 2"), std::string::npos) << loaded.status().message();
}

TEST(Migrations, GapRejected) {
  std::vector<std::string> paths;
  auto loaded = LoadMigrations("sqlite", Files({"0001_a.up.sql", "0001_a.down.sql", "0003_c.up.sql", "0003_c.down.sql"}, paths));
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("gap before 3"), std::string::npos) << loaded.status().message();
}

TEST(Migrations, MissingDownRejected) {
  std::vector<std::string> paths;
  auto loaded = LoadMigrations("sqlite", Files({"0001_a.up.sql"}, paths));
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("lacks an up or down script"), std::string::npos) << loaded.status().message();
}

}  // namespace
}  // namespace on::storage
