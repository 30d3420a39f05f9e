#include "core/retry_policy.h"

#include <algorithm>
#include <random>

namespace on {

std::chrono::milliseconds RetryPolicy::MaxDelay(int attempt) const {
  const int64_t cap = std::max<int64_t>(0, wait_max.count());
  int64_t ceiling = std::clamp<int64_t>(wait_min.count(), 0, cap);
  // Doubling stops at the cap, so a large attempt number cannot overflow.
  for (int n = 1; n < attempt && ceiling < cap; ++n) ceiling = std::min(cap, ceiling * 2);
  return std::chrono::milliseconds(ceiling);
}

std::chrono::milliseconds RetryPolicy::Delay(int attempt, double unit) const {
  const double clamped = std::clamp(unit, 0.0, 1.0);
  const auto ceiling = static_cast<double>(MaxDelay(attempt).count());
  return std::chrono::milliseconds(static_cast<int64_t>(ceiling * clamped));
}

std::chrono::milliseconds RetryPolicy::Delay(int attempt) const {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uniform_real_distribution<double> distribution(0.0, 1.0);
  return Delay(attempt, distribution(generator));
}

bool RetryPolicy::ShouldRetry(const Status& error, int attempt) const {
  return IsTransient(error) && attempt < max_attempts;
}

bool IsTransient(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kUpstream:
    case ErrorCode::kTimeout:
    case ErrorCode::kUnavailable:
    case ErrorCode::kRateLimited:
      return true;
    default:
      return false;
  }
}

RetryPolicy DefaultRetryPolicy(const Settings& settings) {
  RetryPolicy policy;
  policy.max_attempts = static_cast<int>(settings.retry_max_attempts);
  policy.wait_min = std::chrono::seconds(settings.retry_wait_min_s);
  policy.wait_max = std::chrono::seconds(settings.retry_wait_max_s);
  return policy;
}

}  // namespace on
