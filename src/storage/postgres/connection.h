// One libpq connection to PostgreSQL, with its prepared-statement cache.
//
// Values always travel as statement parameters (PQexecPrepared), never inside SQL text. A
// connection is used by one thread at a time: the thread that leased it from the Pool.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"

struct pg_conn;
struct pg_result;

namespace on::storage::postgres {

struct ConnectionOptions {
  // A libpq connection URI (postgresql://user@host:port/database) or key=value string.
  std::string url;
  // Milliseconds the server lets one statement run before cancelling it; 0 for no limit.
  int statement_timeout_ms = 30000;
  // Seconds libpq waits for the TCP connection and start-up; libpq's minimum is 2.
  int connect_timeout_s = 10;
  // Seconds a connection may sit silent before TCP keepalive probes start; 0 keeps the system's
  // default (two hours on Linux). A connection that only waits for notifications sets it, so a
  // server that vanished without closing the socket is noticed.
  int keepalive_idle_s = 0;
};

// A NOTIFY received on a connection that ran LISTEN.
struct Notification {
  std::string channel;
  std::string payload;
  int sender_pid = 0;  // the server process of the notifying session
};

// Parameters of one statement, in text format: $1 is params[0]. nullopt binds NULL.
class Params {
 public:
  Params& Add(std::string_view text) {
    values_.emplace_back(std::string(text));
    return *this;
  }
  Params& Add(const std::string& text) { return Add(std::string_view(text)); }
  Params& Add(const char* text) { return Add(std::string_view(text)); }
  Params& Add(int64_t value) {
    values_.emplace_back(std::to_string(value));
    return *this;
  }
  Params& Add(int value) { return Add(static_cast<int64_t>(value)); }
  Params& Add(bool value) {
    values_.emplace_back(value ? "true" : "false");
    return *this;
  }
  Params& Add(const std::optional<std::string>& text) {
    values_.push_back(text);
    return *this;
  }
  Params& AddNull() {
    values_.emplace_back(std::nullopt);
    return *this;
  }

  const std::vector<std::optional<std::string>>& values() const { return values_; }

 private:
  std::vector<std::optional<std::string>> values_;
};

// The rows of one statement, in text format. Row and column indexes are 0-based.
class Rows {
 public:
  explicit Rows(pg_result* result) : result_(result) {}
  ~Rows();
  Rows(Rows&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  Rows& operator=(Rows&& other) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;

  int size() const;
  bool empty() const { return size() == 0; }
  // Rows inserted, updated or deleted by the statement.
  int64_t affected() const;

  bool IsNull(int row, int column) const;
  std::string Text(int row, int column) const;
  std::optional<std::string> OptionalText(int row, int column) const;
  int64_t Int(int row, int column) const;
  std::optional<int64_t> OptionalInt(int row, int column) const;
  double Double(int row, int column) const;
  // A boolean column ("t" or "f" in text format).
  bool Bool(int row, int column) const;

 private:
  friend class Connection;

  pg_result* result_;
};

class Connection {
 public:
  // Connects and applies the statement time-out. kUnavailable when the server cannot be reached
  // or refuses the connection, with libpq's reason.
  static Result<std::unique_ptr<Connection>> Open(const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement with `params`, preparing it on this connection at first use.
  Result<Rows> Query(std::string_view sql, const Params& params = Params());
  // Runs a script of one or more statements that take no parameters (schema scripts, BEGIN).
  Status Execute(std::string_view sql);

  // True when libpq has noticed that the server closed the connection or the socket failed.
  // Also reads anything the server sent while the connection was idle (a shutdown notice).
  bool IsBroken();
  // True outside a transaction block: no BEGIN without COMMIT or ROLLBACK, no statement running.
  bool IsIdle() const;
  // True inside a transaction block that a failed statement aborted.
  bool InFailedTransaction() const;
  // The server process id of this connection, as pg_stat_activity shows it.
  int BackendPid() const;

  // True when a statement since the previous call inserted, updated or deleted rows; resets it.
  // The pool counts such leases, so DataVersion changes at once after this process's own writes.
  bool TakeWrote();

  // The socket to poll for notifications; -1 when the connection is closed.
  int Socket() const;
  // Reads what the server sent without blocking and returns the notifications that arrived.
  // kUnavailable when the connection failed.
  Result<std::vector<Notification>> ReadNotifications();

 private:
  explicit Connection(pg_conn* handle) : handle_(handle) {}

  Status StatusFromResult(pg_result* result, std::string_view context) const;
  void NoteCommand(pg_result* result);

  pg_conn* handle_;
  // SQL text to the name of its prepared statement on this connection.
  std::unordered_map<std::string, std::string> prepared_;
  bool wrote_ = false;
};

// Runs `body` between BEGIN and COMMIT on `connection`, or ROLLBACK when `body` or COMMIT fails.
Status RunInTransaction(Connection& connection, const std::function<Status()>& body);

// Maps a PostgreSQL SQLSTATE to the registry. A unique violation gives kConflict, and other
// integrity violations and data exceptions give kInvalidInput. A cancelled statement (the
// statement time-out) gives kTimeout. Connection failures, server shutdown, deadlocks and
// serialization failures give kUnavailable, and everything else kDatabase. `message` must not
// contain stored values.
Status StatusFromSqlState(std::string_view sqlstate, std::string message);

}  // namespace on::storage::postgres
