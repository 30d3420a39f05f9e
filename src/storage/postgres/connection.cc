#include "storage/postgres/connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cstdlib>
#include <utility>

#include <spdlog/spdlog.h>

namespace on::storage::postgres {
namespace {

// libpq messages end with a newline; error statuses read better without it.
std::string TrimMessage(const char* text) {
  std::string message = text != nullptr ? text : "";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

// Routes server notices ("extension already exists, skipping") to the debug log instead of
// libpq's default, which writes them to stderr.
void LogNotice(void* /*context*/, const char* message) { spdlog::debug("PostgreSQL: {}", TrimMessage(message)); }

}  // namespace

Status StatusFromSqlState(std::string_view sqlstate, std::string message) {
  if (!sqlstate.empty()) message += " (SQLSTATE " + std::string(sqlstate) + ")";
  if (sqlstate == "23505") return Status(ErrorCode::kConflict, std::move(message));
  if (sqlstate.starts_with("23") || sqlstate.starts_with("22")) return InvalidInput(std::move(message));
  if (sqlstate == "57014") return Status(ErrorCode::kTimeout, std::move(message));
  // Class 08 is a connection exception; 57P01 to 57P03 are server shutdown and start-up; 40001
  // and 40P01 (serialization failure, deadlock) succeed when the transaction runs again.
  if (sqlstate.empty() || sqlstate.starts_with("08") || sqlstate.starts_with("57P") || sqlstate == "40001" ||
      sqlstate == "40P01") {
    return Status(ErrorCode::kUnavailable, std::move(message));
  }
  return DatabaseError(std::move(message));
}

Rows::~Rows() { PQclear(result_); }

Rows& Rows::operator=(Rows&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

int Rows::size() const { return PQntuples(result_); }

int64_t Rows::affected() const {
  const char* count = PQcmdTuples(result_);
  return count != nullptr && *count != '\0' ? std::strtoll(count, nullptr, 10) : 0;
}

bool Rows::IsNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }

std::string Rows::Text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column), static_cast<size_t>(PQgetlength(result_, row, column)));
}

std::optional<std::string> Rows::OptionalText(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return Text(row, column);
}

int64_t Rows::Int(int row, int column) const { return std::strtoll(PQgetvalue(result_, row, column), nullptr, 10); }

std::optional<int64_t> Rows::OptionalInt(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return Int(row, column);
}

double Rows::Double(int row, int column) const { return std::strtod(PQgetvalue(result_, row, column), nullptr); }

bool Rows::Bool(int row, int column) const { return PQgetvalue(result_, row, column)[0] == 't'; }

Result<std::unique_ptr<Connection>> Connection::Open(const ConnectionOptions& options) {
  const std::string connect_timeout = std::to_string(std::max(options.connect_timeout_s, 2));
  // expand_dbname = 1 parses the URL given as dbname; the keywords after it override the URL's.
  std::vector<const char*> keywords = {"dbname", "connect_timeout", "application_name"};
  std::vector<const char*> values = {options.url.c_str(), connect_timeout.c_str(), "open-notebook"};
  const std::string keepalive_idle = std::to_string(options.keepalive_idle_s);
  if (options.keepalive_idle_s > 0) {
    // Three unanswered probes 10 s apart end the connection, so a dead peer is found within
    // keepalive_idle_s + 30 s.
    keywords.insert(keywords.end(), {"keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count"});
    values.insert(values.end(), {"1", keepalive_idle.c_str(), "10", "3"});
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* handle = PQconnectdbParams(keywords.data(), values.data(), 1);
  if (handle == nullptr) return Status(ErrorCode::kUnavailable, "cannot connect to PostgreSQL: libpq is out of memory");
  if (PQstatus(handle) != CONNECTION_OK) {
    // libpq's message names the host and port and the reason, never the password.
    Status status(ErrorCode::kUnavailable, "cannot connect to PostgreSQL: " + TrimMessage(PQerrorMessage(handle)));
    PQfinish(handle);
    return status;
  }

  PQsetNoticeProcessor(handle, LogNotice, nullptr);
  std::unique_ptr<Connection> connection(new Connection(handle));
  ON_RETURN_IF_ERROR(connection
                         ->Query("SELECT set_config('statement_timeout', $1, false)",
                                 Params().Add(std::to_string(std::max(options.statement_timeout_ms, 0))))
                         .status());
  return connection;
}

Connection::~Connection() { PQfinish(handle_); }

Status Connection::StatusFromResult(PGresult* result, std::string_view context) const {
  const char* sqlstate = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  // The primary message names the constraint or object; the detail field, which can quote the
  // stored values, is left out.
  const char* primary = result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = std::string(context) + ": " + TrimMessage(primary != nullptr ? primary : PQerrorMessage(handle_));
  return StatusFromSqlState(sqlstate != nullptr ? sqlstate : "", std::move(message));
}

Result<Rows> Connection::Query(std::string_view sql, const Params& params) {
  const std::string key(sql);
  auto found = prepared_.find(key);
  if (found == prepared_.end()) {
    const std::string name = "s" + std::to_string(prepared_.size() + 1);
    Rows prepared(PQprepare(handle_, name.c_str(), key.c_str(), 0, nullptr));
    if (PQresultStatus(prepared.result_) != PGRES_COMMAND_OK) {
      return StatusFromResult(prepared.result_, "preparing a statement failed");
    }
    found = prepared_.emplace(key, name).first;
  }

  const auto& values = params.values();
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const auto& value : values) pointers.push_back(value ? value->c_str() : nullptr);

  Rows rows(PQexecPrepared(handle_, found->second.c_str(), static_cast<int>(values.size()), pointers.data(), nullptr,
                           nullptr, 0));
  const ExecStatusType status = PQresultStatus(rows.result_);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return StatusFromResult(rows.result_, "statement failed");
  NoteCommand(rows.result_);
  return rows;
}

