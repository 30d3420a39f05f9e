// The `db copy` and `db verify` subcommands: moving all data between SQLite and PostgreSQL.
#pragma once

#include <string>

namespace on::ops {

// Copies every record of `from` into the empty database `to` (storage/copy.h), prints a line per
// table with its row count and checksum, and returns the process exit code: 0 when the copy was
// committed and verified, 1 when it was refused or failed (the target then contains no copied row).
int RunDbCopy(const std::string& from, const std::string& to);

// Compares the row counts and checksums of every table of `from` and `to` and prints them;
// returns 0 when every table matches, 1 when one differs or a database cannot be read.
int RunDbVerify(const std::string& from, const std::string& to);

}  // namespace on::ops
