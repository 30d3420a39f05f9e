// Notes on PostgreSQL. Every write of a title or content also writes its keyword-index vectors.
#include "core/ids.h"
#include "storage/postgres/postgres_storage.h"
#include "storage/postgres/tsvector.h"

namespace on::storage::postgres {
namespace {

constexpr std::string_view kNoteColumns =
    "SELECT id, title, content, note_type, notebook_id, command_id, created, updated FROM note ";

Note ReadNote(const Rows& rows, int row) {
  Note note;
  note.id = rows.Text(row, 0);
  note.title = rows.OptionalText(row, 1);
  note.content = rows.Text(row, 2);
  note.note_type = rows.Text(row, 3);
  note.notebook_id = rows.OptionalText(row, 4);
  note.command_id = rows.OptionalText(row, 5);
  note.created = rows.Text(row, 6);
  note.updated = rows.Text(row, 7);
  return note;
}

Result<Note> SelectNote(Connection& db, const std::string& id, bool for_update) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(std::string(kNoteColumns) + "WHERE id = $1" + (for_update ? " FOR UPDATE" : ""),
                                          Params().Add(id)));
  if (rows.empty()) return NotFound("note " + id + " was not found");
  return ReadNote(rows, 0);
}

Status RequireNotebook(Connection& db, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT 1 FROM notebook WHERE id = $1", Params().Add(id)));
  if (rows.empty()) return NotFound("notebook " + id + " was not found");
  return Status::Ok();
}

// Adds the title and content vectors and token counts as four parameters.
void AddSearchParams(const Note& note, const search::Tokenizer& tokenizer, Params& params) {
  const IndexedText title = BuildTsvector(note.title.value_or(""), tokenizer);
  const IndexedText content = BuildTsvector(note.content, tokenizer);
  params.Add(title.tsvector).Add(title.tokens).Add(content.tsvector).Add(content.tokens);
}

}  // namespace

Result<Note> PostgresStorage::CreateNote(const Note& input) {
  Note note = input;
  note.id = NewId("note");
  note.created = note.updated = NowTimestamp();
  Params params;
  params.Add(note.id).Add(note.title).Add(note.content).Add(note.note_type).Add(note.notebook_id).Add(note.command_id);
  params.Add(note.created);
  AddSearchParams(note, tokenizer_, params);

  return InTransaction<Note>([&](Connection& db) -> Result<Note> {
    if (note.notebook_id) ON_RETURN_IF_ERROR(RequireNotebook(db, *note.notebook_id));
    ON_RETURN_IF_ERROR(db.Query("INSERT INTO note (id, title, content, note_type, notebook_id, command_id, created, "
                                "updated, title_vector, title_tokens, content_vector, content_tokens) "
                                "VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8::tsvector, $9, $10::tsvector, $11)",
                                params)
                           .status());

    // A note changes its notebook's "updated" time, so lists sorted by activity show it first.
    if (note.notebook_id) {
      ON_RETURN_IF_ERROR(db.Query("UPDATE notebook SET updated = $2 WHERE id = $1",
                                  Params().Add(*note.notebook_id).Add(note.created))
                             .status());
    }
    return note;
  });
}

Result<std::vector<Note>> PostgresStorage::ListNotes(const NoteQuery& query) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  if (query.notebook_id) ON_RETURN_IF_ERROR(RequireNotebook(*db, *query.notebook_id));

  // LIMIT NULL is PostgreSQL's "no limit".
  Params params;
  params.Add(query.notebook_id);
  if (query.limit) {
    params.Add(*query.limit);
  } else {
    params.AddNull();
  }
  params.Add(query.offset);
  ON_ASSIGN_OR_RETURN(auto rows, db->Query(std::string(kNoteColumns) +
                                               "WHERE ($1::text IS NULL OR notebook_id = $1) "
                                               "ORDER BY updated DESC, id DESC LIMIT $2::bigint OFFSET $3",
                                           params));
  std::vector<Note> notes;
  notes.reserve(static_cast<size_t>(rows.size()));
  for (int row = 0; row < rows.size(); ++row) notes.push_back(ReadNote(rows, row));
  return notes;
}

Result<Note> PostgresStorage::GetNote(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  return SelectNote(*db, id, false);
}

Result<Note> PostgresStorage::UpdateNote(const std::string& id, const NotePatch& patch) {
  return InTransaction<Note>([&](Connection& db) -> Result<Note> {
    // The row lock keeps a concurrent patch of another field from being overwritten.
    ON_ASSIGN_OR_RETURN(Note note, SelectNote(db, id, true));
    if (patch.title) note.title = *patch.title;
    if (patch.content) note.content = *patch.content;
    if (patch.note_type) note.note_type = *patch.note_type;
    note.updated = NowTimestamp();

    Params params;
    params.Add(id).Add(note.title).Add(note.content).Add(note.note_type).Add(note.updated);
    AddSearchParams(note, tokenizer_, params);
    ON_RETURN_IF_ERROR(db.Query("UPDATE note SET title = $2, content = $3, note_type = $4, updated = $5, "
                                "title_vector = $6::tsvector, title_tokens = $7, content_vector = $8::tsvector, "
                                "content_tokens = $9 WHERE id = $1",
                                params)
                           .status());
    return note;
  });
}

Status PostgresStorage::DeleteNote(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto deleted, db->Query("DELETE FROM note WHERE id = $1", Params().Add(id)));
  if (deleted.affected() == 0) return NotFound("note " + id + " was not found");
  return Status::Ok();
}

Status PostgresStorage::SetNoteCommand(const std::string& id, const std::string& command_id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto updated,
                      db->Query("UPDATE note SET command_id = $2 WHERE id = $1", Params().Add(id).Add(command_id)));
  if (updated.affected() == 0) return NotFound("note " + id + " was not found");
  return Status::Ok();
}

}  // namespace on::storage::postgres
