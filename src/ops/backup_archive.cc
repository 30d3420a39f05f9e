#include "ops/backup_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

namespace on::ops {
namespace {

constexpr size_t kBlockSize = 64 * 1024;
constexpr size_t kMaxManifestBytes = 64u << 20;
constexpr size_t kMaxEntries = 10'000'000;
constexpr size_t kMaxEntryNameBytes = 4096;

std::string HexDigest(crypto_hash_sha256_state& state) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 15];
  }
  return hex;
}

std::string ErrnoText() { return std::strerror(errno); }

std::string ArchiveError(struct archive* archive) {
  const char* text = archive_error_string(archive);
  return text != nullptr ? text : "unknown libarchive error";
}

Status Damaged(const std::filesystem::path& archive, const std::string& reason) {
  return InvalidInput("the backup archive " + archive.string() + " is damaged or not a backup: " + reason);
}

// Syncs a directory so that a rename inside it survives a power loss.
Status SyncDirectory(const std::filesystem::path& directory) {
  const int fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status(ErrorCode::kIo, "cannot open " + directory.string() + ": " + ErrnoText());
  const int result = fsync(fd);
  close(fd);
  if (result != 0) return Status(ErrorCode::kIo, "cannot sync " + directory.string() + ": " + ErrnoText());
  return Status::Ok();
}

}  // namespace

std::string BackupManifest::ToJson() const {
  nlohmann::json files_json = nlohmann::json::array();
  for (const auto& file : files) {
    files_json.push_back({{"path", file.path}, {"size", file.size}, {"sha256", file.sha256}});
  }
  nlohmann::json manifest = {
      {"format", "open-notebook-backup"},
      {"format_version", format_version},
      {"product_version", product_version},
      {"schema_version", schema_version},
      {"created_at", created_at},
      {"source_data_dir", source_data_dir},
      {"database", database_entry},
      {"files", files_json},
  };
  return manifest.dump(2) + "\n";
}

Result<BackupManifest> BackupManifest::Parse(std::string_view text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object() || json.value("format", "") != "open-notebook-backup") {
    return InvalidInput("manifest.json is not an open-notebook backup manifest");
  }
  BackupManifest manifest;
  try {
    manifest.format_version = json.at("format_version").get<int>();
    if (manifest.format_version != kBackupFormatVersion) {
      return InvalidInput("manifest format_version " + std::to_string(manifest.format_version) +
                          " is not supported by this binary (it reads version " +
                          std::to_string(kBackupFormatVersion) + "); use the open-notebook version that wrote it");
    }
    manifest.product_version = json.at("product_version").get<std::string>();
    manifest.schema_version = json.at("schema_version").get<int>();
    manifest.created_at = json.at("created_at").get<std::string>();
    manifest.source_data_dir = json.at("source_data_dir").get<std::string>();
    manifest.database_entry = json.value("database", std::string(kDatabaseEntry));
    if (manifest.database_entry != kDatabaseEntry && manifest.database_entry != kPostgresDumpEntry) {
      return InvalidInput("manifest field database names '" + manifest.database_entry.substr(0, 100) +
                          "'; this binary reads open-notebook.db or open-notebook.pgdump");
    }
    for (const auto& file : json.at("files")) {
      manifest.files.push_back(ManifestFile{file.at("path").get<std::string>(), file.at("size").get<uint64_t>(),
                                            file.at("sha256").get<std::string>()});
    }
  } catch (const nlohmann::json::exception& error) {
    return InvalidInput(std::string("manifest.json has a missing or mistyped field: ") + error.what());
  }
  return manifest;
}

Status CheckEntryName(std::string_view name) {
  auto invalid = [&](const std::string& reason) {
    std::string shown(name.substr(0, 200));
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return InvalidInput("archive entry '" + shown + "' is rejected: " + reason);
  };
  if (name.empty()) return invalid("empty name");
  if (name.size() > kMaxEntryNameBytes) return invalid("name longer than 4096 bytes");
  if (name.front() == '/') return invalid("absolute path");
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return invalid("control character in the name");
  }
  std::string_view rest = name;
  if (rest.back() == '/') rest.remove_suffix(1);  // directories may end with '/'
  std::vector<std::string_view> parts;
  while (true) {
    const size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (part.empty()) return invalid("empty path component");
    if (part == "." || part == "..") return invalid("'.' or '..' path component");
    parts.push_back(part);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (parts.front() == "uploads" || parts.front() == "podcasts") return Status::Ok();
  if (parts.size() == 1 && (parts.front() == kManifestEntry || parts.front() == kDatabaseEntry ||
                            parts.front() == kPostgresDumpEntry)) {
    return Status::Ok();
  }
  return invalid("outside the backup layout (manifest.json, open-notebook.db or open-notebook.pgdump, uploads/, "
                 "podcasts/)");
}

