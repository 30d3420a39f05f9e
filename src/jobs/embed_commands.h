// Embedding commands: open_notebook.embed_source, embed_note and rebuild_embeddings.
#pragma once

#include <string>

#include "jobs/builtin_commands.h"

namespace on::jobs {

// Registers the embedding commands:
//   embed_source        {"source_id"}: embeds the source's chunks that have no vector of the
//                       default embedding model
//   embed_note          {"note_id"}: the same for a note (title and content)
//   embed_insight       {"insight_id"}: the same for an insight (type and content)
//   rebuild_embeddings  {"mode": "existing"|"all", "include_sources", "include_notes",
//                       "include_insights"}: submits one embed job per source, note and insight
//                       with text ("existing": only those that already have vectors of some
//                       model, as after a change of model)
// Without a default embedding model they fail at once (kConfiguration).
Status RegisterEmbedCommands(CommandRegistry& registry, const CommandEnvironment& environment);

// Submits embed_source for `source_id` (one active job per source). Returns the job id.
Result<std::string> SubmitEmbedSource(storage::Storage& storage, const std::string& source_id);
Result<std::string> SubmitEmbedNote(storage::Storage& storage, const std::string& note_id);
Result<std::string> SubmitEmbedInsight(storage::Storage& storage, const std::string& insight_id);

}  // namespace on::jobs
