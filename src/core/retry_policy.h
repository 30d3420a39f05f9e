// When and how soon a failed job runs again.
//
// A retry is not a loop inside the handler: the worker puts the job back in the queue with
// run_after = now + Delay(attempt), and any worker claims it again once it is due.
#pragma once

#include <chrono>

#include "core/error.h"
#include "core/settings.h"

namespace on {

struct RetryPolicy {
  // Total runs allowed, the first included; 1 means never retry.
  int max_attempts = 3;
  // Backoff base and cap: the ceiling for attempt n is min(wait_max, wait_min * 2^(n-1)).
  std::chrono::milliseconds wait_min{1000};
  std::chrono::milliseconds wait_max{30000};

  // Returns the ceiling of the delay after failed attempt `attempt` (1-based). A wait_min above
  // wait_max is capped at wait_max; a negative value counts as zero.
  std::chrono::milliseconds MaxDelay(int attempt) const;

  // Returns a delay drawn uniformly from [0, MaxDelay(attempt)] ("full jitter", so workers that
  // failed together do not retry together). `unit` is a number in [0, 1).
  std::chrono::milliseconds Delay(int attempt, double unit) const;
  // Same, with a random `unit` from a per-thread generator.
  std::chrono::milliseconds Delay(int attempt) const;

  // True when a job that failed with `error` on attempt `attempt` (1-based) runs again: the error
  // is transient and attempts are left.
  bool ShouldRetry(const Status& error, int attempt) const;
};

// True for failures that may pass by themselves: kUpstream, kTimeout, kUnavailable and
// kRateLimited. Every other error is permanent, so retrying cannot help.
bool IsTransient(const Status& status);

// The global default policy from OPEN_NOTEBOOK_RETRY_MAX_ATTEMPTS, OPEN_NOTEBOOK_RETRY_WAIT_MIN
// and OPEN_NOTEBOOK_RETRY_WAIT_MAX.
RetryPolicy DefaultRetryPolicy(const Settings& settings);

}  // namespace on
