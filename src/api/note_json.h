// Notes as the API returns them, and the steps every note save shares.
#pragma once

#include <nlohmann/json.hpp>

#include "api/app_context.h"
#include "storage/types.h"

namespace on::api {

nlohmann::json NoteJson(const storage::Note& note);

// Queues embed_note for a saved note with content when a default embedding model is set, and
// returns the note with command_id set to that job. Without an embedding model, or when queueing
// fails (logged), returns the note unchanged: an embedding never fails a save.
Result<storage::Note> QueueNoteEmbedding(AppContext& context, storage::Note note);

// Creates `note` as every route that makes a note does: an AI note without a title gets one from
// the default transformation model (else from its first line), and the note is queued for
// embedding (QueueNoteEmbedding).
Result<storage::Note> SaveNewNote(AppContext& context, storage::Note note);

}  // namespace on::api
