// Process-wide metrics: counters, gauges and fixed-bucket histograms, written in the Prometheus
// text exposition format (version 0.0.4) by GET /metrics.
//
// Recording is lock-cheap: a labelled series is found under a shared lock without allocating
// (the first use of a label combination allocates once), and its values are atomics.
// Label values must come from small known sets (a route pattern, a command name, an outcome),
// never from the raw path, an id or a query string. Each family also caps its series count and
// folds any excess into one series whose labels are all "other", so a caller's mistake cannot
// grow memory without bound.
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace on::metrics {

// Writes the text exposition format. Callers announce a family once, then write its samples.
class ExpositionWriter {
 public:
  using Labels = std::span<const std::pair<std::string_view, std::string_view>>;

  // Writes "# HELP name help" and "# TYPE name type" (type: counter, gauge or histogram).
  void Family(std::string_view name, std::string_view help, std::string_view type);
  // Writes "name{a="x",b="y"} value"; label values are escaped (\\, \" and \n).
  void Sample(std::string_view name, Labels labels, double value);
  void Sample(std::string_view name, double value) { Sample(name, Labels{}, value); }

  const std::string& text() const { return text_; }
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
};

// The label value escaping of the text format: backslash, double quote and line feed.
std::string EscapeLabelValue(std::string_view value);
// A sample value as the text format writes it: integers without a fraction, +Inf, -Inf, NaN.
std::string FormatValue(double value);

class Counter {
 public:
  void Add(uint64_t amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds` are the upper bounds of the buckets, ascending; +Inf is added implicitly.
  explicit Histogram(std::span<const double> bounds);

  void Observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then the +Inf bucket
    uint64_t count = 0;                // equals cumulative.back()
    double sum = 0;
  };
  // Reads the buckets once; the count is derived from them so +Inf always equals _count.
  Snapshot Read() const;
  std::span<const double> bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

enum class Type { kCounter, kGauge, kHistogram };

// A metric name with fixed label names and one series per label combination.
class Family {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
         std::span<const double> bounds = {}, size_t max_series = 500);

  // The series for `values` (one per label name, in order), created on first use.
  Counter& CounterFor(std::initializer_list<std::string_view> values);
  Gauge& GaugeFor(std::initializer_list<std::string_view> values);
  Histogram& HistogramFor(std::initializer_list<std::string_view> values);

  void Write(ExpositionWriter& writer) const;
  const std::string& name() const { return name_; }
  size_t series_count() const;

 private:
  struct Series {
    std::vector<std::string> values;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  Series& Find(std::span<const std::string_view> values);

  std::string name_;
  std::string help_;
  Type type_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  size_t max_series_;
  mutable std::shared_mutex mutex_;
  // Sorted by values for binary search with string_view probes; entries are never removed, so
  // references handed out stay valid.
  std::vector<std::unique_ptr<Series>> series_;
};

// The families this program exports. Families are added at start-up and never removed.
class Registry {
 public:
  Family& Add(std::string name, std::string help, Type type, std::vector<std::string> label_names = {},
              std::span<const double> bounds = {}, size_t max_series = 500);
  void Write(ExpositionWriter& writer) const;

 private:
  mutable std::shared_mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;
};

// The registry of the process, holding the families recorded below.
Registry& DefaultRegistry();

// --- What Open Notebook records ---------------------------------------------------------------

// One HTTP request. `route` is the router's pattern ("/api/sources/{id}") or "unmatched"; methods
// outside the standard set count as "other".
void RecordHttpRequest(std::string_view route, std::string_view method, int status, double seconds);

// One job attempt that ended. `command` is the full registered command name; `outcome` is one of
// completed, failed, retried, cancelled, released.
void RecordJobAttempt(std::string_view command, std::string_view outcome, double seconds);

// Time spent in one database operation; `operation` names the code path ("search", "job_claim").
void RecordDbStatement(std::string_view operation, double seconds);

// One call to an AI provider, for the provider clients to call once per request they make.
// `provider` is the configured provider name ("openai", "ollama", ...), `kind` what was asked
// ("chat", "embedding", "speech", "transcription"), `outcome` "ok" or an error class such as
// "timeout", "rate_limited", "upstream_error", "invalid_request".
void RecordProviderCall(std::string_view provider, std::string_view kind, std::string_view outcome, double seconds);

// Measures the time from construction to destruction and records it as a database operation.
class DbTimer {
 public:
  explicit DbTimer(std::string_view operation);
  ~DbTimer();
  DbTimer(const DbTimer&) = delete;
  DbTimer& operator=(const DbTimer&) = delete;

 private:
  std::string_view operation_;
  int64_t started_ns_;
};

// Writes the process_* metrics read from /proc (resident memory, open descriptors, start time,
// CPU time); metrics whose source cannot be read are left out.
void WriteProcessMetrics(ExpositionWriter& writer);

}  // namespace on::metrics
