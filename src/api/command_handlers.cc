// Background jobs: submit, inspect, list and cancel jobs, and list the registered commands.
//
// Job ids have the form "command:<key>", as in the original API. The worker runs the jobs
// (jobs/worker.h); these handlers only read and write the queue.
#include "api/command_handlers.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/json_body.h"
#include "core/ids.h"
#include "jobs/queue_overview.h"

namespace on::api {
namespace {

constexpr size_t kMaxCommandLength = 200;
constexpr size_t kMaxAppLength = 100;
constexpr size_t kMaxDedupeKeyLength = 200;
// Job inputs name records and options; documents travel as uploads, not inside a job row.
constexpr size_t kMaxInputBytes = 1 << 20;

nlohmann::json ParsedOrText(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  auto parsed = nlohmann::json::parse(*text, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json(*text) : parsed;
}

nlohmann::json JobJson(const storage::Job& job) {
  return {{"job_id", job.id},
          {"app", job.app},
          {"command", job.command},
          {"status", storage::JobStatusName(job.status)},
          {"result", ParsedOrText(job.result_json)},
          {"error_message", job.error_message ? nlohmann::json(*job.error_message) : nullptr},
          {"error_code", job.error_code ? nlohmann::json(*job.error_code) : nullptr},
          {"created", job.created},
          {"updated", job.updated},
          {"started", job.started ? nlohmann::json(*job.started) : nullptr},
          {"completed", job.completed ? nlohmann::json(*job.completed) : nullptr},
          {"run_after", job.run_after},
          {"progress",
           {{"stage", job.progress_stage ? nlohmann::json(*job.progress_stage) : nullptr},
            {"percent", job.progress_percent ? nlohmann::json(*job.progress_percent) : nullptr}}},
          {"attempts", job.attempts},
          {"max_attempts", job.max_attempts},
          {"cancel_requested", job.cancel_requested}};
}

const jobs::CommandRegistry& Commands(const AppContext& context) { return *context.commands; }

Result<std::string> JobIdParam(const http::Request& request) {
  return NormalizeId("command", request.Param("job_id"), "job id");
}

Result<http::Response> SubmitJob(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"command", "app", "input", "dedupe_key"}));
  ON_ASSIGN_OR_RETURN(std::string command_name, body.RequiredString("command", kMaxCommandLength));
  ON_ASSIGN_OR_RETURN(auto app, body.String("app", kMaxAppLength));
  ON_ASSIGN_OR_RETURN(auto dedupe_key, body.String("dedupe_key", kMaxDedupeKeyLength));

  nlohmann::json input = nlohmann::json::object();
  if (body.Has("input") && !body.IsNull("input")) {
    input = body.object().at("input");
    if (!input.is_object()) return ValidationError("field 'input' must be a JSON object of the command's arguments");
  }

  ON_ASSIGN_OR_RETURN(const jobs::CommandSpec* command,
                      Commands(context).Find(TrimWhitespace(app.value_or("")), TrimWhitespace(command_name)));
  storage::JobSpec spec;
  spec.app = command->app;
  spec.command = command->name;
  spec.input_json = input.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (spec.input_json.size() > kMaxInputBytes) {
    return Status(ErrorCode::kPayloadTooLarge, "field 'input' is " + std::to_string(spec.input_json.size()) +
                                                   " bytes of JSON, at most " + std::to_string(kMaxInputBytes) +
                                                   " allowed; pass large data as an upload and its id here");
  }
  spec.max_attempts = Commands(context).PolicyFor(*command).max_attempts;
  spec.dedupe_key = dedupe_key;
  ON_ASSIGN_OR_RETURN(auto submitted, context.storage().jobs().Submit(spec));

  std::string message = "Command '" + command->FullName() + "' submitted successfully";
  if (!submitted.created) {
    message = "A job with dedupe key '" + *dedupe_key + "' is already " +
              std::string(storage::JobStatusName(submitted.job.status)) + "; returning it instead of a new one";
  }
  return http::JsonResponse({{"job_id", submitted.job.id},
                             {"status", "submitted"},
                             {"message", message},
                             {"deduplicated", !submitted.created}});
}

Result<http::Response> GetJob(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, JobIdParam(request));
  ON_ASSIGN_OR_RETURN(auto job, context.storage().jobs().Get(id));
  nlohmann::json body = JobJson(job);

  if (job.status == storage::JobStatus::kQueued) {
    auto workers = context.storage().jobs().ListWorkers();
    if (workers.ok()) {
      if (auto warning = jobs::QueuedJobWarning(*workers, job.FullCommand(), SystemClock::now())) {
        body["warning"] = *warning;
        body["detail"] = *warning;
      }
    } else {
      spdlog::warn("reading job workers for job {} failed: {}", id, workers.status().ToString());
    }
  }
  return http::JsonResponse(body);
}

