#include "core/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace on {
namespace {

TEST(ParallelBlocks, CoversEveryItemOnce) {
  for (size_t count : {0u, 1u, 15u, 16u, 17u, 100u, 1001u}) {
    std::vector<std::atomic<int>> seen(count);
    ParallelBlocks(count, 16, [&](size_t begin, size_t end) {
      ASSERT_LT(begin, end);
      ASSERT_LE(end, count);
      for (size_t i = begin; i < end; ++i) seen[i].fetch_add(1);
    });
    for (size_t i = 0; i < count; ++i) EXPECT_EQ(seen[i].load(), 1) << "item " << i << " of " << count;
  }
}

TEST(ParallelBlocks, BlocksRespectTheMinimum) {
  std::atomic<size_t> blocks{0};
  std::atomic<size_t> short_blocks{0};
  ParallelBlocks(100, 40, [&](size_t begin, size_t end) {
    blocks.fetch_add(1);
    if (end - begin < 40 && end != 100) short_blocks.fetch_add(1);
  });
  EXPECT_GE(blocks.load(), 1u);
  EXPECT_LE(blocks.load(), 2u);  // 100 items in blocks of at least 40
  EXPECT_EQ(short_blocks.load(), 0u);
}

TEST(ParallelBlocks, RethrowsTheExceptionOfABlock) {
  EXPECT_THROW(ParallelBlocks(64, 1,
                              [](size_t begin, size_t) {
                                if (begin == 0) throw std::runtime_error("block failed");
                              }),
               std::runtime_error);
}

// Many callers at once, more than there are helpers: every call still finishes with all its items.
TEST(ParallelBlocks, ConcurrentCallersAllFinish) {
  std::vector<std::thread> callers;
  std::atomic<size_t> total{0};
  for (int caller = 0; caller < 8; ++caller) {
    callers.emplace_back([&] {
      for (int round = 0; round < 50; ++round) {
        ParallelBlocks(100, 16, [&](size_t begin, size_t end) { total.fetch_add(end - begin); });
      }
    });
  }
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(total.load(), 8u * 50u * 100u);
}

}  // namespace
}  // namespace on
