#include "core/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace on::metrics {
namespace {

// -1 when a < b, 0 when equal, 1 when a > b, comparing label values lexicographically.
int CompareValues(const std::vector<std::string>& a, std::span<const std::string_view> b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const int c = std::string_view(a[i]).compare(b[i]);
    if (c != 0) return c < 0 ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

int64_t SteadyNanoseconds() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  std::array<char, 64> buffer{};
  // The shortest text that reads back as the same double, in plain notation ("0.0005", not
  // "5e-04") unless that does not fit.
  std::to_chars_result written =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed);
  if (written.ec != std::errc()) written = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (written.ec != std::errc()) return "NaN";
  return std::string(buffer.data(), written.ptr);
}

void ExpositionWriter::Family(std::string_view name, std::string_view help, std::string_view type) {
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  // HELP text escapes only backslash and line feed.
  for (char c : help) {
    if (c == '\\') {
      text_ += "\\\\";
    } else if (c == '\n') {
      text_ += "\\n";
    } else {
      text_ += c;
    }
  }
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type;
  text_ += '\n';
}

void ExpositionWriter::Sample(std::string_view name, Labels labels, double value) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    bool first = true;
    for (const auto& [label, label_value] : labels) {
      if (!first) text_ += ',';
      first = false;
      text_ += label;
      text_ += "=\"";
      text_ += EscapeLabelValue(label_value);
      text_ += '"';
    }
    text_ += '}';
  }
  text_ += ' ';
  text_ += FormatValue(value);
  text_ += '\n';
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  // Buckets are few (about a dozen), so a linear scan beats a binary search.
  size_t index = 0;
  while (index < bounds_.size() && value > bounds_[index]) ++index;
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.cumulative.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative[i] = running;
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

Family::Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
               std::span<const double> bounds, size_t max_series)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)),
      bounds_(bounds.begin(), bounds.end()),
      max_series_(max_series) {}

Family::Series& Family::Find(std::span<const std::string_view> values) {
  auto less = [](const std::unique_ptr<Series>& series, std::span<const std::string_view> probe) {
    return CompareValues(series->values, probe) < 0;
  };
  {
    std::shared_lock lock(mutex_);
    auto found = std::lower_bound(series_.begin(), series_.end(), values, less);
    if (found != series_.end() && CompareValues((*found)->values, values) == 0) return **found;
  }

  std::vector<std::string_view> key(values.begin(), values.end());
  key.resize(label_names_.size(), "");
  std::unique_lock lock(mutex_);
  if (series_.size() >= max_series_) std::fill(key.begin(), key.end(), "other");
  auto found = std::lower_bound(series_.begin(), series_.end(), std::span<const std::string_view>(key), less);
  if (found != series_.end() && CompareValues((*found)->values, key) == 0) return **found;

  auto series = std::make_unique<Series>();
  series->values.assign(key.begin(), key.end());
  switch (type_) {
    case Type::kCounter:
      series->counter = std::make_unique<Counter>();
      break;
    case Type::kGauge:
      series->gauge = std::make_unique<Gauge>();
      break;
    case Type::kHistogram:
      series->histogram = std::make_unique<Histogram>(bounds_);
      break;
  }
  return **series_.insert(found, std::move(series));
}

Counter& Family::CounterFor(std::initializer_list<std::string_view> values) {
  return *Find(std::span<const std::string_view>(values.begin(), values.size())).counter;
}

Gauge& Family::GaugeFor(std::initializer_list<std::string_view> values) {
  return *Find(std::span<const std::string_view>(values.begin(), values.size())).gauge;
}

Histogram& Family::HistogramFor(std::initializer_list<std::string_view> values) {
  return *Find(std::span<const std::string_view>(values.begin(), values.size())).histogram;
}

size_t Family::series_count() const {
  std::shared_lock lock(mutex_);
  return series_.size();
}

