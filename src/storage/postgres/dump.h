// Whole-database copies of a PostgreSQL database with the server's own tools: pg_dump writes one
// self-contained archive file (custom format), pg_restore reads it back.
//
// The password of the URL reaches the tools through PGPASSWORD in their environment, never on
// their command line, which every local user can read in /proc.
#pragma once

#include <string>

#include "core/error.h"

namespace on::storage::postgres {

// Writes the database of `url` to the new file `path` with pg_dump --format=custom, a consistent
// snapshot taken while other sessions keep reading and writing. kConflict when `path` exists;
// kConfiguration when pg_dump is not installed; kDatabase with pg_dump's message when it fails.
Status DumpDatabase(const std::string& url, const std::string& path);

// Reads the table of contents of a dump with pg_restore --list: ok when the file is a complete
// archive pg_restore can read, kInvalidInput with its message otherwise.
Status CheckDumpFile(const std::string& path);

// Replaces the objects of the dump in the database of `url` with the dump's (pg_restore --clean
// --if-exists) in one transaction, so a failure leaves the database as it was. The pgvector
// extension is not restored. It is created beforehand when missing, which needs a superuser, and
// a role that cannot create it gets kDatabase naming that fix.
Status RestoreDatabase(const std::string& url, const std::string& path);

}  // namespace on::storage::postgres
