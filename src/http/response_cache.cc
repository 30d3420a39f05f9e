#include "http/response_cache.h"

namespace on::http {

std::optional<Response> ResponseCache::Find(const std::string& key, uint64_t version) const {
  std::lock_guard lock(mutex_);
  auto found = entries_.find(key);
  if (found == entries_.end() || found->second.version != version) return std::nullopt;
  return found->second.response;
}

void ResponseCache::Store(const std::string& key, uint64_t version, const Response& response) {
  if (response.body.size() > max_body_bytes_) return;
  std::lock_guard lock(mutex_);
  // Entries of an old version are useless; dropping them all keeps the map small and simple.
  if (entries_.size() >= max_entries_) entries_.clear();
  entries_[key] = Entry{version, response};
}

}  // namespace on::http
