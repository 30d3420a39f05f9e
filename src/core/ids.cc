#include "core/ids.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include <sodium.h>

namespace on {

std::string NewId(std::string_view table) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  static const int sodium_ready = sodium_init();  // thread-safe once; 1 means already initialised
  (void)sodium_ready;
  std::string id(table);
  id += ':';
  for (int i = 0; i < 20; ++i) id += kAlphabet[randombytes_uniform(sizeof(kAlphabet) - 1)];
  return id;
}

Result<std::string> NormalizeId(std::string_view table, std::string_view value, std::string_view field) {
  std::string_view key = value;
  const size_t colon = value.find(':');
  if (colon != std::string_view::npos) {
    if (value.substr(0, colon) != table) {
      return InvalidInput(std::string(field) + " '" + std::string(value.substr(0, 80)) + "' is not a " +
                          std::string(table) + " id: expected " + std::string(table) + ":<key>");
    }
    key = value.substr(colon + 1);
  }

  bool valid = !key.empty() && key.size() <= kMaxIdKeyLength;
  for (char c : key) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    valid = valid && allowed;
  }
  if (!valid) {
    return InvalidInput(std::string(field) + " '" + std::string(value.substr(0, 80)) +
                        "' is not a valid id: expected " + std::string(table) +
                        ":<key> where the key is 1 to 64 letters, digits, '_' or '-'");
  }
  return std::string(table) + ":" + std::string(key);
}

std::string NowTimestamp() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - seconds).count();
  std::time_t raw = seconds.count();
  std::tm utc{};
  gmtime_r(&raw, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(micros));
  return buffer;
}

}  // namespace on
