#include "core/timestamps.h"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace on {
namespace {

// Reads exactly `digits` decimal digits at text[*pos], advancing *pos.
std::optional<int> ReadNumber(std::string_view text, size_t* pos, size_t digits) {
  if (*pos + digits > text.size()) return std::nullopt;
  int value = 0;
  const char* begin = text.data() + *pos;
  auto [end, error] = std::from_chars(begin, begin + digits, value);
  if (error != std::errc() || end != begin + digits) return std::nullopt;
  *pos += digits;
  return value;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

std::string FormatTimestamp(SystemClock::time_point time) {
  const auto since_epoch = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto micros = (since_epoch - seconds).count();
  std::time_t raw = seconds.count();
  std::tm utc{};
  gmtime_r(&raw, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(micros));
  return buffer;
}

std::optional<SystemClock::time_point> ParseTimestamp(std::string_view text) {
  size_t pos = 0;
  std::tm utc{};
  auto year = ReadNumber(text, &pos, 4);
  if (!year || !Expect(text, &pos, '-')) return std::nullopt;
  auto month = ReadNumber(text, &pos, 2);
  if (!month || !Expect(text, &pos, '-')) return std::nullopt;
  auto day = ReadNumber(text, &pos, 2);
  if (!day || !Expect(text, &pos, 'T')) return std::nullopt;
  auto hour = ReadNumber(text, &pos, 2);
  if (!hour || !Expect(text, &pos, ':')) return std::nullopt;
  auto minute = ReadNumber(text, &pos, 2);
  if (!minute || !Expect(text, &pos, ':')) return std::nullopt;
  auto second = ReadNumber(text, &pos, 2);
  if (!second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }

  int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 100000;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      micros += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
  }

  int offset_minutes = 0;
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    auto offset_hours = ReadNumber(text, &pos, 2);
    if (!offset_hours || !Expect(text, &pos, ':')) return std::nullopt;
    auto offset_mins = ReadNumber(text, &pos, 2);
    if (!offset_mins) return std::nullopt;
    offset_minutes = sign * (*offset_hours * 60 + *offset_mins);
  }
  if (pos != text.size()) return std::nullopt;

  utc.tm_year = *year - 1900;
  utc.tm_mon = *month - 1;
  utc.tm_mday = *day;
  utc.tm_hour = *hour;
  utc.tm_min = *minute;
  utc.tm_sec = *second;
  const std::time_t raw = timegm(&utc);
  return SystemClock::time_point(std::chrono::duration_cast<SystemClock::duration>(
      std::chrono::seconds(raw) - std::chrono::minutes(offset_minutes) + std::chrono::microseconds(micros)));
}

std::optional<double> SecondsSince(std::string_view earlier, SystemClock::time_point now) {
  auto parsed = ParseTimestamp(earlier);
  if (!parsed) return std::nullopt;
  return std::chrono::duration<double>(now - *parsed).count();
}

}  // namespace on
