// One SQLite connection with its prepared-statement cache.
//
// A connection is used by one thread at a time (the writer thread, or a reader that leased it
// from the pool). Statements are prepared once per connection and reset when their lease ends.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace on::storage::sqlite {

struct ConnectionOptions {
  std::string path;
  bool read_only = false;
  int busy_timeout_ms = 5000;
  std::string synchronous = "full";  // "full" or "normal"
  // Bytes of the database file SQLite reads through a memory mapping instead of read() calls.
  // The mapping shares the kernel's page cache, so it adds address space, not private memory.
  int64_t mmap_size_bytes = int64_t{1} << 30;
  // Largest database size in MiB for writes through this connection, 0 for no limit.
  int64_t max_size_mb = 0;
};

class Connection;

// A prepared statement leased from a connection's cache; reset and unbound on destruction.
// Bind indexes and column indexes are 1-based and 0-based respectively, as in SQLite.
class Statement {
 public:
  Statement(Connection* connection, sqlite3_stmt* stmt) : connection_(connection), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept : connection_(other.connection_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, int64_t value);
  Statement& BindNull(int index);
  Statement& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  // Binds NULL for an empty optional.
  Statement& BindOptional(int index, const std::optional<std::string>& text);
  // Binds `size` bytes as a BLOB; SQLite copies them.
  Statement& BindBlob(int index, const void* data, size_t size);

  // Resets the statement and clears its bindings, to run it again in a loop.
  void Reset();

  // Advances to the next row: true when a row is available, false when done.
  Result<bool> Step();
  // Steps until done, for statements that return no rows.
  Status Run();

  std::string Text(int column) const;
  std::optional<std::string> OptionalText(int column) const;
  int64_t Int(int column) const;
  double Double(int column) const;
  bool IsNull(int column) const;
  // The column's bytes, valid until the next Step or Reset.
  std::string_view Blob(int column) const;

 private:
  Connection* connection_;
  sqlite3_stmt* stmt_;
};

class Connection {
 public:
  // Opens the database file, sets WAL, foreign keys, busy timeout and the synchronous mode.
  static Result<std::unique_ptr<Connection>> Open(const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Returns a cached prepared statement for `sql`, preparing it on first use.
  Result<Statement> Prepare(std::string_view sql);
  // Runs one or more statements without results (schema scripts, BEGIN/COMMIT).
  Status Execute(std::string_view sql);
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const;

  // Turns the current SQLite error into a Status, with `context` naming the operation.
  Status LastError(std::string_view context) const;

  sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace on::storage::sqlite
