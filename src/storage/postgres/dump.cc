#include "storage/postgres/dump.h"

#include <libpq-fe.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <vector>

#include "ingest/child_process.h"
#include "storage/postgres/connection.h"

namespace on::storage::postgres {
namespace {

// A dump or restore of a large database takes hours, not the minutes of a document tool.
constexpr auto kToolTimeout = std::chrono::hours(24);

struct ToolConnection {
  std::string conninfo;                  // key='value' pairs without the password
  std::vector<std::string> environment;  // PGPASSWORD when the URL has one
};

// Appends key='value' with the quoting of libpq connection strings.
void AppendKeyword(std::string& conninfo, const char* key, const char* value) {
  if (!conninfo.empty()) conninfo += ' ';
  conninfo += key;
  conninfo += "='";
  for (const char* c = value; *c != '\0'; ++c) {
    if (*c == '\'' || *c == '\\') conninfo += '\\';
    conninfo += *c;
  }
  conninfo += '\'';
}

Result<ToolConnection> SplitUrl(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return InvalidInput("OPEN_NOTEBOOK_DATABASE_URL cannot be parsed: " + message);
  }
  ToolConnection connection;
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr || option->val[0] == '\0') continue;
    if (std::string_view(option->keyword) == "password") {
      connection.environment.push_back(std::string("PGPASSWORD=") + option->val);
    } else {
      AppendKeyword(connection.conninfo, option->keyword, option->val);
    }
  }
  PQconninfoFree(options);
  return connection;
}

// The last lines of a tool's error output, for a message.
std::string Tail(const std::string& text) {
  constexpr size_t kMaxBytes = 2000;
  std::string tail = text.size() > kMaxBytes ? text.substr(text.size() - kMaxBytes) : text;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
  return tail;
}

Status RunTool(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
               ErrorCode failure_code) {
  ingest::ChildProcessLimits limits;
  limits.timeout = kToolTimeout;
  limits.cpu_time = std::chrono::seconds(0);
  limits.max_stdout_bytes = 64 << 20;
  ON_ASSIGN_OR_RETURN(auto result, ingest::RunChildProcess(argv, limits, environment));
  if (result.exit_code == 0) return Status::Ok();
  std::string reason = result.timed_out ? "it did not finish within 24 hours"
                       : result.exit_code >= 0 ? "exit code " + std::to_string(result.exit_code)
                                               : "signal " + std::to_string(result.term_signal);
  return Status(failure_code, argv[0] + " failed (" + reason + "): " + Tail(result.stderr_data));
}

}  // namespace

Status DumpDatabase(const std::string& url, const std::string& path) {
  std::error_code error;
  if (std::filesystem::exists(path, error)) return Status(ErrorCode::kConflict, "backup target " + path + " already exists");
  ON_ASSIGN_OR_RETURN(ToolConnection connection, SplitUrl(url));
  Status dumped = RunTool({"pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file=" + path,
                           "--dbname=" + connection.conninfo},
                          connection.environment, ErrorCode::kDatabase);
  if (!dumped.ok()) std::filesystem::remove(path, error);
  return dumped;
}

Status CheckDumpFile(const std::string& path) {
  return RunTool({"pg_restore", "--list", "--file=/dev/null", path}, {}, ErrorCode::kInvalidInput);
}

Status RestoreDatabase(const std::string& url, const std::string& path) {
  ON_ASSIGN_OR_RETURN(ToolConnection connection, SplitUrl(url));

  // The dump's CREATE EXTENSION vector needs a superuser (pgvector is not a trusted extension),
  // and with --clean its DROP EXTENSION would fail for the database owner that open-notebook
  // normally connects as. So the extension entries are left out of the restore's list, and the
  // extension is created beforehand, which succeeds without privileges when it exists already.
  {
    ConnectionOptions options;
    options.url = url;
    ON_ASSIGN_OR_RETURN(auto db, Connection::Open(options));
    if (Status created = db->Execute("CREATE EXTENSION IF NOT EXISTS vector"); !created.ok()) {
      return Status(created.code(), "the database has no pgvector extension and this role cannot create it (" +
                                        created.message() + "); have a superuser run CREATE EXTENSION vector in it");
    }
  }
  ingest::ChildProcessLimits limits;
  limits.timeout = kToolTimeout;
  limits.cpu_time = std::chrono::seconds(0);
  ON_ASSIGN_OR_RETURN(auto listed, ingest::RunChildProcess({"pg_restore", "--list", path}, limits));
  if (listed.exit_code != 0) return InvalidInput("pg_restore cannot read " + path + ": " + Tail(listed.stderr_data));
  std::string kept_entries;
  size_t start = 0;
  while (start < listed.stdout_data.size()) {
    size_t end = listed.stdout_data.find('\n', start);
    if (end == std::string::npos) end = listed.stdout_data.size();
    const std::string_view line(listed.stdout_data.data() + start, end - start);
    if (line.find(" EXTENSION ") == std::string_view::npos) kept_entries.append(line).push_back('\n');
    start = end + 1;
  }
  const std::string list_path = path + ".list";
  {
    std::ofstream list(list_path, std::ios::trunc);
    list << kept_entries;
    if (!list.flush()) return Status(ErrorCode::kIo, "cannot write " + list_path);
  }
  Status restored = RunTool({"pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                             "--single-transaction", "--exit-on-error", "--use-list=" + list_path,
                             "--dbname=" + connection.conninfo, path},
                            connection.environment, ErrorCode::kDatabase);
  std::error_code error;
  std::filesystem::remove(list_path, error);
  return restored;
}

}  // namespace on::storage::postgres
