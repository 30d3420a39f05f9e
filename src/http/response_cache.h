// Cached GET responses, valid while the data version they were built from is current.
//
// Handlers mark a response cacheable (Response::cacheable) when it depends only on the request
// target and the stored data. The server serves a repeated GET from the cache on its I/O
// thread, after authentication, without running the handler; any write to the database changes
// the data version and so invalidates every entry at once.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "http/message.h"

namespace on::http {

class ResponseCache {
 public:
  explicit ResponseCache(size_t max_entries = 256, size_t max_body_bytes = 1u << 20)
      : max_entries_(max_entries), max_body_bytes_(max_body_bytes) {}

  // The response stored for `key` at `version`, or nullopt.
  std::optional<Response> Find(const std::string& key, uint64_t version) const;

  // Stores `response` for `key`, built from data at `version`. Large bodies are not stored.
  void Store(const std::string& key, uint64_t version, const Response& response);

 private:
  struct Entry {
    uint64_t version = 0;
    Response response;
  };

  size_t max_entries_;
  size_t max_body_bytes_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mutex_
};

}  // namespace on::http
