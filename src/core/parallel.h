// Splitting one request's CPU work over idle cores, so a single search on an otherwise quiet
// server finishes sooner.
#pragma once

#include <cstddef>
#include <functional>

namespace on {

// Calls `work(begin, end)` for consecutive blocks covering [0, count), each block at least
// `min_block` items long. The calling thread works through the blocks itself. A process-wide pool
// of helper threads (one fewer than the cores, at most three) takes blocks when it is idle. The
// call never waits for a busy helper, so on a loaded machine it costs about what a plain loop costs.
// Returns when every block is done; an exception thrown by `work` is rethrown here. `work` must be
// safe to run on several threads at once for different blocks.
void ParallelBlocks(size_t count, size_t min_block, const std::function<void(size_t begin, size_t end)>& work);

// The number of helper threads ParallelBlocks uses on this machine (0 on one core).
size_t ParallelHelperThreads();

}  // namespace on
