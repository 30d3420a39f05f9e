#include "core/metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "support/prometheus_text.h"

namespace on {
namespace {

test::PromText ParseStrict(const std::string& text) {
  std::vector<std::string> errors;
  test::PromText parsed = test::ParsePromText(text, &errors);
  for (const auto& error : errors) ADD_FAILURE() << error << "\n" << text;
  return parsed;
}

TEST(Metrics, WritesHelpTypeAndLabels) {
  metrics::Registry registry;
  auto& requests = registry.Add("test_requests_total", "Requests.", metrics::Type::kCounter, {"route", "status"});
  auto& depth = registry.Add("test_depth", "Depth.", metrics::Type::kGauge);
  requests.CounterFor({"/api/things/{id}", "200"}).Add(3);
  requests.CounterFor({"/api/things/{id}", "404"}).Add();
  depth.GaugeFor({}).Set(-2.5);

  metrics::ExpositionWriter writer;
  registry.Write(writer);
  const std::string text = writer.Take();
  EXPECT_NE(text.find("# HELP test_requests_total Requests.\n# TYPE test_requests_total counter\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("test_requests_total{route=\"/api/things/{id}\",status=\"200\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_depth -2.5\n"), std::string::npos) << text;

  const test::PromText parsed = ParseStrict(text);
  EXPECT_EQ(parsed.families.at("test_requests_total").type, "counter");
  EXPECT_EQ(parsed.families.at("test_depth").type, "gauge");
  EXPECT_EQ(parsed.Value("test_requests_total", {{"status", "404"}}), 1);
  EXPECT_EQ(parsed.Value("test_depth"), -2.5);
}

TEST(Metrics, FormatsValuesInPlainNotation) {
  EXPECT_EQ(metrics::FormatValue(3), "3");
  EXPECT_EQ(metrics::FormatValue(0.0005), "0.0005");
  EXPECT_EQ(metrics::FormatValue(-2.5), "-2.5");
  EXPECT_EQ(metrics::FormatValue(1e300), "1e+300");
  EXPECT_EQ(metrics::FormatValue(HUGE_VAL), "+Inf");
  EXPECT_EQ(metrics::FormatValue(-HUGE_VAL), "-Inf");
  EXPECT_EQ(metrics::FormatValue(NAN), "NaN");
}

TEST(Metrics, EscapesLabelValues) {
  EXPECT_EQ(metrics::EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  metrics::Registry registry;
  auto& family = registry.Add("test_escaped", "Line one\nback\\slash.", metrics::Type::kCounter, {"value"});
  const std::string awkward = "quote \" backslash \\ newline \n end {}=,";
  family.CounterFor({awkward}).Add(7);

  metrics::ExpositionWriter writer;
  registry.Write(writer);
  const std::string text = writer.Take();
  EXPECT_NE(text.find("# HELP test_escaped Line one\\nback\\\\slash.\n"), std::string::npos) << text;
  const test::PromText parsed = ParseStrict(text);
  EXPECT_EQ(parsed.Value("test_escaped", {{"value", awkward}}), 7);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  static constexpr double kBounds[] = {0.1, 1, 2.5};
  metrics::Registry registry;
  auto& family = registry.Add("test_seconds", "Time.", metrics::Type::kHistogram, {"route"}, kBounds);
  auto& histogram = family.HistogramFor({"/a"});
  for (double value : {0.05, 0.1, 0.5, 1.0, 2.0, 30.0}) histogram.Observe(value);
  family.HistogramFor({"/b"}).Observe(0.2);

  metrics::ExpositionWriter writer;
  registry.Write(writer);
  const std::string text = writer.Take();
  const test::PromText parsed = ParseStrict(text);
  // A value equal to a bound falls into that bound's bucket (le means "less or equal").
  EXPECT_EQ(parsed.Value("test_seconds_bucket", {{"route", "/a"}, {"le", "0.1"}}), 2);
  EXPECT_EQ(parsed.Value("test_seconds_bucket", {{"route", "/a"}, {"le", "1"}}), 4);
  EXPECT_EQ(parsed.Value("test_seconds_bucket", {{"route", "/a"}, {"le", "2.5"}}), 5);
  EXPECT_EQ(parsed.Value("test_seconds_bucket", {{"route", "/a"}, {"le", "+Inf"}}), 6);
  EXPECT_EQ(parsed.Value("test_seconds_count", {{"route", "/a"}}), 6);
  EXPECT_DOUBLE_EQ(parsed.Value("test_seconds_sum", {{"route", "/a"}}).value_or(0), 33.65);
  EXPECT_EQ(parsed.Value("test_seconds_bucket", {{"route", "/b"}, {"le", "0.1"}}), 0);
  EXPECT_EQ(parsed.Value("test_seconds_count", {{"route", "/b"}}), 1);
}

TEST(Metrics, ParserRejectsMalformedText) {
  std::vector<std::string> errors;
  test::ParsePromText("no_help 1\n", &errors);
  EXPECT_FALSE(errors.empty());

  errors.clear();
  test::ParsePromText("# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
                      &errors);
  EXPECT_FALSE(errors.empty()) << "buckets that fall must be refused";

  errors.clear();
  test::ParsePromText("# HELP c x\n# TYPE c counter\nc{a=\"\\x\"} 1\n", &errors);
  EXPECT_FALSE(errors.empty()) << "an unknown escape must be refused";

  errors.clear();
  test::ParsePromText("# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
                      &errors);
  EXPECT_FALSE(errors.empty()) << "+Inf must equal _count";

  errors.clear();
  test::ParsePromText("# HELP c x\n# TYPE c counter\nc{a=\"1\"} 1\nc{a=\"1\"} 2\n", &errors);
  EXPECT_FALSE(errors.empty()) << "a repeated series must be refused";

  errors.clear();
  test::ParsePromText("# HELP c x\n# TYPE c counter\nc{a=\"1\"} 1\nc{a=\"2\"} 2.5e-3\nc +Inf\n", &errors);
  EXPECT_TRUE(errors.empty()) << "well-formed text must pass";
}

TEST(Metrics, ExcessSeriesFoldIntoOther) {
  metrics::Registry registry;
  auto& family = registry.Add("test_capped_total", "Capped.", metrics::Type::kCounter, {"a", "b"}, {}, 3);
  for (int i = 0; i < 10; ++i) family.CounterFor({"value" + std::to_string(i), "x"}).Add();
  EXPECT_EQ(family.series_count(), 4u);
  // Known series keep counting after the cap is reached.
  family.CounterFor({"value0", "x"}).Add();

  metrics::ExpositionWriter writer;
  registry.Write(writer);
  const test::PromText parsed = ParseStrict(writer.Take());
  EXPECT_EQ(parsed.Value("test_capped_total", {{"a", "other"}, {"b", "other"}}), 7);
  EXPECT_EQ(parsed.Value("test_capped_total", {{"a", "value0"}}), 2);
}

TEST(Metrics, ConcurrentRecordingLosesNothing) {
  static constexpr double kBounds[] = {1};
  metrics::Registry registry;
  auto& counters = registry.Add("test_concurrent_total", "C.", metrics::Type::kCounter, {"route"});
  auto& histograms = registry.Add("test_concurrent_seconds", "H.", metrics::Type::kHistogram, {"route"}, kBounds);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        const std::string route = "/r" + std::to_string((i + t) % 3);
        counters.CounterFor({route}).Add();
        histograms.HistogramFor({route}).Observe(0.5);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  metrics::ExpositionWriter writer;
  registry.Write(writer);
  const test::PromText parsed = ParseStrict(writer.Take());
  EXPECT_EQ(parsed.Sum("test_concurrent_total"), 20000);
  EXPECT_EQ(parsed.Sum("test_concurrent_seconds_count"), 20000);
  EXPECT_DOUBLE_EQ(parsed.Sum("test_concurrent_seconds_sum"), 10000);
}

TEST(Metrics, CountsProviderCallsByOutcome) {
  auto scrape = [] {
    metrics::ExpositionWriter writer;
    metrics::DefaultRegistry().Write(writer);
    return ParseStrict(writer.Take());
  };
  const std::map<std::string, std::string> ok = {{"provider", "unit-test-provider"}, {"kind", "embedding"}, {"outcome", "ok"}};
  const std::map<std::string, std::string> failed = {{"provider", "unit-test-provider"}, {"kind", "embedding"},
                                                     {"outcome", "timeout"}};
  const test::PromText before = scrape();
  metrics::RecordProviderCall("unit-test-provider", "embedding", "ok", 0.2);
  metrics::RecordProviderCall("unit-test-provider", "embedding", "ok", 0.3);
  metrics::RecordProviderCall("unit-test-provider", "embedding", "timeout", 30);
  const test::PromText after = scrape();

  EXPECT_EQ(after.Value("open_notebook_provider_requests_total", ok).value_or(0) -
                before.Value("open_notebook_provider_requests_total", ok).value_or(0),
            2);
  EXPECT_EQ(after.Value("open_notebook_provider_requests_total", failed).value_or(0) -
                before.Value("open_notebook_provider_requests_total", failed).value_or(0),
            1);
  const std::map<std::string, std::string> series = {{"provider", "unit-test-provider"}, {"kind", "embedding"}};
  EXPECT_EQ(after.Value("open_notebook_provider_request_duration_seconds_count", series).value_or(0) -
                before.Value("open_notebook_provider_request_duration_seconds_count", series).value_or(0),
            3);
  auto in_bucket = [&](const test::PromText& text, const std::string& le) {
    auto labels = series;
    labels["le"] = le;
    return text.Value("open_notebook_provider_request_duration_seconds_bucket", labels).value_or(0);
  };
  EXPECT_EQ(in_bucket(after, "0.5") - in_bucket(before, "0.5"), 2);
  EXPECT_EQ(in_bucket(after, "+Inf") - in_bucket(before, "+Inf"), 3);
}

TEST(Metrics, HttpMethodsAreBounded) {
  metrics::RecordHttpRequest("/unit/{id}", "BREW", 418, 0.01);
  metrics::RecordHttpRequest("/unit/{id}", "GET", 200, 0.01);
  metrics::RecordHttpRequest("/unit/{id}", "GET", 200, 0.02);
  metrics::ExpositionWriter writer;
  metrics::DefaultRegistry().Write(writer);
  const test::PromText parsed = ParseStrict(writer.Take());
  EXPECT_EQ(parsed.Value("open_notebook_http_requests_total", {{"route", "/unit/{id}"}, {"method", "other"}}), 1);
  EXPECT_EQ(parsed.Value("open_notebook_http_requests_total",
                         {{"route", "/unit/{id}"}, {"method", "GET"}, {"status", "200"}}),
            2);
  EXPECT_EQ(parsed.Value("open_notebook_http_request_duration_seconds_count", {{"route", "/unit/{id}"}, {"method", "GET"}}),
            2);
}

TEST(Metrics, DbTimerRecordsOneObservation) {
  auto count = [] {
    metrics::ExpositionWriter writer;
    metrics::DefaultRegistry().Write(writer);
    return ParseStrict(writer.Take())
        .Value("open_notebook_db_statement_duration_seconds_count", {{"operation", "unit_test"}})
        .value_or(0);
  };
  const double before = count();
  { metrics::DbTimer timer("unit_test"); }
  EXPECT_EQ(count() - before, 1);
}

TEST(Metrics, ProcessMetricsDescribeSelf) {
  metrics::ExpositionWriter writer;
  metrics::WriteProcessMetrics(writer);
  const test::PromText parsed = ParseStrict(writer.Take());
  EXPECT_GT(parsed.Value("process_resident_memory_bytes").value_or(0), 1 << 20);
  EXPECT_GE(parsed.Value("process_open_fds").value_or(0), 3);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double started = parsed.Value("process_start_time_seconds").value_or(0);
  EXPECT_LE(started, now + 1);
  EXPECT_GT(started, now - 86400.0 * 365);
  EXPECT_GE(parsed.Value("process_cpu_seconds_total").value_or(-1), 0);
}

}  // namespace
}  // namespace on
