// The storage backend that OPEN_NOTEBOOK_DATABASE_URL selects, and the URL shown without its secret.
#pragma once

#include <string>
#include <string_view>

namespace on::storage {

// True for postgresql:// and postgres:// URLs, the PostgreSQL backend's; everything else is the
// SQLite backend's (empty, or sqlite:///path/to/file.db).
bool IsPostgresUrl(std::string_view url);

// `url` with the password replaced by "***", for logs and command output. The password of a
// libpq URL sits between the user's ':' and the '@' of the authority, or in a password=
// query parameter; both are hidden.
std::string RedactUrl(std::string_view url);

}  // namespace on::storage
