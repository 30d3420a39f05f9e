// Timestamps of the job tables and the worker liveness rules built on them.
#include "jobs/queue_overview.h"

#include <gtest/gtest.h>

#include "core/ids.h"

namespace on {
namespace {

using namespace std::chrono_literals;

TEST(Timestamps, FormatParseRoundTrip) {
  const auto now = std::chrono::time_point_cast<std::chrono::microseconds>(SystemClock::now());
  const std::string text = FormatTimestamp(now);
  EXPECT_EQ(text.size(), NowTimestamp().size());
  auto parsed = ParseTimestamp(text);
  ASSERT_TRUE(parsed.has_value()) << text;
  EXPECT_EQ(*parsed, now);
}

TEST(Timestamps, ParsesOffsetsAndShortFractions) {
  auto utc = ParseTimestamp("2026-12-04T20:15:03.5Z");
  auto offset = ParseTimestamp("2026-12-04T22:15:03.500000+02:00");
  ASSERT_TRUE(utc.has_value());
  ASSERT_TRUE(offset.has_value());
  EXPECT_EQ(*utc, *offset);
  EXPECT_EQ(FormatTimestamp(*utc), "2026-12-04T20:15:03.500000+00:00");
  EXPECT_TRUE(ParseTimestamp("2026-12-04T20:15:03").has_value());
}

TEST(Timestamps, RejectsMalformedText) {
  for (const char* text : {"", "2026-12-04", "2026-13-04T00:00:00Z", "2026-12-04T24:00:00Z", "2026-12-04T20:15:03.",
                           "2026-12-04T20:15:03+0200", "2026-12-04T20:15:03Z trailing", "yesterday"}) {
    EXPECT_FALSE(ParseTimestamp(text).has_value()) << text;
  }
}

TEST(Timestamps, TextOrderIsTimeOrder) {
  const auto base = SystemClock::now();
  EXPECT_LT(FormatTimestamp(base), FormatTimestamp(base + 1us));
  EXPECT_LT(FormatTimestamp(base + 999ms), FormatTimestamp(base + 1s));
}

storage::WorkerInfo Worker(std::chrono::milliseconds age, SystemClock::time_point now,
                           std::vector<std::string> commands = {"debug.sleep"}) {
  storage::WorkerInfo worker;
  worker.id = "worker:test";
  worker.commands = std::move(commands);
  worker.lease = 30s;
  worker.heartbeat_at = FormatTimestamp(now - age);
  return worker;
}

TEST(QueueOverview, LivenessFollowsLease) {
  const auto now = SystemClock::now();
  EXPECT_TRUE(jobs::IsLive(Worker(1s, now), now));
  EXPECT_TRUE(jobs::IsLive(Worker(29s, now), now));
  EXPECT_FALSE(jobs::IsLive(Worker(31s, now), now));
  storage::WorkerInfo unparsable = Worker(1s, now);
  unparsable.heartbeat_at = "garbage";
  EXPECT_FALSE(jobs::IsLive(unparsable, now));
}

TEST(QueueOverview, QueuedJobWarnings) {
  const auto now = SystemClock::now();
  auto none = jobs::QueuedJobWarning({}, "debug.sleep", now);
  ASSERT_TRUE(none.has_value());
  EXPECT_NE(none->find("No worker is running"), std::string::npos);

  auto dead = jobs::QueuedJobWarning({Worker(5min, now)}, "debug.sleep", now);
  ASSERT_TRUE(dead.has_value());
  EXPECT_NE(dead->find("No worker is running"), std::string::npos);

  auto other = jobs::QueuedJobWarning({Worker(1s, now, {"open_notebook.process_source"})}, "debug.sleep", now);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->find("No running worker handles command 'debug.sleep'"), std::string::npos);

  EXPECT_FALSE(jobs::QueuedJobWarning({Worker(1s, now)}, "debug.sleep", now).has_value());
}

TEST(QueueOverview, JsonSummaries) {
  const auto now = SystemClock::now();
  nlohmann::json workers = jobs::WorkersJson({Worker(2s, now), Worker(10min, now)}, now);
  EXPECT_EQ(workers["live"], 1);
  ASSERT_EQ(workers["workers"].size(), 1u);
  EXPECT_NEAR(workers["workers"][0]["heartbeat_age_seconds"].get<double>(), 2.0, 0.2);
  EXPECT_FALSE(workers["workers"][0].contains("host"));

  storage::QueueStats stats;
  stats.queued = 3;
  stats.oldest_queued_created = FormatTimestamp(now - 90s);
  nlohmann::json queue = jobs::QueueJson(stats, now);
  EXPECT_EQ(queue["queued"], 3);
  EXPECT_NEAR(queue["oldest_queued_age_seconds"].get<double>(), 90.0, 0.2);
  EXPECT_TRUE(jobs::QueueJson(storage::QueueStats{}, now)["oldest_queued_age_seconds"].is_null());
}

}  // namespace
}  // namespace on
