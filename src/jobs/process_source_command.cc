// The open_notebook.process_source command: extract, chunk and index one source.
#include "jobs/process_source_command.h"

#include "ingest/source_processor.h"

namespace on::jobs {

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
    deps.settings = &environment.settings;
    deps.progress = [&job](std::string_view stage, int percent) { job.Progress(stage, percent); };
    deps.cancelled = [&job] { return job.CancelRequested(); };
    return ingest::ProcessSource(deps, input["source_id"].get<std::string>());
  };
  return registry.Register(std::move(spec));
}

}  // namespace on::jobs
