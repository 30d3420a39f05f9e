#include "jobs/builtin_commands.h"

#include "jobs/embed_commands.h"
#include "jobs/process_source_command.h"
#include "jobs/transformation_commands.h"

#include <spdlog/spdlog.h>

namespace on::jobs {
namespace {

// Reads an optional integer field of the input, checking its type and range.
Result<int64_t> IntField(const nlohmann::json& input, const char* field, int64_t fallback, int64_t min, int64_t max) {
  if (!input.contains(field)) return fallback;
  const nlohmann::json& value = input.at(field);
  if (!value.is_number_integer()) return InvalidInput(std::string("debug.sleep input '") + field + "' must be an integer");
  const int64_t number = value.get<int64_t>();
  if (number < min || number > max) {
    return InvalidInput(std::string("debug.sleep input '") + field + "' is " + std::to_string(number) +
                        ": expected " + std::to_string(min) + " to " + std::to_string(max));
  }
  return number;
}

Result<nlohmann::json> DebugSleep(JobContext& job) {
  const nlohmann::json& input = job.input();
  if (!input.is_object()) return InvalidInput("debug.sleep input must be a JSON object");
  ON_ASSIGN_OR_RETURN(const int64_t sleep_ms, IntField(input, "ms", 100, 0, 600000));
  ON_ASSIGN_OR_RETURN(const int64_t steps, IntField(input, "steps", 10, 1, 1000));
  ON_ASSIGN_OR_RETURN(const int64_t fail_transient, IntField(input, "fail_transient", 0, 0, 100));
  if (input.contains("fail_permanent") && !input.at("fail_permanent").is_boolean()) {
    return InvalidInput("debug.sleep input 'fail_permanent' must be true or false");
  }
  const bool fail_permanent = input.value("fail_permanent", false);

  if (job.attempt() <= fail_transient) {
    return Status(ErrorCode::kUnavailable, "debug.sleep fails on attempt " + std::to_string(job.attempt()) +
                                               " of the first " + std::to_string(fail_transient) + " as requested");
  }

  for (int64_t step = 0; step < steps; ++step) {
    job.Progress("sleeping", static_cast<int>(step * 100 / steps));
    if (!job.SleepFor(std::chrono::milliseconds(sleep_ms / steps + (step < sleep_ms % steps ? 1 : 0)))) {
      return Status(ErrorCode::kCancelled, "debug.sleep stopped after " + std::to_string(step) + " of " +
                                               std::to_string(steps) + " steps because it was asked to stop");
    }
  }
  job.Progress("done", 100);

  if (fail_permanent) return InvalidInput("debug.sleep fails permanently as requested");
  return nlohmann::json{{"slept_ms", sleep_ms}, {"attempt", job.attempt()}, {"result", input.value("result", nlohmann::json())}};
}

}  // namespace

Status RegisterDebugCommands(CommandRegistry& registry) {
  return registry.Register(CommandSpec{
      "debug", "sleep",
      "For tests only: sleeps, reports progress, honours cancellation and fails on request", DebugSleep,
      std::nullopt});
}

Result<std::unique_ptr<CommandRegistry>> BuildCommandRegistry(const CommandEnvironment& environment) {
  auto registry = std::make_unique<CommandRegistry>(DefaultRetryPolicy(environment.settings));
  ON_RETURN_IF_ERROR(RegisterProcessSourceCommand(*registry, environment));
  ON_RETURN_IF_ERROR(RegisterEmbedCommands(*registry, environment));
  ON_RETURN_IF_ERROR(RegisterTransformationCommands(*registry, environment));
  if (environment.settings.enable_test_commands) {
    ON_RETURN_IF_ERROR(RegisterDebugCommands(*registry));
    spdlog::warn("OPEN_NOTEBOOK_ENABLE_TEST_COMMANDS is true: the debug.sleep job command is registered; "
                 "disable it outside tests");
  }
  return registry;
}

}  // namespace on::jobs
