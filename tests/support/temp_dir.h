// A directory under $TMPDIR (or /tmp) that exists for the lifetime of the object.
#pragma once

#include <filesystem>

namespace on::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace on::test
