#include "ops/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace on::ops {
namespace {

Result<int> OpenLockFile(const std::filesystem::path& path) {
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status(ErrorCode::kIo, "cannot open the lock file " + path.string() + ": " + std::strerror(errno));
  }
  return fd;
}

// True when `fd` is still the file at `path`. A restore renames the data directory aside, so a
// process that opened the lock file just before may hold a lock on the directory that is gone.
bool StillAtPath(int fd, const std::filesystem::path& path) {
  struct stat opened {};
  struct stat current {};
  if (fstat(fd, &opened) != 0 || stat(path.c_str(), &current) != 0) return false;
  return opened.st_dev == current.st_dev && opened.st_ino == current.st_ino;
}

}  // namespace

Result<DataDirLock> DataDirLock::AcquireShared(const std::filesystem::path& data_dir) {
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) {
    return Status(ErrorCode::kIo, "cannot create the data directory " + data_dir.string() + ": " + error.message());
  }
  const auto path = data_dir / kFileName;
  for (int attempt = 0; attempt < 10; ++attempt) {
    ON_ASSIGN_OR_RETURN(int fd, OpenLockFile(path));
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
      const int saved = errno;
      close(fd);
      if (saved == EWOULDBLOCK) {
        return Status(ErrorCode::kUnavailable, "`open-notebook backup restore` is replacing the data in " +
                                                   data_dir.string() + "; start this command again when it has finished");
      }
      return Status(ErrorCode::kIo, "cannot lock " + path.string() + ": " + std::strerror(saved));
    }
    if (StillAtPath(fd, path)) return DataDirLock(fd);
    close(fd);
  }
  return Status(ErrorCode::kUnavailable, "the data directory " + data_dir.string() +
                                             " kept changing while it was being locked; try again");
}

Result<DataDirLock> DataDirLock::TryAcquireExclusive(const std::filesystem::path& data_dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(data_dir, error)) {
    return NotFound("the data directory " + data_dir.string() + " does not exist");
  }
  const auto path = data_dir / kFileName;
  ON_ASSIGN_OR_RETURN(int fd, OpenLockFile(path));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int saved = errno;
    close(fd);
    if (saved == EWOULDBLOCK) {
      return Status(ErrorCode::kConflict,
                    "an open-notebook process (serve, api, worker or backup create) is using " + data_dir.string() +
                        "; stop it first (for example `make stop-all` or `systemctl stop open-notebook-*`)");
    }
    return Status(ErrorCode::kIo, "cannot lock " + path.string() + ": " + std::strerror(saved));
  }
  return DataDirLock(fd);
}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace on::ops
