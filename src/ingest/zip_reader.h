// Read-only access to a ZIP archive in memory (DOCX and EPUB containers) with a budget of
// uncompressed bytes, so that a zip bomb fails instead of exhausting memory. Internal to
// src/ingest.
#pragma once

#include <zip.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace on::ingest {

class ZipReader {
 public:
  // Opens the archive in `bytes`, which must outlive the reader. `format` ("DOCX", "EPUB") names
  // the document in error messages. `budget_bytes` is the total number of uncompressed bytes that
  // Read may return over the reader's lifetime.
  // Returns kInvalidInput when the bytes are not a ZIP archive or it has too many entries.
  static Result<ZipReader> Open(std::string_view bytes, std::string format, size_t budget_bytes);

  // True when the archive has an entry named exactly `name` (or differing only in case).
  bool Contains(const std::string& name) const;

  // Returns the uncompressed content of the entry. Fails with kInvalidInput when the entry is
  // missing, encrypted or corrupt, or when its declared or actual size exceeds what is left of
  // the budget.
  Result<std::string> Read(const std::string& name);

 private:
  struct ArchiveCloser {
    void operator()(zip_t* archive) const { zip_discard(archive); }
  };

  ZipReader(zip_t* archive, std::string format, size_t budget_bytes)
      : archive_(archive), format_(std::move(format)), remaining_bytes_(budget_bytes) {}

  zip_int64_t Locate(const std::string& name) const;
  Status BudgetExceeded(const std::string& name, zip_uint64_t size) const;

  std::unique_ptr<zip_t, ArchiveCloser> archive_;
  std::string format_;
  size_t remaining_bytes_;
};

}  // namespace on::ingest