// ---- Writing ----

Result<std::unique_ptr<ArchiveWriter>> ArchiveWriter::Create(const std::filesystem::path& final_path) {
  std::error_code error;
  if (std::filesystem::exists(final_path, error)) {
    return Status(ErrorCode::kConflict, "the backup file " + final_path.string() + " already exists");
  }
  std::unique_ptr<ArchiveWriter> writer(new ArchiveWriter());
  writer->final_path_ = final_path;
  writer->temp_path_ = final_path.parent_path() /
                       ("." + final_path.filename().string() + ".partial-" + std::to_string(getpid()));
  // 0600: the archive contains every notebook; only the owner of the data may read it.
  writer->fd_ = open(writer->temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (writer->fd_ < 0) {
    return Status(ErrorCode::kIo, "cannot create " + writer->temp_path_.string() + ": " + ErrnoText());
  }

  writer->archive_ = archive_write_new();
  struct archive* archive = writer->archive_;
  if (archive == nullptr) return Status(ErrorCode::kInternal, "libarchive could not allocate a writer");
  if (archive_write_add_filter_zstd(archive) != ARCHIVE_OK ||
      archive_write_set_format_pax_restricted(archive) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(archive, 1) != ARCHIVE_OK ||
      archive_write_open_fd(archive, writer->fd_) != ARCHIVE_OK) {
    return Status(ErrorCode::kInternal, "cannot start the backup archive: " + ArchiveError(archive));
  }
  return writer;
}

ArchiveWriter::~ArchiveWriter() {
  if (archive_ != nullptr) archive_write_free(archive_);
  if (fd_ >= 0) close(fd_);
  if (!finished_) unlink(temp_path_.c_str());
}

Status ArchiveWriter::AddEntry(const std::string& entry_name, uint64_t size,
                               const std::function<Result<size_t>(char*, size_t)>& read) {
  ON_RETURN_IF_ERROR(CheckEntryName(entry_name));
  archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname_utf8(entry, entry_name.c_str());
  archive_entry_set_filetype(entry, AE_IFREG);
  archive_entry_set_perm(entry, 0600);
  archive_entry_set_size(entry, static_cast<la_int64_t>(size));
  archive_entry_set_mtime(entry, time(nullptr), 0);
  const int header = archive_write_header(archive_, entry);
  archive_entry_free(entry);
  if (header != ARCHIVE_OK) {
    return Status(ErrorCode::kIo, "cannot write the archive entry " + entry_name + ": " + ArchiveError(archive_));
  }

  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::vector<char> buffer(kBlockSize);
  uint64_t written = 0;
  while (written < size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - written));
    ON_ASSIGN_OR_RETURN(size_t got, read(buffer.data(), want));
    if (got == 0) {
      return Status(ErrorCode::kIo, entry_name + " became shorter while it was being backed up; run the backup again");
    }
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(buffer.data()), got);
    if (archive_write_data(archive_, buffer.data(), got) != static_cast<la_ssize_t>(got)) {
      return Status(ErrorCode::kIo, "cannot write " + entry_name + " into the archive: " + ArchiveError(archive_));
    }
    written += got;
  }
  files_.push_back(ManifestFile{entry_name, size, HexDigest(state)});
  return Status::Ok();
}

Status ArchiveWriter::AddFile(const std::filesystem::path& source, const std::string& entry_name) {
  const int fd = open(source.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Status(ErrorCode::kIo, "cannot open " + source.string() + ": " + ErrnoText());
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return Status(ErrorCode::kIo, source.string() + " is not a regular file");
  }
  Status added = AddEntry(entry_name, static_cast<uint64_t>(info.st_size), [&](char* data, size_t size) -> Result<size_t> {
    for (;;) {
      const ssize_t got = read(fd, data, size);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) return Status(ErrorCode::kIo, "cannot read " + source.string() + ": " + ErrnoText());
    }
  });
  close(fd);
  return added;
}

