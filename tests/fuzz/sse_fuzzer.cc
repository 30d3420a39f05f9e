// libFuzzer target for the server-sent events parser (ai/sse.h) that reads AI provider streams.
//
// Input: a stream body; its first byte picks a split point.
//
// Invariants checked:
// - Feeding the body whole and feeding it in two pieces split anywhere give the same events.
// - No event is dispatched without a "data" line, so every event's data came from the input and
//   is never longer than the input.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "ai/sse.h"
#include "fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view body = on::fuzz::AsText(data + 1, size - 1);
  const size_t split = body.empty() ? 0 : data[0] % (body.size() + 1);

  on::ai::SseParser whole;
  std::vector<on::ai::SseEvent> whole_events;
  const bool whole_ok = whole.Feed(body, whole_events);
  whole.Finish(whole_events);

  on::ai::SseParser pieces;
  std::vector<on::ai::SseEvent> piece_events;
  const bool first_ok = pieces.Feed(body.substr(0, split), piece_events);
  const bool second_ok = pieces.Feed(body.substr(split), piece_events);
  pieces.Finish(piece_events);

  FUZZ_CHECK(whole_ok == (first_ok && second_ok));
  FUZZ_CHECK(whole_events.size() == piece_events.size());
  for (size_t i = 0; i < whole_events.size(); ++i) {
    FUZZ_CHECK(whole_events[i].data == piece_events[i].data);
    FUZZ_CHECK(whole_events[i].event == piece_events[i].event);
    FUZZ_CHECK(whole_events[i].id == piece_events[i].id);
    FUZZ_CHECK(whole_events[i].data.size() <= body.size());
  }
  return 0;
}
