#include "core/retry_policy.h"

#include <gtest/gtest.h>

namespace on {
namespace {

using std::chrono::milliseconds;

RetryPolicy Policy(int64_t min_ms, int64_t max_ms) {
  RetryPolicy policy;
  policy.max_attempts = 5;
  policy.wait_min = milliseconds(min_ms);
  policy.wait_max = milliseconds(max_ms);
  return policy;
}

TEST(RetryPolicy, MaxDelayDoublesUpToCap) {
  const RetryPolicy policy = Policy(1000, 30000);
  EXPECT_EQ(policy.MaxDelay(1), milliseconds(1000));
  EXPECT_EQ(policy.MaxDelay(2), milliseconds(2000));
  EXPECT_EQ(policy.MaxDelay(3), milliseconds(4000));
  EXPECT_EQ(policy.MaxDelay(5), milliseconds(16000));
  EXPECT_EQ(policy.MaxDelay(6), milliseconds(30000));
  EXPECT_EQ(policy.MaxDelay(1000000), milliseconds(30000));
}

TEST(RetryPolicy, MaxDelayHandlesOddSettings) {
  EXPECT_EQ(Policy(0, 30000).MaxDelay(4), milliseconds(0));
  EXPECT_EQ(Policy(5000, 2000).MaxDelay(1), milliseconds(2000));
  EXPECT_EQ(Policy(-5, 100).MaxDelay(3), milliseconds(0));
  EXPECT_EQ(Policy(100, -1).MaxDelay(3), milliseconds(0));
}

TEST(RetryPolicy, DelayStaysWithinBounds) {
  const RetryPolicy policy = Policy(100, 3000);
  for (int attempt = 1; attempt <= 12; ++attempt) {
    const milliseconds ceiling = policy.MaxDelay(attempt);
    for (int draw = 0; draw < 200; ++draw) {
      const milliseconds delay = policy.Delay(attempt);
      EXPECT_GE(delay.count(), 0) << "attempt " << attempt;
      EXPECT_LE(delay, ceiling) << "attempt " << attempt;
    }
  }
  EXPECT_EQ(policy.Delay(3, 0.0), milliseconds(0));
  EXPECT_EQ(policy.Delay(3, 0.5), milliseconds(200));
  EXPECT_EQ(policy.Delay(3, 7.0), milliseconds(400));
}

// Full jitter spreads retries over the whole range rather than bunching them at the ceiling.
TEST(RetryPolicy, DelayIsJittered) {
  const RetryPolicy policy = Policy(1000, 1000);
  int low = 0;
  int high = 0;
  for (int draw = 0; draw < 400; ++draw) {
    const auto delay = policy.Delay(1).count();
    if (delay < 500) ++low;
    if (delay >= 500) ++high;
  }
  EXPECT_GT(low, 100);
  EXPECT_GT(high, 100);
}

TEST(RetryPolicy, TransientCodes) {
  EXPECT_TRUE(IsTransient(Status(ErrorCode::kUpstream, "x")));
  EXPECT_TRUE(IsTransient(Status(ErrorCode::kTimeout, "x")));
  EXPECT_TRUE(IsTransient(Status(ErrorCode::kUnavailable, "x")));
  EXPECT_TRUE(IsTransient(Status(ErrorCode::kRateLimited, "x")));
  EXPECT_FALSE(IsTransient(Status::Ok()));
  EXPECT_FALSE(IsTransient(InvalidInput("x")));
  EXPECT_FALSE(IsTransient(NotFound("x")));
  EXPECT_FALSE(IsTransient(Status(ErrorCode::kConfiguration, "x")));
  EXPECT_FALSE(IsTransient(Status(ErrorCode::kCancelled, "x")));
  EXPECT_FALSE(IsTransient(InternalError("x")));
}

TEST(RetryPolicy, ShouldRetryNeedsTransientAndAttemptsLeft) {
  RetryPolicy policy = Policy(1, 2);
  policy.max_attempts = 3;
  const Status upstream(ErrorCode::kUpstream, "503");
  EXPECT_TRUE(policy.ShouldRetry(upstream, 1));
  EXPECT_TRUE(policy.ShouldRetry(upstream, 2));
  EXPECT_FALSE(policy.ShouldRetry(upstream, 3));
  EXPECT_FALSE(policy.ShouldRetry(InvalidInput("bad"), 1));
}

TEST(RetryPolicy, DefaultsComeFromSettings) {
  auto settings = Settings::Load([](std::string_view name) -> std::optional<std::string> {
    if (name == "OPEN_NOTEBOOK_RETRY_MAX_ATTEMPTS") return "7";
    if (name == "OPEN_NOTEBOOK_RETRY_WAIT_MIN") return "2";
    return std::nullopt;
  });
  ASSERT_TRUE(settings.ok());
  const RetryPolicy policy = DefaultRetryPolicy(*settings);
  EXPECT_EQ(policy.max_attempts, 7);
  EXPECT_EQ(policy.wait_min, milliseconds(2000));
  EXPECT_EQ(policy.wait_max, milliseconds(30000));
}

}  // namespace
}  // namespace on