void Connection::NoteCommand(PGresult* result) {
  // The command tag is "INSERT 0 3", "UPDATE 1", "DELETE 0" and so on. A statement that changed
  // no row leaves cached reads valid.
  const std::string_view tag = PQcmdStatus(result);
  if (tag.starts_with("TRUNCATE")) {
    wrote_ = true;
    return;
  }
  if (!tag.starts_with("INSERT") && !tag.starts_with("UPDATE") && !tag.starts_with("DELETE") &&
      !tag.starts_with("MERGE") && !tag.starts_with("COPY")) {
    return;
  }
  const char* count = PQcmdTuples(result);
  if (count != nullptr && std::strtoll(count, nullptr, 10) > 0) wrote_ = true;
}

bool Connection::TakeWrote() { return std::exchange(wrote_, false); }

int Connection::Socket() const { return PQsocket(handle_); }

Result<std::vector<Notification>> Connection::ReadNotifications() {
  if (PQconsumeInput(handle_) == 0 || PQstatus(handle_) != CONNECTION_OK) {
    // libpq breaks this message into indented lines, and a log line must stay one line.
    std::string message;
    for (char c : TrimMessage(PQerrorMessage(handle_))) {
      const bool space = c == '\n' || c == '\t' || c == ' ';
      if (!space) {
        message += c;
      } else if (!message.empty() && message.back() != ' ') {
        message += ' ';
      }
    }
    return Status(ErrorCode::kUnavailable, "the PostgreSQL connection failed: " + message);
  }
  std::vector<Notification> received;
  while (PGnotify* notify = PQnotifies(handle_)) {
    received.push_back(Notification{notify->relname != nullptr ? notify->relname : "",
                                    notify->extra != nullptr ? notify->extra : "", notify->be_pid});
    PQfreemem(notify);
  }
  return received;
}

Status Connection::Execute(std::string_view sql) {
  const std::string script(sql);
  Rows rows(PQexec(handle_, script.c_str()));
  const ExecStatusType status = PQresultStatus(rows.result_);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return StatusFromResult(rows.result_, "statement failed");
  NoteCommand(rows.result_);
  return Status::Ok();
}

bool Connection::IsBroken() {
  if (PQstatus(handle_) != CONNECTION_OK) return true;
  // An idle connection has nothing to read unless the server sent a notice or closed the socket,
  // as it does when an administrator terminates the backend or the server shuts down.
  // A terminated backend sends its FATAL message and then closes the socket, so reading goes on
  // until libpq reaches the end of the stream; a few rounds cover both parts.
  for (int round = 0; round < 4; ++round) {
    pollfd descriptor{PQsocket(handle_), POLLIN, 0};
    if (descriptor.fd < 0) return true;
    if (poll(&descriptor, 1, 0) <= 0) break;
    if (PQconsumeInput(handle_) == 0) return true;
  }
  return PQstatus(handle_) != CONNECTION_OK;
}

bool Connection::IsIdle() const { return PQtransactionStatus(handle_) == PQTRANS_IDLE; }

bool Connection::InFailedTransaction() const { return PQtransactionStatus(handle_) == PQTRANS_INERROR; }

int Connection::BackendPid() const { return PQbackendPID(handle_); }

Status RunInTransaction(Connection& connection, const std::function<Status()>& body) {
  ON_RETURN_IF_ERROR(connection.Execute("BEGIN"));
  Status status = body();
  // COMMIT of an aborted transaction reports success but rolls back, so a body that ignored a
  // failed statement must not reach it.
  if (status.ok() && connection.InFailedTransaction()) {
    status = DatabaseError("the transaction was aborted by a statement whose error was ignored");
  }
  if (status.ok()) status = connection.Execute("COMMIT");
  if (!status.ok() && !connection.IsIdle()) (void)connection.Execute("ROLLBACK");
  return status;
}

}  // namespace on::storage::postgres
