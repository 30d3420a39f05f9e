#include "http/password_guard.h"

#include <algorithm>

#include <sodium.h>
#include <spdlog/spdlog.h>

namespace on::http {
namespace {

constexpr std::chrono::seconds kMaxLockout{3600};
// Addresses remembered at most; beyond this, entries without a current lockout are dropped.
constexpr size_t kMaxTrackedClients = 10000;

std::array<unsigned char, 32> Hash(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                     nullptr, 0);
  return digest;
}

bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

PasswordGuard::PasswordGuard(std::string_view password, int max_failures, std::chrono::seconds lockout)
    : enabled_(!password.empty()), max_failures_(max_failures), lockout_(lockout) {
  if (sodium_init() < 0) spdlog::critical("libsodium failed to initialise");
  if (enabled_) hash_ = Hash(password);
}

bool PasswordGuard::Matches(std::string_view presented) const {
  const auto digest = Hash(presented);
  return sodium_memcmp(digest.data(), hash_.data(), digest.size()) == 0;
}

Status PasswordGuard::Check(std::string_view client, std::optional<std::string_view> authorization,
                            std::chrono::seconds* retry_after) {
  if (!enabled_) return Status::Ok();
  const auto now = Clock::now();
  const std::string key(client);

  {
    std::lock_guard lock(mutex_);
    auto found = failures_.find(key);
    if (found != failures_.end() && found->second.locked_until > now) {
      *retry_after = std::chrono::ceil<std::chrono::seconds>(found->second.locked_until - now);
      return Status(ErrorCode::kRateLimited, "Too many failed password attempts from this address; retry in " +
                                                 std::to_string(retry_after->count()) + " seconds");
    }
  }

  if (!authorization) return Status(ErrorCode::kUnauthenticated, "Missing authorization header");
  if (!StartsWithIgnoringCase(*authorization, "bearer ")) {
    return Status(ErrorCode::kUnauthenticated, "Invalid authorization header format");
  }
  std::string_view presented = authorization->substr(7);
  while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);

  if (Matches(presented)) {
    std::lock_guard lock(mutex_);
    failures_.erase(key);
    return Status::Ok();
  }

  std::lock_guard lock(mutex_);
  RecordFailure(key, now);
  return Status(ErrorCode::kUnauthenticated, "Invalid password");
}

bool PasswordGuard::Accepts(std::string_view client, std::optional<std::string_view> authorization) {
  if (!enabled_) return true;
  if (!authorization || !StartsWithIgnoringCase(*authorization, "bearer ")) return false;
  {
    std::lock_guard lock(mutex_);
    auto found = failures_.find(std::string(client));
    if (found != failures_.end() && found->second.locked_until > Clock::now()) return false;
  }
  std::string_view presented = authorization->substr(7);
  while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
  return Matches(presented);
}

void PasswordGuard::RecordFailure(const std::string& client, Clock::time_point now) {
  if (failures_.size() >= kMaxTrackedClients) PruneLocked(now);
  Failures& entry = failures_[client];
  // Failures older than the base lockout are forgotten, so an occasional typo never adds up.
  if (now - entry.last_failure > lockout_ && entry.locked_until <= now) entry.count = 0;
  entry.count += 1;
  entry.last_failure = now;
  if (entry.count < max_failures_) return;

  const int extra = std::min(entry.count - max_failures_, 12);
  const auto lockout = std::min(kMaxLockout, lockout_ * (1 << extra));
  entry.locked_until = now + lockout;
  spdlog::warn("client {} locked out for {} s after {} failed password attempts", client, lockout.count(), entry.count);
}

void PasswordGuard::PruneLocked(Clock::time_point now) {
  for (auto it = failures_.begin(); it != failures_.end();) {
    it = it->second.locked_until <= now ? failures_.erase(it) : std::next(it);
  }
}

}  // namespace on::http
