// An advisory lock on the data directory that tells processes using it apart from a restore.
//
// Every process that opens the data (serve, api, worker, backup create) holds a shared flock on
// <data_dir>/.lock for its lifetime, so any number of them run together. `backup restore` takes
// the exclusive lock without waiting: it gets it only when no such process is running, and while
// it holds it no such process can start. The kernel drops the lock when its process exits, so a
// crash never leaves a stale lock behind.
#pragma once

#include <filesystem>

#include "core/error.h"

namespace on::ops {

class DataDirLock {
 public:
  // Takes the shared lock on <data_dir>/.lock, creating the directory and the file when missing.
  // kUnavailable naming the restore when the exclusive lock is held.
  static Result<DataDirLock> AcquireShared(const std::filesystem::path& data_dir);

  // Takes the exclusive lock without waiting. kConflict naming the fix when a process holds the
  // shared lock. Creates the lock file, but never the directory: a missing directory is kNotFound.
  static Result<DataDirLock> TryAcquireExclusive(const std::filesystem::path& data_dir);

  DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

  static constexpr const char* kFileName = ".lock";

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}

  int fd_ = -1;
};

}  // namespace on::ops
