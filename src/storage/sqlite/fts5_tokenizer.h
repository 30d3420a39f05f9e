// The `on_icu` SQLite FTS5 tokenizer: on::search::Tokenizer inside FTS5 tables.
#pragma once

#include <sqlite3.h>

#include "core/error.h"

namespace on::storage::sqlite {

// Name under which RegisterFts5Tokenizer registers the tokenizer.
inline constexpr char kFts5TokenizerName[] = "on_icu";

// Registers the `on_icu` tokenizer on `db`, so tables can be declared with
//   CREATE VIRTUAL TABLE t USING fts5(body, tokenize='on_icu')
// or with a Snowball language for Latin-script words: tokenize='on_icu french' ('on_icu none'
// switches Latin stemming off; the default is english). Tokens carry byte offsets into the
// column text, so highlight() and snippet() mark the original words.
//
// FTS5 tokenizers belong to a connection: call this on every connection before it reads or
// writes such a table, otherwise SQLite fails with "no such tokenizer: on_icu". Registering
// twice on one connection replaces the first registration. Returns a kDatabase error when the
// SQLite library was built without FTS5.
Status RegisterFts5Tokenizer(sqlite3* db);

// Returns the connection's fts5_api, or nullptr when SQLite has no FTS5. This is the lookup the
// FTS5 documentation prescribes: the fts5() SQL function writes the pointer into a bound pointer
// of type "fts5_api_ptr".
fts5_api* FindFts5Api(sqlite3* db);

}  // namespace on::storage::sqlite
