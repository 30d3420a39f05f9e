// The open_notebook.process_source command: extract, chunk and index one source.
#include "jobs/process_source_command.h"

#include "ai/model_config.h"
#include "ingest/source_processor.h"
#include "jobs/embed_commands.h"

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
    return result;
  };
  return registry.Register(std::move(spec));
}

}  // namespace on::jobs
