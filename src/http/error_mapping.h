// The one place where error codes become HTTP statuses.
#pragma once

#include "core/error.h"
#include "http/message.h"

namespace on::http {

// HTTP status for `code`; kOk maps to 200.
int HttpStatusFor(ErrorCode code);

// A JSON error response {"detail": message} with the status of the error's code. Internal and
// database errors get a generic message (their text is logged by the caller, never sent).
Response ErrorResponse(const Status& status);

}  // namespace on::http
