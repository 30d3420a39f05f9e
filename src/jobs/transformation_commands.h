// The open_notebook.run_transformation command: apply a transformation to a source and store
// the result as an insight.
#pragma once

#include <optional>
#include <string>

#include "jobs/builtin_commands.h"

namespace on::jobs {

// Registers run_transformation {"source_id", "transformation_id", "model_id"?}. The model is
// model_id when given, else the transformation's model, else the default transformation model,
// else the default chat model. The insight is stored under the job id, so a job that runs again
// replaces its insight instead of adding another. The insight is embedded when a default
// embedding model is set. Result: {"insight_id", "model_id", "parts", "model_calls",
// "embed_command_id"?}.
Status RegisterTransformationCommands(CommandRegistry& registry, const CommandEnvironment& environment);

// Submits run_transformation; a second submit for the same source, transformation and model
// while the first is queued or running returns the first job. Returns the job id.
Result<std::string> SubmitRunTransformation(storage::Storage& storage, const std::string& source_id,
                                            const std::string& transformation_id,
                                            const std::optional<std::string>& model_id);

// Submits embed_insight for `insight_id` when a default embedding model is set. Returns the job
// id, or nullopt without an embedding model.
Result<std::optional<std::string>> QueueInsightEmbedding(storage::Storage& storage, const std::string& insight_id);

}  // namespace on::jobs
