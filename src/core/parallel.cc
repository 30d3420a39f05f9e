#include "core/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace on {
namespace {

constexpr size_t kMaxHelperThreads = 3;

boost::asio::thread_pool& HelperPool() {
  static boost::asio::thread_pool pool(std::max<size_t>(ParallelHelperThreads(), 1));
  return pool;
}

// Shared with helper tasks that may start after the call has returned: such a task finds no block
// left and touches nothing but this state.
struct BlockQueue {
  size_t count = 0;
  size_t block_size = 0;
  size_t blocks = 0;
  const std::function<void(size_t, size_t)>* work = nullptr;  // valid until every block is done
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::mutex error_mutex;
  std::exception_ptr error;  // guarded by error_mutex

  // Runs blocks until none is left.
  void Drain() {
    for (size_t block = next.fetch_add(1); block < blocks; block = next.fetch_add(1)) {
      const size_t begin = block * block_size;
      try {
        (*work)(begin, std::min(count, begin + block_size));
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
      }
      done.fetch_add(1);
      done.notify_all();
    }
  }
};

}  // namespace

size_t ParallelHelperThreads() {
  const size_t cores = std::thread::hardware_concurrency();
  return cores <= 1 ? 0 : std::min(cores - 1, kMaxHelperThreads);
}

void ParallelBlocks(size_t count, size_t min_block, const std::function<void(size_t begin, size_t end)>& work) {
  if (count == 0) return;
  min_block = std::max<size_t>(min_block, 1);
  const size_t helpers = std::min(ParallelHelperThreads(), count / min_block > 0 ? count / min_block - 1 : 0);
  if (helpers == 0) {
    work(0, count);
    return;
  }
  auto queue = std::make_shared<BlockQueue>();
  queue->count = count;
  queue->blocks = helpers + 1;
  queue->block_size = (count + queue->blocks - 1) / queue->blocks;
  queue->blocks = (count + queue->block_size - 1) / queue->block_size;
  queue->work = &work;
  for (size_t i = 0; i < helpers; ++i) {
    boost::asio::post(HelperPool(), [queue] { queue->Drain(); });
  }
  queue->Drain();
  for (size_t done = queue->done.load(); done < queue->blocks; done = queue->done.load()) {
    queue->done.wait(done);
  }
  std::lock_guard lock(queue->error_mutex);
  if (queue->error) std::rethrow_exception(queue->error);
}

}  // namespace on
