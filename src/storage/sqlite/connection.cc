#include "storage/sqlite/connection.h"

#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "storage/sqlite/fts5_rank.h"
#include "storage/sqlite/fts5_tokenizer.h"

namespace on::storage::sqlite {
namespace {

Status StatusFromCode(sqlite3* db, int code, std::string_view context) {
  const int primary = code & 0xff;
  std::string message = std::string(context) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code));
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Status(ErrorCode::kUnavailable, message + " (database is locked by another writer)");
  if (primary == SQLITE_FULL) {
    const char* file = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
    const std::string directory = file != nullptr && *file != '\0' ? std::filesystem::path(file).parent_path().string() : "the data directory";
    return Status(ErrorCode::kIo, message + ": the disk holding " + directory +
                                      " is full, or the database reached OPEN_NOTEBOOK_DB_MAX_SIZE_MB. Free space there "
                                      "(check with `df -h " + directory + "`) or raise the limit, then retry; nothing "
                                      "stored before was lost");
  }
  if (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY) return Status(ErrorCode::kIo, message);
  if (primary == SQLITE_CONSTRAINT) return InvalidInput(message);
  return DatabaseError(message);
}

}  // namespace

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::BindOptional(int index, const std::optional<std::string>& text) {
  return text ? Bind(index, std::string_view(*text)) : BindNull(index);
}

Result<bool> Statement::Step() {
  const int code = sqlite3_step(stmt_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  return StatusFromCode(connection_->handle(), code, "statement failed");
}

Status Statement::Run() {
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

std::string Statement::Text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return std::string();
  return std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::string> Statement::OptionalText(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
  return Text(column);
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }

Statement& Statement::BindBlob(int index, const void* data, size_t size) {
  sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_TRANSIENT);
  return *this;
}

std::string_view Statement::Blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  if (data == nullptr) return {};
  return std::string_view(static_cast<const char*>(data), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool Statement::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

Result<std::unique_ptr<Connection>> Connection::Open(const ConnectionOptions& options) {
  sqlite3* db = nullptr;
  const int flags = (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX;
  const int code = sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr);
  if (code != SQLITE_OK) {
    Status status = StatusFromCode(db, code, "cannot open database file " + options.path);
    sqlite3_close(db);
    return status;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);

  std::unique_ptr<Connection> connection(new Connection(db));
  std::string pragmas = "PRAGMA foreign_keys = ON; PRAGMA synchronous = " + options.synchronous + ";";
  if (!options.read_only) pragmas = "PRAGMA journal_mode = WAL; " + pragmas;
  // Searches read the same keyword-index pages again and again. Through SQLite's page cache each
  // miss is a pread() and a copy; mapped, a page is read in place from the kernel's page cache.
  pragmas += " PRAGMA mmap_size = " + std::to_string(options.mmap_size_bytes) + ";";
  ON_RETURN_IF_ERROR(connection->Execute(pragmas));
  if (options.max_size_mb > 0 && !options.read_only) {
    ON_ASSIGN_OR_RETURN(auto page_size, connection->Prepare("PRAGMA page_size"));
    ON_ASSIGN_OR_RETURN(bool has_row, page_size.Step());
    const int64_t bytes_per_page = has_row && page_size.Int(0) > 0 ? page_size.Int(0) : 4096;
    // The limit holds for this connection only; the writer is the connection that grows the file.
    ON_RETURN_IF_ERROR(connection->Execute("PRAGMA max_page_count = " +
                                           std::to_string(options.max_size_mb * (int64_t{1} << 20) / bytes_per_page)));
  }
  // The keyword index tables use this tokenizer; every connection that may touch them needs it.
  ON_RETURN_IF_ERROR(RegisterFts5Tokenizer(db));
  ON_RETURN_IF_ERROR(RegisterFts5RankFunction(db));
  // Document frequencies of the chunk index, which keyword search reads to plan its query. The
  // table lives in this connection's temp schema and is resolved when queried, so it is the same
  // before and after migrations and never part of the database file.
  ON_RETURN_IF_ERROR(
      connection->Execute("CREATE VIRTUAL TABLE temp.chunk_vocab USING fts5vocab(main, 'chunk_fts', 'row')"));
  return connection;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  auto found = statements_.find(std::string(sql));
  if (found != statements_.end()) return Statement(this, found->second);

  sqlite3_stmt* stmt = nullptr;
  const int code = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (code != SQLITE_OK) return StatusFromCode(db_, code, "cannot prepare statement");
  statements_.emplace(std::string(sql), stmt);
  return Statement(this, stmt);
}

Status Connection::Execute(std::string_view sql) {
  char* error = nullptr;
  const int code = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &error);
  if (code == SQLITE_OK) return Status::Ok();
  std::string message = error != nullptr ? error : sqlite3_errstr(code);
  sqlite3_free(error);
  Status status = StatusFromCode(db_, code, "statement failed");
  return Status(status.code(), "statement failed: " + message);
}

int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

Status Connection::LastError(std::string_view context) const {
  return StatusFromCode(db_, sqlite3_errcode(db_), context);
}

}  // namespace on::storage::sqlite