void Family::Write(ExpositionWriter& writer) const {
  writer.Family(name_, help_, TypeName(type_));
  std::shared_lock lock(mutex_);
  std::vector<std::pair<std::string_view, std::string_view>> labels;
  for (const auto& series : series_) {
    labels.clear();
    for (size_t i = 0; i < label_names_.size(); ++i) labels.emplace_back(label_names_[i], series->values[i]);
    switch (type_) {
      case Type::kCounter:
        writer.Sample(name_, labels, static_cast<double>(series->counter->value()));
        break;
      case Type::kGauge:
        writer.Sample(name_, labels, series->gauge->value());
        break;
      case Type::kHistogram: {
        const Histogram::Snapshot snapshot = series->histogram->Read();
        const std::string bucket = name_ + "_bucket";
        labels.emplace_back("le", "");
        for (size_t i = 0; i < snapshot.cumulative.size(); ++i) {
          const std::string le = i < bounds_.size() ? FormatValue(bounds_[i]) : "+Inf";
          labels.back().second = le;
          writer.Sample(bucket, labels, static_cast<double>(snapshot.cumulative[i]));
        }
        labels.pop_back();
        writer.Sample(name_ + "_sum", labels, snapshot.sum);
        writer.Sample(name_ + "_count", labels, static_cast<double>(snapshot.count));
        break;
      }
    }
  }
}

Family& Registry::Add(std::string name, std::string help, Type type, std::vector<std::string> label_names,
                      std::span<const double> bounds, size_t max_series) {
  auto family = std::make_unique<Family>(std::move(name), std::move(help), type, std::move(label_names), bounds,
                                         max_series);
  std::unique_lock lock(mutex_);
  families_.push_back(std::move(family));
  return *families_.back();
}

void Registry::Write(ExpositionWriter& writer) const {
  std::shared_lock lock(mutex_);
  for (const auto& family : families_) family->Write(writer);
}

Registry& DefaultRegistry() {
  static Registry registry;
  return registry;
}

namespace {

constexpr double kHttpBounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
constexpr double kJobBounds[] = {0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 900, 1800, 3600};
constexpr double kDbBounds[] = {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5};
constexpr double kProviderBounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

// The families recorded by this program, registered on first use in a fixed order.
struct Known {
  Family& http_requests;
  Family& http_duration;
  Family& job_duration;
  Family& db_duration;
  Family& provider_requests;
  Family& provider_duration;
};

Known& KnownFamilies() {
  static Known known{
      DefaultRegistry().Add("open_notebook_http_requests_total",
                            "HTTP requests answered, by route pattern, method and status.", Type::kCounter,
                            {"route", "method", "status"}),
      DefaultRegistry().Add("open_notebook_http_request_duration_seconds",
                            "Time from reading a request's header until its response is ready to write, by route "
                            "pattern and method.",
                            Type::kHistogram, {"route", "method"}, kHttpBounds),
      DefaultRegistry().Add("open_notebook_job_duration_seconds",
                            "Duration of job attempts run by this process's worker, by command and outcome.",
                            Type::kHistogram, {"command", "outcome"}, kJobBounds),
      DefaultRegistry().Add("open_notebook_db_statement_duration_seconds",
                            "Time spent in database operations, by operation.", Type::kHistogram, {"operation"},
                            kDbBounds),
      DefaultRegistry().Add("open_notebook_provider_requests_total",
                            "Calls to AI providers, by provider, kind of call and outcome.", Type::kCounter,
                            {"provider", "kind", "outcome"}, {}, 200),
      DefaultRegistry().Add("open_notebook_provider_request_duration_seconds",
                            "Latency of calls to AI providers, by provider and kind of call.", Type::kHistogram,
                            {"provider", "kind"}, kProviderBounds, 200),
  };
  return known;
}

// Registers the families at start-up so a scrape lists them before anything was recorded.
[[maybe_unused]] const bool kRegistered = (KnownFamilies(), true);

std::string_view KnownMethod(std::string_view method) {
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  for (std::string_view known : kMethods) {
    if (method == known) return known;
  }
  return "other";
}

}  // namespace

