#include "api/note_json.h"

#include <spdlog/spdlog.h>

#include "ai/model_config.h"
#include "jobs/embed_commands.h"

namespace on::api {

nlohmann::json NoteJson(const storage::Note& note) {
  return {{"id", note.id},
          {"title", note.title ? nlohmann::json(*note.title) : nlohmann::json(nullptr)},
          {"content", note.content},
          {"note_type", note.note_type},
          {"notebook_id", note.notebook_id ? nlohmann::json(*note.notebook_id) : nlohmann::json(nullptr)},
          {"created", note.created},
          {"updated", note.updated},
          {"command_id", note.command_id ? nlohmann::json(*note.command_id) : nlohmann::json(nullptr)}};
}

Result<storage::Note> QueueNoteEmbedding(AppContext& context, storage::Note note) {
  auto defaults = ai::DefaultModels(context.storage());
  if (!defaults.ok()) {
    spdlog::warn("note {}: reading the default embedding model failed, so it is not embedded: {}", note.id,
                 defaults.status().message());
    return note;
  }
  if (!defaults->ModelId("default_embedding_model")) return note;
  auto job_id = jobs::SubmitEmbedNote(context.storage(), note.id);
  if (!job_id.ok()) {
    spdlog::warn("note {}: queueing its embedding failed: {}", note.id, job_id.status().message());
    return note;
  }
  Status recorded = context.storage().SetNoteCommand(note.id, *job_id);
  if (!recorded.ok()) {
    spdlog::warn("note {}: recording embedding job {} failed: {}", note.id, *job_id, recorded.message());
    return note;
  }
  note.command_id = *job_id;
  return note;
}

}  // namespace on::api
