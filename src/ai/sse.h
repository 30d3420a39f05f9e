// An incremental parser for server-sent events (the text/event-stream format of the WHATWG HTML
// standard), fed with network chunks that may split lines, CRLF pairs and UTF-8 sequences anywhere.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace on::ai {

struct SseEvent {
  std::string event;  // the "event:" field; empty means the default type "message"
  std::string data;   // "data:" lines joined with '\n'
  std::string id;
};

class SseParser {
 public:
  // `max_event_bytes` bounds the buffered line and data, so a peer that never ends a line cannot
  // grow memory without limit.
  explicit SseParser(std::size_t max_event_bytes = 16 * 1024 * 1024) : max_event_bytes_(max_event_bytes) {}

  // Consumes `chunk` and appends every event it completes to `events`. Returns false once the
  // buffered line or event exceeds max_event_bytes; the parser then ignores further input.
  bool Feed(std::string_view chunk, std::vector<SseEvent>& events);

  // Dispatches an event whose last line ended the stream without a blank line, as servers that
  // close right after "data: [DONE]\n" do.
  void Finish(std::vector<SseEvent>& events);

  bool overflowed() const { return overflowed_; }

 private:
  void ProcessLine(std::string_view line, std::vector<SseEvent>& events);

  std::size_t max_event_bytes_;
  std::string line_;
  SseEvent pending_;
  bool has_data_ = false;
  bool skip_lf_ = false;  // the previous chunk ended with '\r', so a leading '\n' belongs to it
  bool overflowed_ = false;
};

}  // namespace on::ai