void RecordHttpRequest(std::string_view route, std::string_view method, int status, double seconds) {
  Known& known = KnownFamilies();
  const std::string_view checked_method = KnownMethod(method);
  char status_text[8] = "other";
  std::string_view status_label = status_text;
  if (status >= 100 && status <= 599) {
    auto [end, error] = std::to_chars(status_text, status_text + sizeof(status_text), status);
    status_label = std::string_view(status_text, static_cast<size_t>(end - status_text));
    (void)error;
  }
  known.http_requests.CounterFor({route, checked_method, status_label}).Add();
  known.http_duration.HistogramFor({route, checked_method}).Observe(seconds);
}

void RecordJobAttempt(std::string_view command, std::string_view outcome, double seconds) {
  KnownFamilies().job_duration.HistogramFor({command, outcome}).Observe(seconds);
}

void RecordDbStatement(std::string_view operation, double seconds) {
  KnownFamilies().db_duration.HistogramFor({operation}).Observe(seconds);
}

void RecordProviderCall(std::string_view provider, std::string_view kind, std::string_view outcome, double seconds) {
  Known& known = KnownFamilies();
  known.provider_requests.CounterFor({provider, kind, outcome}).Add();
  known.provider_duration.HistogramFor({provider, kind}).Observe(seconds);
}

DbTimer::DbTimer(std::string_view operation) : operation_(operation), started_ns_(SteadyNanoseconds()) {}

DbTimer::~DbTimer() { RecordDbStatement(operation_, static_cast<double>(SteadyNanoseconds() - started_ns_) / 1e9); }

void WriteProcessMetrics(ExpositionWriter& writer) {
  const long page_size = sysconf(_SC_PAGESIZE);
  const long ticks = sysconf(_SC_CLK_TCK);

  std::ifstream statm("/proc/self/statm");
  uint64_t total_pages = 0;
  uint64_t resident_pages = 0;
  if (statm >> total_pages >> resident_pages && page_size > 0) {
    writer.Family("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
    writer.Sample("process_resident_memory_bytes", static_cast<double>(resident_pages * static_cast<uint64_t>(page_size)));
    writer.Family("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
    writer.Sample("process_virtual_memory_bytes", static_cast<double>(total_pages * static_cast<uint64_t>(page_size)));
  }

  std::error_code error;
  size_t descriptors = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end; it.increment(error)) {
    ++descriptors;
  }
  if (!error) {
    writer.Family("process_open_fds", "Open file descriptors.", "gauge");
    // The directory listing itself holds one descriptor while it runs.
    writer.Sample("process_open_fds", static_cast<double>(descriptors > 0 ? descriptors - 1 : 0));
  }
  std::ifstream limits("/proc/self/limits");
  for (std::string line; std::getline(limits, line);) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream fields(line.substr(14));
    uint64_t soft = 0;
    if (fields >> soft) {
      writer.Family("process_max_fds", "Limit of open file descriptors.", "gauge");
      writer.Sample("process_max_fds", static_cast<double>(soft));
    }
  }

  // Fields of /proc/self/stat after the command name, which is in parentheses and may hold spaces.
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  std::ifstream system_stat("/proc/stat");
  double boot_time = -1;
  for (std::string line; std::getline(system_stat, line);) {
    if (line.rfind("btime ", 0) == 0) boot_time = std::stod(line.substr(6));
  }
  if (close != std::string::npos && ticks > 0) {
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> values;
    for (std::string value; fields >> value;) values.push_back(value);
    // values[0] is field 3 (state): utime is field 14, stime 15, starttime 22.
    if (values.size() > 19) {
      const double user = std::stod(values[11]);
      const double system = std::stod(values[12]);
      writer.Family("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", "counter");
      writer.Sample("process_cpu_seconds_total", (user + system) / static_cast<double>(ticks));
      if (boot_time >= 0) {
        writer.Family("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.",
                      "gauge");
        writer.Sample("process_start_time_seconds", boot_time + std::stod(values[19]) / static_cast<double>(ticks));
      }
    }
  }
}

}  // namespace on::metrics
