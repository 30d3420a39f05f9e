// Password protection: Bearer password, constant-time comparison, throttling per client address.
//
// The password is kept only as its BLAKE2b hash; a presented password is hashed the same way and
// the two hashes are compared with sodium_memcmp, so neither length nor prefix leaks through timing.
#pragma once

#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/error.h"

namespace on::http {

class PasswordGuard {
 public:
  // An empty password disables the guard. `max_failures` wrong passwords from one address lock
  // it out for `lockout`, doubling with each further failure up to one hour.
  PasswordGuard(std::string_view password, int max_failures, std::chrono::seconds lockout);

  bool enabled() const { return enabled_; }

  // Checks the Authorization header of a request from `client`. Returns kUnauthenticated with
  // the reference's messages, or kRateLimited with `retry_after` set while the address is locked out.
  Status Check(std::string_view client, std::optional<std::string_view> authorization,
               std::chrono::seconds* retry_after);

  // True when Check would accept the request; records nothing, so a refusal is left for Check
  // to count and report.
  bool Accepts(std::string_view client, std::optional<std::string_view> authorization);

 private:
  using Clock = std::chrono::steady_clock;
  struct Failures {
    int count = 0;
    Clock::time_point locked_until{};
    Clock::time_point last_failure{};
  };

  bool Matches(std::string_view presented) const;
  void RecordFailure(const std::string& client, Clock::time_point now);
  void PruneLocked(Clock::time_point now);

  bool enabled_ = false;
  std::array<unsigned char, 32> hash_{};
  int max_failures_;
  std::chrono::seconds lockout_;
  std::mutex mutex_;
  std::unordered_map<std::string, Failures> failures_;  // guarded by mutex_
};

}  // namespace on::http
