#include "http/error_mapping.h"

namespace on::http {

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kInvalidInput: return 400;
    case ErrorCode::kValidation: return 422;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kForbidden: return 403;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kUnsupportedType: return 415;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kConfiguration: return 422;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kUpstream: return 502;
    case ErrorCode::kTimeout: return 504;
    case ErrorCode::kDatabase: return 500;
    case ErrorCode::kMigration: return 503;
    case ErrorCode::kIo: return 500;
    case ErrorCode::kCancelled: return 409;
    case ErrorCode::kInternal: return 500;
    case ErrorCode::kProviderRejected: return 502;
    case ErrorCode::kContextLengthExceeded: return 400;
  }
  return 500;
}

Response ErrorResponse(const Status& status) {
  const int http_status = HttpStatusFor(status.code());
  std::string detail = status.message();
  if (status.code() == ErrorCode::kDatabase || status.code() == ErrorCode::kInternal) {
    detail = "Internal server error; the server log has the details under this request's id";
  } else if (status.code() == ErrorCode::kIo) {
    detail = "A file or the database could not be written; check free disk space and permissions of the data directory";
  }
  return JsonResponse({{"detail", detail}}, http_status);
}

}  // namespace on::http
