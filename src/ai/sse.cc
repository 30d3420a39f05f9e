#include "ai/sse.h"

namespace on::ai {

bool SseParser::Feed(std::string_view chunk, std::vector<SseEvent>& events) {
  if (overflowed_) return false;
  for (const char c : chunk) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') continue;
    }
    if (c == '\r' || c == '\n') {
      skip_lf_ = c == '\r';
      ProcessLine(line_, events);
      line_.clear();
      continue;
    }
    line_.push_back(c);
    if (line_.size() + pending_.data.size() > max_event_bytes_) {
      overflowed_ = true;
      line_.clear();
      pending_ = {};
      return false;
    }
  }
  return true;
}

void SseParser::Finish(std::vector<SseEvent>& events) {
  if (overflowed_) return;
  if (!line_.empty()) ProcessLine(line_, events);
  line_.clear();
  ProcessLine("", events);
}

void SseParser::ProcessLine(std::string_view line, std::vector<SseEvent>& events) {
  if (line.empty()) {
    if (has_data_) events.push_back(std::move(pending_));
    pending_ = {};
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // comment, used by servers as a keep-alive
  const std::size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);

  if (field == "data") {
    if (has_data_) pending_.data.push_back('\n');
    pending_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    pending_.event = std::string(value);
  } else if (field == "id") {
    pending_.id = std::string(value);
  }
  // "retry" and unknown fields are ignored: reconnection is the caller's retry policy.
}

}  // namespace on::ai
