#include "core/error.h"

namespace on {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
#define ON_ERROR_NAME(name, number, description) \
  case ErrorCode::name:                          \
    return std::string_view(#name).substr(1);
    ON_ERROR_CODES(ON_ERROR_NAME)
#undef ON_ERROR_NAME
  }
  return "Unknown";
}

ErrorCode ErrorCodeFromName(std::string_view name) {
#define ON_ERROR_FROM_NAME(code_name, number, description) \
  if (std::string_view(#code_name).substr(1) == name) return ErrorCode::code_name;
  ON_ERROR_CODES(ON_ERROR_FROM_NAME)
#undef ON_ERROR_FROM_NAME
  return ErrorCode::kInternal;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string text(ErrorCodeName(code_));
  text += ": ";
  text += message_;
  return text;
}

}  // namespace on
