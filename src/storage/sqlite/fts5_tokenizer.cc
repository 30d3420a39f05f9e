#include "storage/sqlite/fts5_tokenizer.h"

#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "search/tokenizer.h"

namespace on::storage::sqlite {
namespace {

// FTS5 declares Fts5Tokenizer as an opaque type. Each handle it passes us points to one of these.
struct TokenizerHandle {
  search::Tokenizer tokenizer;
};

TokenizerHandle* FromHandle(Fts5Tokenizer* handle) {
  return reinterpret_cast<TokenizerHandle*>(handle);
}

// xCreate: `args` are the words after the tokenizer name in tokenize='on_icu ...'.
int CreateTokenizer(void* /*context*/, const char** args, int arg_count, Fts5Tokenizer** out) {
  *out = nullptr;
  if (arg_count > 1) return SQLITE_ERROR;
  const std::string language = arg_count == 1 ? std::string(args[0]) : std::string("english");
  if (!search::Tokenizer::IsSupportedStemLanguage(language)) return SQLITE_ERROR;
  try {
    *out = reinterpret_cast<Fts5Tokenizer*>(new TokenizerHandle{search::Tokenizer(language)});
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

void DeleteTokenizer(Fts5Tokenizer* handle) { delete FromHandle(handle); }

using TokenCallback = int (*)(void* context, int flags, const char* token, int token_bytes,
                              int begin, int end);

// xTokenize. The same code runs for documents and queries (FTS5_TOKENIZE_QUERY), which is what
// makes a query term match the document term. Offsets are byte offsets into `text`, as
// highlight() and snippet() expect.
// NOTE: prefix queries ("runn*", FTS5_TOKENIZE_PREFIX) are stemmed like whole words, so they
// can miss; search::BuildFts5Match never builds them.
int TokenizeText(Fts5Tokenizer* handle, void* context, int /*flags*/, const char* text,
                 int text_bytes, TokenCallback emit) {
  if (text == nullptr || text_bytes <= 0) return SQLITE_OK;
  int rc = SQLITE_OK;
  try {
    FromHandle(handle)->tokenizer.ForEachToken(
        std::string_view(text, static_cast<size_t>(text_bytes)), [&](const search::Token& token) {
          rc = emit(context, 0, token.term.data(), static_cast<int>(token.term.size()),
                    static_cast<int>(token.begin), static_cast<int>(token.end));
          return rc == SQLITE_OK;
        });
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  } catch (const std::exception&) {
    return SQLITE_ERROR;
  }
  return rc;
}

}  // namespace

fts5_api* FindFts5Api(sqlite3* db) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &statement, nullptr) != SQLITE_OK) {
    sqlite3_finalize(statement);
    return nullptr;
  }
  fts5_api* api = nullptr;
  sqlite3_bind_pointer(statement, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
  sqlite3_step(statement);
  sqlite3_finalize(statement);
  return api;
}

Status RegisterFts5Tokenizer(sqlite3* db) {
  if (db == nullptr) {
    return InvalidInput("RegisterFts5Tokenizer needs an open connection, got null");
  }
  fts5_api* api = FindFts5Api(db);
  if (api == nullptr || api->iVersion < 2) {
    return DatabaseError(std::string("SQLite ") + sqlite3_libversion() +
                         " has no usable FTS5 module; install a SQLite built with FTS5");
  }
  static fts5_tokenizer methods{CreateTokenizer, DeleteTokenizer, TokenizeText};
  const int rc = api->xCreateTokenizer(api, kFts5TokenizerName, nullptr, &methods, nullptr);
  if (rc != SQLITE_OK) {
    return DatabaseError(std::string("registering the FTS5 tokenizer ") + kFts5TokenizerName +
                         " failed: " + sqlite3_errstr(rc));
  }
  return Status::Ok();
}

}  // namespace on::storage::sqlite