Result<http::Response> ListJobs(AppContext& context, http::Request& request) {
  storage::JobQuery query;
  if (auto command = request.Query("command_filter"); command && !command->empty()) {
    query.command = TrimWhitespace(*command);
  }
  if (auto status = request.Query("status_filter"); status && !status->empty()) {
    query.status = storage::ParseJobStatus(TrimWhitespace(*status));
    if (!query.status) {
      return InvalidInput("status_filter '" + std::string(status->substr(0, 40)) +
                          "' is invalid: use queued, running, completed, failed or cancelled");
    }
  }
  ON_ASSIGN_OR_RETURN(auto limit, QueryInt(request, "limit", 1, 1000));
  query.limit = static_cast<int>(limit.value_or(50));

  ON_ASSIGN_OR_RETURN(auto jobs, context.storage().jobs().List(query));
  nlohmann::json list = nlohmann::json::array();
  for (const auto& job : jobs) list.push_back(JobJson(job));
  return http::JsonResponse(list);
}

Result<http::Response> CancelJob(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, JobIdParam(request));
  ON_ASSIGN_OR_RETURN(auto outcome, context.storage().jobs().Cancel(id));
  switch (outcome) {
    case storage::CancelOutcome::kCancelled:
      return http::JsonResponse({{"job_id", id}, {"cancelled", true}, {"status", "cancelled"},
                                 {"message", "The queued job was cancelled"}});
    case storage::CancelOutcome::kRequested:
      return http::JsonResponse({{"job_id", id}, {"cancelled", true}, {"status", "cancelling"},
                                 {"message", "The job is running; its worker stops it and marks it cancelled"}});
    case storage::CancelOutcome::kAlreadyFinal:
      break;
  }
  ON_ASSIGN_OR_RETURN(auto job, context.storage().jobs().Get(id));
  const std::string status(storage::JobStatusName(job.status));
  return http::JsonResponse({{"job_id", id}, {"cancelled", false}, {"status", status},
                             {"message", "The job had already finished with status " + status}});
}

Result<http::Response> RegistryDebug(AppContext& context, http::Request&) {
  nlohmann::json by_app = nlohmann::json::object();
  nlohmann::json items = nlohmann::json::array();
  for (const jobs::CommandSpec* command : Commands(context).Commands()) {
    const RetryPolicy policy = Commands(context).PolicyFor(*command);
    nlohmann::json item = {{"app_id", command->app},
                           {"name", command->name},
                           {"full_id", command->FullName()},
                           {"description", command->description},
                           {"retry",
                            {{"max_attempts", policy.max_attempts},
                             {"wait_min_ms", policy.wait_min.count()},
                             {"wait_max_ms", policy.wait_max.count()}}}};
    by_app[command->app].push_back({{"name", command->name}, {"full_id", command->FullName()}});
    items.push_back(std::move(item));
  }
  return http::JsonResponse({{"total_commands", items.size()}, {"commands_by_app", by_app}, {"command_items", items}});
}

}  // namespace

nlohmann::json JobSystemOverview(const AppContext& context) {
  nlohmann::json overview = {{"worker", nullptr}, {"queue", nullptr}};
  if (!context.ready()) return overview;

  const auto now = SystemClock::now();
  auto workers = context.storage().jobs().ListWorkers();
  if (workers.ok()) overview["worker"] = jobs::WorkersJson(*workers, now);
  auto stats = context.storage().jobs().GetQueueStats();
  if (stats.ok()) overview["queue"] = jobs::QueueJson(*stats, now);
  return overview;
}

void RegisterCommandRoutes(http::Router& router, AppContext& context) {
  auto bind = [&context](Result<http::Response> (*handler)(AppContext&, http::Request&)) {
    return [&context, handler](http::Request& request) -> Result<http::Response> {
      if (!context.ready() || !context.commands) {
        return Status(ErrorCode::kUnavailable, "The job system is not ready: " + context.startup_state() +
                                                   "; retry shortly");
      }
      return handler(context, request);
    };
  };
  router.Add("POST", "/api/commands/jobs", bind(SubmitJob));
  router.Add("GET", "/api/commands/jobs", bind(ListJobs));
  router.Add("GET", "/api/commands/jobs/{job_id}", bind(GetJob));
  router.Add("DELETE", "/api/commands/jobs/{job_id}", bind(CancelJob));
  router.Add("GET", "/api/commands/registry/debug", bind(RegistryDebug));
}

}  // namespace on::api
