#include "jobs/transformation_commands.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "ai/model_config.h"
#include "ai/transformation.h"
#include "jobs/embed_commands.h"

namespace on::jobs {
namespace {

// Runs of a transformation job. Provider clients already retry 429 and 5xx responses
// themselves, so a run fails only after those retries.
constexpr int kTransformationMaxAttempts = 3;

Result<std::string> RequiredString(const nlohmann::json& input, const char* field) {
  if (!input.is_object() || !input.contains(field) || !input[field].is_string()) {
    return InvalidInput(std::string("run_transformation needs {\"source_id\": \"source:...\", \"transformation_id\": "
                                    "\"transformation:...\"}; '") + field + "' is missing");
  }
  return input[field].get<std::string>();
}

Result<nlohmann::json> RunTransformationJob(const CommandEnvironment& environment, JobContext& job) {
  const nlohmann::json& input = job.input();
  ON_ASSIGN_OR_RETURN(std::string source_id, RequiredString(input, "source_id"));
  ON_ASSIGN_OR_RETURN(std::string transformation_id, RequiredString(input, "transformation_id"));
  std::optional<std::string> model_id;
  if (input.contains("model_id") && input["model_id"].is_string()) model_id = input["model_id"].get<std::string>();

  storage::Storage& storage = environment.storage;
  ON_ASSIGN_OR_RETURN(storage::Source source, storage.GetSource(source_id, true));
  if (!source.full_text || source.full_text->find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidInput("source " + source_id + " has no text to transform; process it first (POST /api/sources/" +
                        source_id + "/retry)");
  }
  ON_ASSIGN_OR_RETURN(storage::Transformation transformation, storage.GetTransformation(transformation_id));
  ON_ASSIGN_OR_RETURN(std::string instructions, storage.GetTransformationInstructions());
  const SettingsSnapshot settings = environment.JobSettings();
  ON_ASSIGN_OR_RETURN(ai::LanguageModelSetup setup,
                      ai::ResolveLanguageModel(storage, environment.cipher, environment.env, *settings,
                                               {model_id, transformation.model_id}, "default_transformation_model"));
  ON_ASSIGN_OR_RETURN(auto chat, ai::MakeChatModel(setup.config));

  ai::TransformationInput run{instructions, transformation.prompt, *source.full_text};
  ai::TransformationHooks hooks;
  hooks.cancelled = [&job] { return job.CancelRequested(); };
  hooks.progress = [&job](int done, int expected) {
    job.Progress("transforming", std::min(95, done * 95 / std::max(expected, 1)));
  };
  job.Progress("transforming", 0);
  ON_ASSIGN_OR_RETURN(ai::TransformationOutput output, ai::RunTransformation(*chat, setup.context_tokens, run, hooks));

  storage::Insight insight;
  insight.source_id = source_id;
  insight.insight_type = transformation.title;
  insight.content = std::move(output.text);
  insight.transformation_id = transformation.id;
  insight.model_id = setup.model_id;
  insight.command_id = job.job_id();
  ON_ASSIGN_OR_RETURN(storage::Insight saved, storage.SaveInsight(insight));

  nlohmann::json result = {{"insight_id", saved.id},
                           {"source_id", source_id},
                           {"transformation_id", transformation.id},
                           {"model_id", setup.model_id},
                           {"parts", output.parts},
                           {"model_calls", output.model_calls}};
  // The insight is stored; a failed embedding submit must not run the model again.
  auto embedding = QueueInsightEmbedding(storage, saved.id);
  if (!embedding.ok()) {
    spdlog::warn("run_transformation job {}: queueing the embedding of insight {} failed: {}", job.job_id(), saved.id,
                 embedding.status().message());
  } else if (*embedding) {
    result["embed_command_id"] = **embedding;
  }
  job.Progress("done", 100);
  return result;
}

}  // namespace

Result<std::optional<std::string>> QueueInsightEmbedding(storage::Storage& storage, const std::string& insight_id) {
  ON_ASSIGN_OR_RETURN(auto defaults, ai::DefaultModels(storage));
  if (!defaults.ModelId("default_embedding_model")) return std::optional<std::string>();
  ON_ASSIGN_OR_RETURN(std::string job_id, SubmitEmbedInsight(storage, insight_id));
  return std::optional<std::string>(job_id);
}

Result<std::string> SubmitRunTransformation(storage::Storage& storage, const std::string& source_id,
                                            const std::string& transformation_id,
                                            const std::optional<std::string>& model_id) {
  nlohmann::json input = {{"source_id", source_id}, {"transformation_id", transformation_id}};
  if (model_id) input["model_id"] = *model_id;
  storage::JobSpec spec;
  spec.app = "open_notebook";
  spec.command = "run_transformation";
  spec.input_json = input.dump();
  spec.max_attempts = kTransformationMaxAttempts;
  spec.dedupe_key = "run_transformation:" + source_id + ":" + transformation_id + ":" + model_id.value_or("");
  ON_ASSIGN_OR_RETURN(auto submitted, storage.jobs().Submit(spec));
  return submitted.job.id;
}

Status RegisterTransformationCommands(CommandRegistry& registry, const CommandEnvironment& environment) {
  return registry.Register(CommandSpec{
      "open_notebook", "run_transformation",
      "Apply a transformation to a source with a language model and store the result as an insight",
      [environment](JobContext& job) { return RunTransformationJob(environment, job); }, std::nullopt});
}

}  // namespace on::jobs