Result<uint64_t> ArchiveWriter::Finish(BackupManifest manifest) {
  manifest.files = files_;
  const std::string text = manifest.ToJson();
  size_t offset = 0;
  ON_RETURN_IF_ERROR(AddEntry(std::string(kManifestEntry), text.size(), [&](char* data, size_t size) -> Result<size_t> {
    const size_t count = std::min(size, text.size() - offset);
    std::memcpy(data, text.data() + offset, count);
    offset += count;
    return count;
  }));
  files_.pop_back();  // the manifest does not list itself

  if (archive_write_close(archive_) != ARCHIVE_OK) {
    return Status(ErrorCode::kIo, "cannot finish the backup archive: " + ArchiveError(archive_));
  }
  archive_write_free(archive_);
  archive_ = nullptr;
  if (fsync(fd_) != 0) return Status(ErrorCode::kIo, "cannot sync " + temp_path_.string() + ": " + ErrnoText());
  struct stat info {};
  fstat(fd_, &info);
  close(fd_);
  fd_ = -1;

  // RENAME_NOREPLACE: two backups started in the same millisecond must not overwrite each other.
  if (renameat2(AT_FDCWD, temp_path_.c_str(), AT_FDCWD, final_path_.c_str(), RENAME_NOREPLACE) != 0) {
    return Status(errno == EEXIST ? ErrorCode::kConflict : ErrorCode::kIo,
                  "cannot rename the finished archive to " + final_path_.string() + ": " + ErrnoText());
  }
  finished_ = true;
  ON_RETURN_IF_ERROR(SyncDirectory(final_path_.parent_path()));
  return static_cast<uint64_t>(info.st_size);
}

// ---- Reading ----

namespace {

// Writes the data of the current entry to `fd` (when >= 0) and returns its sha256 and size.
Result<std::pair<std::string, uint64_t>> CopyEntryData(struct archive* archive, const std::filesystem::path& path,
                                                       int fd, std::string* keep) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::vector<char> buffer(kBlockSize);
  uint64_t total = 0;
  for (;;) {
    const la_ssize_t got = archive_read_data(archive, buffer.data(), buffer.size());
    if (got == 0) break;
    if (got < 0) return Damaged(path, ArchiveError(archive));
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(buffer.data()), static_cast<size_t>(got));
    total += static_cast<uint64_t>(got);
    if (keep != nullptr) {
      if (keep->size() + static_cast<size_t>(got) > kMaxManifestBytes) return Damaged(path, "manifest.json is larger than 64 MiB");
      keep->append(buffer.data(), static_cast<size_t>(got));
    }
    for (la_ssize_t offset = 0; fd >= 0 && offset < got;) {
      const ssize_t written = write(fd, buffer.data() + offset, static_cast<size_t>(got - offset));
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) return Status(ErrorCode::kIo, "cannot write an extracted file: " + ErrnoText());
      offset += written;
    }
  }
  return std::make_pair(HexDigest(state), total);
}

// Creates `relative` (a checked entry name) under `root`, with its parent directories. Entry
// names have no '..' and the tree is built by this process alone, so no component is a link.
Result<int> CreateExtractedFile(const std::filesystem::path& root, const std::string& relative) {
  const std::filesystem::path target = root / relative;
  std::error_code error;
  std::filesystem::create_directories(target.parent_path(), error);
  if (error) return Status(ErrorCode::kIo, "cannot create " + target.parent_path().string() + ": " + error.message());
  const int fd = open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Status(ErrorCode::kIo, "cannot create " + target.string() + ": " + ErrnoText());
  return fd;
}

}  // namespace

namespace {

Result<ArchiveContents> ReadEntries(const std::filesystem::path& path, const ArchiveReadOptions& options) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return NotFound("no backup archive at " + path.string());

