// Reads Server-Sent Events from the server under test as they arrive, 127.0.0.1 only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace on::test {

struct SseResult {
  int status = 0;  // 0 when the connection failed
  std::map<std::string, std::string> headers;  // names lowercase
  std::string body;                            // the whole body of a response that is not SSE
  std::vector<nlohmann::json> events;          // the data of each event, parsed as JSON
  std::vector<std::chrono::steady_clock::time_point> event_times;  // when each event arrived
  int heartbeats = 0;                          // comment lines (": keep-alive")
  bool ended = false;                          // the server ended the body properly
  std::string error;                           // transport error text

  std::string Header(const std::string& name) const {
    auto found = headers.find(name);
    return found == headers.end() ? "" : found->second;
  }
  // The events whose "type" is `type`.
  std::vector<nlohmann::json> OfType(const std::string& type) const;
  // The types of all events in order, e.g. "user_message token token ai_message complete".
  std::string Types() const;
};

// Called with each event as it arrives; return false to close the connection at once.
using SseEventCallback = std::function<bool(const nlohmann::json& event)>;

// POSTs `body` as JSON to `target` and reads the response; an SSE body is split into events.
SseResult PostSse(uint16_t port, const std::string& target, const nlohmann::json& body,
                  const SseEventCallback& on_event = {}, std::chrono::seconds timeout = std::chrono::seconds(180));

}  // namespace on::test
