// Conversions between time points and the ISO 8601 text that the database stores.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace on {

using SystemClock = std::chrono::system_clock;

// Formats `time` as UTC with microseconds, in the same form as NowTimestamp() in core/ids.h:
// "2026-12-04T20:15:03.123456+00:00". Text order of these strings is time order.
std::string FormatTimestamp(SystemClock::time_point time);

// Parses the form FormatTimestamp writes, also accepting fewer fractional digits, a 'Z' suffix
// or a numeric offset ("+02:00"). Returns nullopt for anything else.
std::optional<SystemClock::time_point> ParseTimestamp(std::string_view text);

// Seconds from `earlier` (an ISO timestamp) to `now`; nullopt when `earlier` does not parse.
std::optional<double> SecondsSince(std::string_view earlier, SystemClock::time_point now);

}  // namespace on
