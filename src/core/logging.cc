#include "core/logging.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>

#include <unistd.h>

#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

namespace on {
namespace {

thread_local std::string log_context;

// Appends "2026-12-04T20:15:03.123Z". The date and time up to the second are formatted once per
// second and thread, because the access log writes a line per request.
void AppendTime(spdlog::log_clock::time_point time, spdlog::memory_buf_t& dest) {
  thread_local int64_t cached_second = -1;
  thread_local char cached_prefix[32];
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  if (seconds.count() != cached_second) {
    std::time_t raw = seconds.count();
    std::tm utc{};
    gmtime_r(&raw, &utc);
    std::snprintf(cached_prefix, sizeof(cached_prefix), "%04d-%02d-%02dT%02d:%02d:%02d.", (utc.tm_year + 1900) % 10000,
                  (utc.tm_mon + 1) % 100, utc.tm_mday % 100, utc.tm_hour % 100, utc.tm_min % 100, utc.tm_sec % 100);
    cached_second = seconds.count();
  }
  dest.append(cached_prefix, cached_prefix + std::strlen(cached_prefix));
  const char digits[5] = {static_cast<char>('0' + millis / 100), static_cast<char>('0' + millis / 10 % 10),
                          static_cast<char>('0' + millis % 10), 'Z', '\0'};
  dest.append(digits, digits + 4);
}

void Append(spdlog::memory_buf_t& dest, std::string_view text) { dest.append(text.data(), text.data() + text.size()); }

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

// The context is read from the logging thread, which is the thread that wrote the line because
// the sink is synchronous.
class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    if (format_ == LogFormat::kJson) {
      Append(dest, "{\"time\":\"");
      AppendTime(msg.time, dest);
      Append(dest, "\",\"level\":\"");
      Append(dest, LevelName(msg.level));
      if (!log_context.empty()) {
        Append(dest, "\",\"context\":\"");
        Append(dest, JsonEscape(log_context));
      }
      Append(dest, "\",\"msg\":\"");
      Append(dest, JsonEscape(text));
      Append(dest, "\"}\n");
      return;
    }
    AppendTime(msg.time, dest);
    Append(dest, " ");
    Append(dest, LevelName(msg.level));
    if (!log_context.empty()) {
      Append(dest, " [");
      Append(dest, log_context);
      Append(dest, "]");
    }
    Append(dest, " ");
    Append(dest, text);
    Append(dest, "\n");
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<LineFormatter>(format_); }

 private:
  LogFormat format_;
};

// Writes log lines to stderr in batches: a line is written when 16 KiB are pending, when a
// warning or error arrives (flush_on), or by the once-a-second flusher. One write(2) per request
// line would cost a fifth of the API's throughput. A SIGKILL loses at most a second of info lines.
class BufferedStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  ~BufferedStderrSink() override { WritePending(); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    pending_.append(formatted.data(), formatted.size());
    if (pending_.size() >= kBufferBytes) WritePending();
  }

  void flush_() override { WritePending(); }

 private:
  static constexpr size_t kBufferBytes = 16 * 1024;

  void WritePending() {
    size_t offset = 0;
    while (offset < pending_.size()) {
      const ssize_t written = ::write(STDERR_FILENO, pending_.data() + offset, pending_.size() - offset);
      if (written <= 0) break;  // stderr closed or full: drop rather than block the server
      offset += static_cast<size_t>(written);
    }
    pending_.clear();
  }

  std::string pending_;
};

std::optional<spdlog::level::level_enum> ParseLevel(std::string_view level) {
  if (level == "trace") return spdlog::level::trace;
  if (level == "debug") return spdlog::level::debug;
  if (level == "info") return spdlog::level::info;
  if (level == "warn" || level == "warning") return spdlog::level::warn;
  if (level == "error") return spdlog::level::err;
  return std::nullopt;
}

}  // namespace

Status InitLogging(std::string_view level, std::string_view format) {
  auto parsed_level = ParseLevel(level);
  if (!parsed_level) return InvalidInput("log level '" + std::string(level) + "' is invalid: expected trace, debug, info, warn or error");
  if (format != "text" && format != "json") return InvalidInput("log format '" + std::string(format) + "' is invalid: expected text or json");

  auto logger = std::make_shared<spdlog::logger>("open-notebook", std::make_shared<BufferedStderrSink>());
  logger->set_formatter(std::make_unique<LineFormatter>(format == "json" ? LogFormat::kJson : LogFormat::kText));
  logger->set_level(*parsed_level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  static std::once_flag flusher;
  std::call_once(flusher, [] { spdlog::flush_every(std::chrono::seconds(1)); });
  return Status::Ok();
}

void FlushLogs() {
  if (auto logger = spdlog::default_logger()) logger->flush();
}

Status SetLogLevel(std::string_view level) {
  auto parsed_level = ParseLevel(level);
  if (!parsed_level) return InvalidInput("log level '" + std::string(level) + "' is invalid: expected trace, debug, info, warn or error");
  spdlog::set_level(*parsed_level);
  return Status::Ok();
}

ScopedLogContext::ScopedLogContext(std::string id) : previous_(std::move(log_context)) {
  log_context = std::move(id);
}

ScopedLogContext::~ScopedLogContext() { log_context = std::move(previous_); }

const std::string& CurrentLogContext() { return log_context; }

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
          out += buffer;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

}  // namespace on
