// Logging set-up on spdlog: levelled lines for operators, as text or one JSON object per line.
//
// Each line carries the request id or job id of the work that wrote it, taken from a
// thread-local context that request handlers and job runners set with ScopedLogContext.
#pragma once

#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "core/error.h"

namespace on {

enum class LogFormat { kText, kJson };

// Installs the default logger writing to stderr. Info lines are batched and written at least once
// a second; warnings and errors are written at once. Call FlushLogs() before exiting. `level` is trace|debug|info|warn|error and
// `format` is text|json. Safe to call again (tests, SIGHUP); the last call wins.
Status InitLogging(std::string_view level, std::string_view format);

// Writes every pending log line to stderr.
void FlushLogs();

// Changes the level of the installed logger; returns kInvalidInput for an unknown level name.
Status SetLogLevel(std::string_view level);

// Sets the request or job id that log lines written on this thread carry, until destruction.
class ScopedLogContext {
 public:
  explicit ScopedLogContext(std::string id);
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  std::string previous_;
};

// The id set on this thread, or an empty string.
const std::string& CurrentLogContext();

// Escapes `text` for inclusion in a JSON string (without the surrounding quotes).
std::string JsonEscape(std::string_view text);

}  // namespace on
