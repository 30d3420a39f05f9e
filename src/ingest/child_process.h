// Runs a helper program (pdftotext, pdfinfo) as a child process with resource limits, without a
// shell. Internal to src/ingest.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/error.h"

namespace on::ingest {

struct ChildProcessLimits {
  // Wall-clock limit; the child's process group is killed with SIGKILL when it is reached.
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
  // RLIMIT_CPU of the child, in seconds of CPU time (rounded up); 0 means no limit.
  std::chrono::seconds cpu_time{120};
  // RLIMIT_AS of the child; 0 means no limit.
  size_t memory_bytes = 0;
  // Standard output beyond this is not kept: the child is killed and output_truncated is set.
  size_t max_stdout_bytes = 64ull << 20;
  // Standard error beyond this is dropped; the child keeps running.
  size_t max_stderr_bytes = 64 << 10;
};

struct ChildProcessResult {
  // Exit status when the child exited normally, -1 otherwise.
  int exit_code = -1;
  // Signal that ended the child, 0 when it exited normally.
  int term_signal = 0;
  bool timed_out = false;
  bool output_truncated = false;
  std::string stdout_data;
  std::string stderr_data;
};

// Starts argv[0] (looked up in PATH when it has no '/') in a new process group, with standard
// input from /dev/null and no other inherited descriptors. The child gets this process's
// environment plus `environment` ("NAME=value" entries, replacing variables of the same name):
// the way to hand it a secret, which its command line would show to every local user. Collects its output and reaps it.
// Returns kConfiguration when the program cannot be found or started. A child that fails, times
// out or writes too much still makes a successful call, and the result describes what happened.
// REQUIRES: argv is not empty, and SIGCHLD is not ignored (with SIG_IGN the kernel reaps the
// child itself and its exit status is lost).
// Thread safety: safe to call from several threads, because between fork and exec the child
// calls only async-signal-safe functions.
Result<ChildProcessResult> RunChildProcess(const std::vector<std::string>& argv,
                                           const ChildProcessLimits& limits,
                                           const std::vector<std::string>& environment = {});

}  // namespace on::ingest