  std::unique_ptr<struct archive, int (*)(struct archive*)> archive(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(archive.get());
  archive_read_support_format_tar(archive.get());
  if (archive_read_open_filename(archive.get(), path.c_str(), kBlockSize) != ARCHIVE_OK) {
    return Damaged(path, ArchiveError(archive.get()));
  }

  std::map<std::string, std::pair<std::string, uint64_t>> seen;  // name -> (sha256, size)
  std::optional<std::string> manifest_text;
  uint64_t total = 0;
  for (size_t count = 0;; ++count) {
    archive_entry* entry = nullptr;
    const int header = archive_read_next_header(archive.get(), &entry);
    if (header == ARCHIVE_EOF) break;
    if (header < ARCHIVE_WARN) return Damaged(path, ArchiveError(archive.get()));
    if (count >= kMaxEntries) return Damaged(path, "more than " + std::to_string(kMaxEntries) + " entries");

    const char* utf8 = archive_entry_pathname_utf8(entry);
    const char* raw = archive_entry_pathname(entry);
    const std::string name = utf8 != nullptr ? utf8 : (raw != nullptr ? raw : "");
    ON_RETURN_IF_ERROR(CheckEntryName(name));
    if (archive_entry_hardlink(entry) != nullptr) return InvalidInput("archive entry '" + name + "' is rejected: hard link");
    const auto type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) continue;  // directories are created for the files inside them
    if (type != AE_IFREG) {
      const char* kind = type == AE_IFLNK ? "symbolic link" : "device, pipe or socket";
      return InvalidInput("archive entry '" + name + "' is rejected: " + kind + "; backups contain regular files only");
    }
    if (seen.count(name) > 0) {
      return InvalidInput("archive entry '" + name + "' is rejected: it appears twice");
    }
    const la_int64_t declared = archive_entry_size(entry);
    if (declared < 0 || static_cast<uint64_t>(declared) > options.max_total_bytes - std::min(total, options.max_total_bytes)) {
      return Status(ErrorCode::kPayloadTooLarge, "archive entry '" + name + "' is rejected: its size (" + std::to_string(declared) +
                          " bytes) would exceed the space allowed for the restore (" +
                          std::to_string(options.max_total_bytes) + " bytes in all); free disk space and try again");
    }

    if (name == kManifestEntry) {
      if (manifest_text) return InvalidInput("archive entry 'manifest.json' is rejected: it appears twice");
      std::string text;
      ON_ASSIGN_OR_RETURN(auto digest, CopyEntryData(archive.get(), path, -1, &text));
      (void)digest;
      manifest_text = std::move(text);
      continue;
    }

    const bool extract = !options.extract_to.empty() && (!options.database_only || name == kDatabaseEntry || name == kPostgresDumpEntry);
    int fd = -1;
    if (extract) {
      ON_ASSIGN_OR_RETURN(fd, CreateExtractedFile(options.extract_to, name));
    }
    auto copied = CopyEntryData(archive.get(), path, fd, nullptr);
    Status synced = Status::Ok();
    if (fd >= 0) {
      if (copied.ok() && fsync(fd) != 0) synced = Status(ErrorCode::kIo, "cannot sync an extracted file: " + ErrnoText());
      close(fd);
    }
    ON_RETURN_IF_ERROR(copied.status());
    ON_RETURN_IF_ERROR(synced);
    if (copied->second != static_cast<uint64_t>(declared)) {
      return Damaged(path, name + " holds " + std::to_string(copied->second) + " bytes but its header declares " +
                               std::to_string(declared));
    }
    total += copied->second;
    seen[name] = *copied;
  }

  if (!manifest_text) return Damaged(path, "manifest.json is missing (the archive may be truncated)");
  ON_ASSIGN_OR_RETURN(auto manifest, BackupManifest::Parse(*manifest_text));
  bool has_database = false;
  std::set<std::string> listed;
  for (const auto& file : manifest.files) {
    ON_RETURN_IF_ERROR(CheckEntryName(file.path));
    listed.insert(file.path);
    if (file.path == manifest.database_entry) has_database = true;
    auto found = seen.find(file.path);
    if (found == seen.end()) return Damaged(path, file.path + " is listed in the manifest but missing from the archive");
    if (found->second.second != file.size) {
      return Damaged(path, file.path + " has " + std::to_string(found->second.second) + " bytes; the manifest records " +
                               std::to_string(file.size));
    }
    if (found->second.first != file.sha256) {
      return Damaged(path, file.path + " does not match its sha256 in the manifest (" + found->second.first.substr(0, 12) +
                               " instead of " + file.sha256.substr(0, 12) + ")");
    }
  }
  for (const auto& [name, digest] : seen) {
    if (listed.count(name) == 0) return Damaged(path, name + " is in the archive but not in the manifest");
  }
  if (!has_database) return Damaged(path, "the manifest lists no " + manifest.database_entry);

  ArchiveContents contents;
  contents.manifest = std::move(manifest);
  contents.total_bytes = total;
  return contents;
}

}  // namespace

Result<ArchiveContents> ReadArchive(const std::filesystem::path& path, const ArchiveReadOptions& options) {
  auto contents = ReadEntries(path, options);
  // Rejected names and unreadable manifests get the same lead as other damage, so the operator
  // sees at once which archive failed and why.
  if (contents.ok()) return contents;
  const Status status = contents.status();
  if (status.code() == ErrorCode::kInvalidInput && status.message().rfind("the backup archive ", 0) != 0) {
    return Damaged(path, status.message());
  }
  return status;
}

}  // namespace on::ops
