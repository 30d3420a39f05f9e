// Backup archives: one tar file compressed with zstd, written and read with libarchive.
//
// Layout: the database (open-notebook.db, a consistent copy of an SQLite database, or
// open-notebook.pgdump, a pg_dump archive of a PostgreSQL one), uploads/** and podcasts/** (the
// files of the data directory), and manifest.json last, because it records the size and sha256
// of every file written before it. Nothing else is accepted when reading: no other top-level
// names, no directories outside that layout, no links, devices or absolute paths.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

struct archive;

namespace on::ops {

inline constexpr std::string_view kManifestEntry = "manifest.json";
inline constexpr std::string_view kDatabaseEntry = "open-notebook.db";
inline constexpr std::string_view kPostgresDumpEntry = "open-notebook.pgdump";
inline constexpr int kBackupFormatVersion = 1;

struct ManifestFile {
  std::string path;  // entry name inside the archive
  uint64_t size = 0;
  std::string sha256;  // lowercase hex
};

struct BackupManifest {
  int format_version = kBackupFormatVersion;
  std::string product_version;
  int schema_version = 0;
  std::string created_at;       // ISO 8601 UTC
  std::string source_data_dir;  // absolute path of the data directory that was backed up
  // The database's entry: kDatabaseEntry or kPostgresDumpEntry. Manifests written before
  // PostgreSQL support name kDatabaseEntry.
  std::string database_entry{kDatabaseEntry};
  std::vector<ManifestFile> files;

  std::string ToJson() const;
  // kInvalidInput naming the field when `text` is not a manifest this binary can read.
  static Result<BackupManifest> Parse(std::string_view text);
};

// Checks an entry name before anything is written for it: relative, '/'-separated, no empty,
// "." or ".." component, no control character, at most 4096 bytes, and inside the layout above.
// A backslash is an ordinary character in a POSIX file name, so it is accepted. kInvalidInput
// naming the entry otherwise.
Status CheckEntryName(std::string_view name);

// Writes an archive to a temporary name in the target's directory; Finish makes it appear under
// the final name only when it is complete and on disk. Destroying an unfinished writer removes
// the temporary file.
class ArchiveWriter {
 public:
  // Fails with kConflict when `final_path` exists.
  static Result<std::unique_ptr<ArchiveWriter>> Create(const std::filesystem::path& final_path);
  ~ArchiveWriter();
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  // Streams the regular file `source` into the archive as `entry_name`, hashing what it writes.
  // kIo when the file changes size while it is read.
  Status AddFile(const std::filesystem::path& source, const std::string& entry_name);

  // Writes `manifest` with the files added so far, closes the archive, fsyncs it and renames it
  // to its final name without replacing an existing file. Returns the archive size in bytes.
  Result<uint64_t> Finish(BackupManifest manifest);

  const std::vector<ManifestFile>& files() const { return files_; }

 private:
  ArchiveWriter() = default;
  Status AddEntry(const std::string& entry_name, uint64_t size, const std::function<Result<size_t>(char*, size_t)>& read);

  std::filesystem::path final_path_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
  struct archive* archive_ = nullptr;
  bool finished_ = false;
  std::vector<ManifestFile> files_;
};

struct ArchiveReadOptions {
  // Directory to write the files into (it must exist and be empty); empty to only check them.
  std::filesystem::path extract_to;
  // With extract_to: write only the database file and check the others without writing them.
  bool database_only = false;
  // The sum of the entry sizes may not exceed this, so a crafted archive cannot fill the disk.
  uint64_t max_total_bytes = UINT64_MAX;
};

struct ArchiveContents {
  BackupManifest manifest;
  uint64_t total_bytes = 0;  // sum of the file sizes, manifest excluded
};

// Reads the whole archive, checks every entry name and type, every file's size and sha256
// against the manifest, and that the manifest lists no file the archive lacks. kInvalidInput
// with the reason for a damaged, truncated or crafted archive; kPayloadTooLarge when the files
// exceed max_total_bytes; kNotFound when the archive does not exist.
// Files already extracted stay in extract_to on failure; the caller removes that directory.
Result<ArchiveContents> ReadArchive(const std::filesystem::path& archive, const ArchiveReadOptions& options);

}  // namespace on::ops
