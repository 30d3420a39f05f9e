// The open_notebook.process_source command: extract, chunk and index one source.
#include "jobs/process_source_command.h"

#include <algorithm>

#include "ai/model_config.h"
#include "ingest/source_processor.h"
#include "jobs/embed_commands.h"
#include "jobs/transformation_commands.h"

namespace on::jobs {
namespace {

// Queues embed_source when the source asked for embedding and a default embedding model is set,
// and records the job (or why there is none) in `result`.
Status QueueEmbedding(const CommandEnvironment& environment, const std::string& source_id, nlohmann::json& result) {
  ON_ASSIGN_OR_RETURN(storage::Source source, environment.storage.GetSource(source_id, false));
  if (!source.embed) return Status::Ok();
  ON_ASSIGN_OR_RETURN(auto defaults, ai::DefaultModels(environment.storage));
  if (!defaults.ModelId("default_embedding_model")) {
    result["embedding"] = "skipped: no default embedding model is configured";
    return Status::Ok();
  }
  ON_ASSIGN_OR_RETURN(result["embed_command_id"], SubmitEmbedSource(environment.storage, source_id));
  return Status::Ok();
}

// Queues one run_transformation job per transformation the source was created with. A job that
// cannot be queued is recorded in `result` and does not fail the processing, which succeeded.
Status QueueTransformations(const CommandEnvironment& environment, const std::string& source_id, nlohmann::json& result) {
  ON_ASSIGN_OR_RETURN(storage::Source source, environment.storage.GetSource(source_id, false));
  const auto ids = nlohmann::json::parse(source.transformations_json, nullptr, false);
  if (!ids.is_array() || ids.empty()) return Status::Ok();
  // Processing the source again (a retry) keeps the insights it has; only missing ones are made.
  ON_ASSIGN_OR_RETURN(auto insights, environment.storage.ListInsights(source_id));
  nlohmann::json queued = nlohmann::json::array();
  for (const auto& id : ids) {
    if (!id.is_string()) continue;
    const bool done = std::any_of(insights.begin(), insights.end(), [&](const storage::Insight& insight) {
      return insight.transformation_id == id.get<std::string>();
    });
    if (done) continue;
    auto submitted = SubmitRunTransformation(environment.storage, source_id, id.get<std::string>(), std::nullopt);
    if (submitted.ok()) {
      queued.push_back(*submitted);
    } else {
      result["transformation_errors"].push_back(id.get<std::string>() + ": " + submitted.status().message());
    }
  }
  result["transformation_command_ids"] = std::move(queued);
  return Status::Ok();
}

}  // namespace

Status RegisterProcessSourceCommand(CommandRegistry& registry, const CommandEnvironment& environment) {
  CommandSpec spec;
  spec.app = "open_notebook";
  spec.name = "process_source";
  spec.description = "Extract the text of a source (file, URL or pasted text), split it into chunks and index them";
  spec.handler = [environment](JobContext& job) -> Result<nlohmann::json> {
    const auto& input = job.input();
    if (!input.is_object() || !input.contains("source_id") || !input["source_id"].is_string()) {
      return InvalidInput("process_source needs {\"source_id\": \"source:...\"}");
    }
    ingest::ProcessorDeps deps;
    deps.storage = &environment.storage;
    const SettingsSnapshot settings = environment.JobSettings();
    deps.settings = settings.get();
    deps.progress = [&job](std::string_view stage, int percent) { job.Progress(stage, percent); };
    deps.cancelled = [&job] { return job.CancelRequested(); };
    const std::string source_id = input["source_id"].get<std::string>();
    ON_ASSIGN_OR_RETURN(nlohmann::json result, ingest::ProcessSource(deps, source_id));
    ON_RETURN_IF_ERROR(QueueEmbedding(environment, source_id, result));
    ON_RETURN_IF_ERROR(QueueTransformations(environment, source_id, result));
    return result;
  };
  return registry.Register(std::move(spec));
}

}  // namespace on::jobs
