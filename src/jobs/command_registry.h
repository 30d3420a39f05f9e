// Commands that background jobs run: a name, a handler and a retry policy each.
//
// A command is addressed as "app.name" (for example "open_notebook.process_source"); jobs store
// the app and the name separately, as the original API's POST /api/commands/jobs does.
//
//   registry.Register({.app = "open_notebook", .name = "process_source",
//                      .description = "Extract, chunk and embed one source",
//                      .handler = [&](jobs::JobContext& job) -> Result<nlohmann::json> {
//                        job.Progress("extracting", 10);
//                        if (job.CancelRequested()) return Status(ErrorCode::kCancelled, "cancelled");
//                        ...
//                        return nlohmann::json{{"chunks", 12}};
//                      }});
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/retry_policy.h"

namespace on::jobs {

// The view of one job attempt that a handler gets. The worker implements it, and tests of
// handlers may implement it too. Methods are called from the handler's thread.
class JobContext {
 public:
  virtual ~JobContext() = default;

  virtual const std::string& job_id() const = 0;
  // The job's input object, as submitted.
  virtual const nlohmann::json& input() const = 0;
  // This run's number, 1 for the first run; attempt() == max_attempts() on the last run.
  virtual int attempt() const = 0;
  virtual int max_attempts() const = 0;

  // Records the current stage ("extracting") and percent (0 to 100) of the job. It only stores
  // the value in memory. The worker writes the latest value every progress interval (500 ms by
  // default).
  virtual void Progress(std::string_view stage, int percent) = 0;

  // True once the job should stop: its cancellation was requested, the worker is shutting down
  // or the worker lost the job's lease. A handler checks it between steps and then returns
  // Status(ErrorCode::kCancelled, ...) soon. The worker decides whether the job ends cancelled or
  // goes back to the queue.
  virtual bool CancelRequested() const = 0;

  // Sleeps for `duration` or until CancelRequested() becomes true. Returns false when woken by
  // the stop request.
  virtual bool SleepFor(std::chrono::milliseconds duration) = 0;
};

// Runs one attempt of a job. Returns the job's result (any JSON value, usually an object), or an
// error: transient codes (see IsTransient in core/retry_policy.h) are retried while attempts are
// left, and every other code fails the job at once. An exception thrown by the handler fails
// the job with kInternal.
using CommandHandler = std::function<Result<nlohmann::json>(JobContext& job)>;

struct CommandSpec {
  std::string app;   // lowercase letters, digits and '_'
  std::string name;  // lowercase letters, digits and '_'
  std::string description;
  CommandHandler handler;
  // Retry policy of this command; the registry's default policy when empty.
  std::optional<RetryPolicy> retry;

  std::string FullName() const { return app + "." + name; }
};

// Filled once at start-up, then shared: Register is not thread-safe, every other method is. Only
// the default retry policy changes afterwards (OPEN_NOTEBOOK_RETRY_* are runtime settings).
class CommandRegistry {
 public:
  explicit CommandRegistry(RetryPolicy default_policy) : default_policy_(default_policy) {}

  // Adds a command. kInvalidInput when the app or name is empty or has other characters than
  // lowercase letters, digits and '_', when the handler is empty, or when "app.name" exists.
  Status Register(CommandSpec spec);

  // Finds a command by app and name. An empty app matches when exactly one app has the name, and
  // a name of the form "app.name" with an empty app is split. kInvalidInput naming the command
  // and listing the known ones when there is no match.
  Result<const CommandSpec*> Find(std::string_view app, std::string_view name) const;
  // Finds by "app.name"; nullptr when unknown.
  const CommandSpec* FindFull(std::string_view full_name) const;

  // The command's policy, or the default policy when it has none.
  RetryPolicy PolicyFor(const CommandSpec& command) const;
  RetryPolicy default_policy() const;
  // Replaces the default policy; jobs submitted and retries scheduled afterwards use it.
  void SetDefaultPolicy(RetryPolicy policy);

  // Every "app.name", sorted.
  std::vector<std::string> FullNames() const;
  // Every command, sorted by full name.
  std::vector<const CommandSpec*> Commands() const;

 private:
  mutable std::mutex policy_mutex_;
  RetryPolicy default_policy_;  // guarded by policy_mutex_
  std::map<std::string, CommandSpec, std::less<>> commands_;  // by full name
};

}  // namespace on::jobs
