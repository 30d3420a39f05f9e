#include "ops/backup_archive.h"

#include <gtest/gtest.h>

#include <fstream>

#include "ops/data_dir_lock.h"
#include "support/temp_dir.h"

namespace on::ops {
namespace {

TEST(BackupEntryName, AcceptsLayout) {
  for (const char* name : {"manifest.json", "open-notebook.db", "uploads/ab12/report.pdf", "podcasts/ep1.mp3",
                           "uploads/dir/", "uploads/第1组资料.txt", "uploads/a\\b.txt"}) {
    EXPECT_TRUE(CheckEntryName(name).ok()) << name << ": " << CheckEntryName(name).message();
  }
}

TEST(BackupEntryName, RejectsTraversalAndOthers) {
  for (const char* name : {"", "/etc/passwd", "../x", "uploads/../../x", "uploads/./x", "uploads//x", "cache/x",
                           "backups/a.tar.zst", "open-notebook.db-wal", "uploads/a\nb", "manifest.json/x"}) {
    Status status = CheckEntryName(name);
    EXPECT_FALSE(status.ok()) << name;
    EXPECT_NE(status.message().find("rejected"), std::string::npos) << status.message();
  }
  EXPECT_FALSE(CheckEntryName("uploads/" + std::string(5000, 'a')).ok());
}

TEST(BackupManifest, RoundTrip) {
  BackupManifest manifest;
  manifest.product_version = "1.2.3";
  manifest.schema_version = 7;
  manifest.created_at = "2026-12-04T20:15:03.123456+00:00";
  manifest.source_data_dir = "/srv/data";
  manifest.files = {{"open-notebook.db", 4096, std::string(64, 'a')}, {"uploads/x/y.txt", 3, std::string(64, 'b')}};
  auto parsed = BackupManifest::Parse(manifest.ToJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->schema_version, 7);
  EXPECT_EQ(parsed->source_data_dir, "/srv/data");
  ASSERT_EQ(parsed->files.size(), 2u);
  EXPECT_EQ(parsed->files[1].path, "uploads/x/y.txt");
  EXPECT_EQ(parsed->files[1].size, 3u);
}

TEST(BackupManifest, RejectsOtherFormats) {
  EXPECT_FALSE(BackupManifest::Parse("not json").ok());
  EXPECT_FALSE(BackupManifest::Parse(R"({"format":"zip"})").ok());
  auto future = BackupManifest::Parse(R"({"format":"open-notebook-backup","format_version":99})");
  ASSERT_FALSE(future.ok());
  EXPECT_NE(future.status().message().find("format_version 99"), std::string::npos);
  EXPECT_FALSE(BackupManifest::Parse(R"({"format":"open-notebook-backup","format_version":1,"files":[]})").ok());
}

TEST(BackupArchive, WriteThenReadChecksEveryFile) {
  test::TempDir dir;
  std::ofstream(dir.path() / "db") << "database bytes";
  std::ofstream(dir.path() / "upload") << "upload bytes";
  const auto archive = dir.path() / "out.tar.zst";
  {
    auto writer = ArchiveWriter::Create(archive);
    ASSERT_TRUE(writer.ok()) << writer.status().message();
    ASSERT_TRUE((*writer)->AddFile(dir.path() / "db", "open-notebook.db").ok());
    ASSERT_TRUE((*writer)->AddFile(dir.path() / "upload", "uploads/a/upload.txt").ok());
    EXPECT_FALSE(std::filesystem::exists(archive)) << "only the temporary name exists until Finish";
    BackupManifest manifest;
    manifest.schema_version = 3;
    auto size = (*writer)->Finish(manifest);
    ASSERT_TRUE(size.ok()) << size.status().message();
    EXPECT_EQ(*size, std::filesystem::file_size(archive));
  }
  EXPECT_EQ(ArchiveWriter::Create(archive).status().code(), ErrorCode::kConflict);

  const auto out = dir.path() / "extracted";
  std::filesystem::create_directories(out);
  ArchiveReadOptions options;
  options.extract_to = out;
  auto contents = ReadArchive(archive, options);
  ASSERT_TRUE(contents.ok()) << contents.status().message();
  EXPECT_EQ(contents->manifest.schema_version, 3);
  EXPECT_EQ(contents->manifest.files.size(), 2u);
  std::ifstream extracted(out / "uploads" / "a" / "upload.txt");
  std::string text((std::istreambuf_iterator<char>(extracted)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "upload bytes");

  ArchiveReadOptions small;
  small.max_total_bytes = 5;
  auto refused = ReadArchive(archive, small);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("exceed"), std::string::npos) << refused.status().message();
  EXPECT_EQ(ReadArchive(dir.path() / "missing.tar.zst", {}).status().code(), ErrorCode::kNotFound);
}

TEST(DataDirLock, SharedLocksCoexistAndBlockExclusive) {
  test::TempDir dir;
  auto first = DataDirLock::AcquireShared(dir.path());
  auto second = DataDirLock::AcquireShared(dir.path());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  auto exclusive = DataDirLock::TryAcquireExclusive(dir.path());
  ASSERT_FALSE(exclusive.ok());
  EXPECT_EQ(exclusive.status().code(), ErrorCode::kConflict);
  {
    auto release_first = std::move(first).value();
    auto release_second = std::move(second).value();
  }
  auto taken = DataDirLock::TryAcquireExclusive(dir.path());
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  auto shared = DataDirLock::AcquireShared(dir.path());
  ASSERT_FALSE(shared.ok());
  EXPECT_EQ(shared.status().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace on::ops
