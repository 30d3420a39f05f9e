// libFuzzer target for http/json_writer.h over any bytes.
//
// Invariants checked:
// - AppendJsonString always gives a JSON string that nlohmann::json parses;
// - valid UTF-8 reads back unchanged, and invalid UTF-8 reads back as valid UTF-8;
// - AppendJsonNumber of the input's first 8 bytes as a double parses back to the same value, or
//   to null when the value is not finite.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_checks.h"
#include "http/json_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = on::fuzz::AsText(data, size);
  std::string out = "[";
  on::http::AppendJsonString(out, text);
  out.push_back(']');
  const auto parsed = nlohmann::json::parse(out, nullptr, false);
  FUZZ_CHECK(!parsed.is_discarded());
  const std::string read_back = parsed.at(0).get<std::string>();
  FUZZ_CHECK(on::fuzz::IsValidUtf8(read_back));
  if (on::fuzz::IsValidUtf8(text)) FUZZ_CHECK(read_back == text);

  if (size >= sizeof(double)) {
    double value = 0;
    std::memcpy(&value, data, sizeof(double));
    std::string number;
    on::http::AppendJsonNumber(number, value);
    const auto parsed_number = nlohmann::json::parse(number, nullptr, false);
    FUZZ_CHECK(!parsed_number.is_discarded());
    if (std::isfinite(value)) {
      FUZZ_CHECK(parsed_number.get<double>() == value);
    } else {
      FUZZ_CHECK(parsed_number.is_null());
    }
  }
  return 0;
}
