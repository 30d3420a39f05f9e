#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ai/sse.h"

namespace on::ai {
namespace {

std::vector<SseEvent> ParseWhole(const std::string& text) {
  SseParser parser;
  std::vector<SseEvent> events;
  EXPECT_TRUE(parser.Feed(text, events));
  parser.Finish(events);
  return events;
}

const std::string kStream =
    ": keep-alive comment\r\n"
    "event: message_start\r\n"
    "data: {\"type\":\"message_start\"}\r\n"
    "\r\n"
    "data: first line\n"
    "data: second line\n"
    "id: 7\n"
    "\n"
    "data:no-space\r"
    "\r"
    "data: \xE4\xB8\xAD\xE6\x96\x87\n"
    "\n"
    "data: [DONE]\n";

TEST(SseParser, ParsesFieldsAndLineEndings) {
  const std::vector<SseEvent> events = ParseWhole(kStream);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].event, "message_start");
  EXPECT_EQ(events[0].data, "{\"type\":\"message_start\"}");
  EXPECT_EQ(events[1].event, "");
  EXPECT_EQ(events[1].data, "first line\nsecond line");
  EXPECT_EQ(events[1].id, "7");
  EXPECT_EQ(events[2].data, "no-space");
  EXPECT_EQ(events[3].data, "\xE4\xB8\xAD\xE6\x96\x87");
  EXPECT_EQ(events[4].data, "[DONE]");
}

TEST(SseParser, SplitChunksGiveSameEvents) {
  const std::vector<SseEvent> whole = ParseWhole(kStream);
  // Every split point, including inside "\r\n" pairs and UTF-8 sequences.
  for (std::size_t split = 0; split <= kStream.size(); ++split) {
    SseParser parser;
    std::vector<SseEvent> events;
    ASSERT_TRUE(parser.Feed(kStream.substr(0, split), events));
    ASSERT_TRUE(parser.Feed(kStream.substr(split), events));
    parser.Finish(events);
    ASSERT_EQ(events.size(), whole.size()) << "split at " << split;
    for (std::size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].data, whole[i].data) << "split at " << split << ", event " << i;
      EXPECT_EQ(events[i].event, whole[i].event) << "split at " << split << ", event " << i;
    }
  }
}

TEST(SseParser, OneByteChunks) {
  SseParser parser;
  std::vector<SseEvent> events;
  for (const char c : kStream) ASSERT_TRUE(parser.Feed(std::string(1, c), events));
  parser.Finish(events);
  EXPECT_EQ(events.size(), 5u);
}

TEST(SseParser, EventWithoutDataIsNotDispatched) {
  const std::vector<SseEvent> events = ParseWhole("event: ping\n\n: comment only\n\n");
  EXPECT_TRUE(events.empty());
}

TEST(SseParser, OverlongLineStopsParser) {
  SseParser parser(64);
  std::vector<SseEvent> events;
  EXPECT_FALSE(parser.Feed("data: " + std::string(100, 'x'), events));
  EXPECT_TRUE(parser.overflowed());
  EXPECT_FALSE(parser.Feed("\n\ndata: later\n\n", events));
  EXPECT_TRUE(events.empty());
}

}  // namespace
}  // namespace on::ai
