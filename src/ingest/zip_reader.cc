#include "ingest/zip_reader.h"

#include <array>
#include <utility>

namespace on::ingest {
namespace {

// DOCX and EPUB files have tens to a few thousand entries. libzip reads the whole central
// directory at open time, so the count is checked before any entry is used.
constexpr zip_int64_t kMaxEntries = 100000;

}  // namespace

Result<ZipReader> ZipReader::Open(std::string_view bytes, std::string format,
                                  size_t budget_bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source == nullptr) {
    std::string reason = zip_error_strerror(&error);
    zip_error_fini(&error);
    return InternalError("could not read the " + format + " archive: " + reason);
  }

  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY, &error);
  if (archive == nullptr) {
    std::string reason = zip_error_strerror(&error);
    zip_error_fini(&error);
    zip_source_free(source);
    return InvalidInput("the " + format + " file is not a valid ZIP archive (" + reason +
                        "); it is damaged or not in " + format + " format");
  }
  zip_error_fini(&error);

  ZipReader reader(archive, std::move(format), budget_bytes);
  const zip_int64_t entries = zip_get_num_entries(archive, 0);
  if (entries > kMaxEntries) {
    return InvalidInput("the " + reader.format_ + " archive has " + std::to_string(entries) +
                        " entries, more than the " + std::to_string(kMaxEntries) + " allowed");
  }
  return reader;
}

zip_int64_t ZipReader::Locate(const std::string& name) const {
  const zip_int64_t index = zip_name_locate(archive_.get(), name.c_str(), 0);
  if (index >= 0) return index;
  // Some EPUB writers spell a file name differently in the manifest and in the archive.
  return zip_name_locate(archive_.get(), name.c_str(), ZIP_FL_NOCASE);
}

bool ZipReader::Contains(const std::string& name) const { return Locate(name) >= 0; }

Status ZipReader::BudgetExceeded(const std::string& name, zip_uint64_t size) const {
  return InvalidInput("the " + format_ + " archive entry " + name + " expands to " +
                      std::to_string(size) + " bytes or more, beyond the " +
                      std::to_string(remaining_bytes_) +
                      " bytes left of max_archive_entry_bytes; the file is rejected as a "
                      "possible zip bomb");
}

Result<std::string> ZipReader::Read(const std::string& name) {
  const zip_int64_t index = Locate(name);
  if (index < 0) {
    return InvalidInput("the " + format_ + " archive has no entry " + name +
                        "; the file is damaged or not in " + format_ + " format");
  }

  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat_index(archive_.get(), static_cast<zip_uint64_t>(index), 0, &stat) != 0) {
    return InvalidInput("the " + format_ + " archive entry " + name + " cannot be read: " +
                        zip_strerror(archive_.get()));
  }
  if ((stat.valid & ZIP_STAT_ENCRYPTION_METHOD) != 0 &&
      stat.encryption_method != ZIP_EM_NONE) {
    return InvalidInput("the " + format_ + " archive entry " + name +
                        " is password-protected; remove the password and upload it again");
  }
  // The declared size is checked first so that a bomb fails before anything is inflated.
  if ((stat.valid & ZIP_STAT_SIZE) != 0 && stat.size > remaining_bytes_) {
    return BudgetExceeded(name, stat.size);
  }

  zip_file_t* file = zip_fopen_index(archive_.get(), static_cast<zip_uint64_t>(index), 0);
  if (file == nullptr) {
    return InvalidInput("the " + format_ + " archive entry " + name + " cannot be opened: " +
                        zip_strerror(archive_.get()));
  }

  // The declared size may lie, so the bytes actually inflated are counted as well.
  std::string content;
  std::array<char, 65536> chunk{};
  Status status;
  while (true) {
    const zip_int64_t n = zip_fread(file, chunk.data(), chunk.size());
    if (n < 0) {
      status = InvalidInput("the " + format_ + " archive entry " + name + " is corrupt: " +
                            zip_file_strerror(file));
      break;
    }
    if (n == 0) break;
    if (content.size() + static_cast<size_t>(n) > remaining_bytes_) {
      status = BudgetExceeded(name, content.size() + static_cast<size_t>(n));
      break;
    }
    content.append(chunk.data(), static_cast<size_t>(n));
  }
  zip_fclose(file);
  if (!status.ok()) return status;

  remaining_bytes_ -= content.size();
  return content;
}

}  // namespace on::ingest
