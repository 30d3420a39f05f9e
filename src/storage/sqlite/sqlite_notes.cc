// Notes on SQLite.
#include "core/ids.h"
#include "storage/sqlite/sqlite_storage.h"

namespace on::storage::sqlite {
namespace {

constexpr std::string_view kNoteColumns =
    "SELECT id, title, content, note_type, notebook_id, command_id, created, updated FROM note ";

Note ReadNote(const Statement& row) {
  Note note;
  note.id = row.Text(0);
  note.title = row.OptionalText(1);
  note.content = row.Text(2);
  note.note_type = row.Text(3);
  note.notebook_id = row.OptionalText(4);
  note.command_id = row.OptionalText(5);
  note.created = row.Text(6);
  note.updated = row.Text(7);
  return note;
}

Result<Note> SelectNote(Connection& db, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(std::string(kNoteColumns) + "WHERE id = ?1"));
  statement.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound("note " + id + " was not found");
  return ReadNote(statement);
}

Status RequireNotebook(Connection& db, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare("SELECT 1 FROM notebook WHERE id = ?1"));
  statement.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound("notebook " + id + " was not found");
  return Status::Ok();
}

}  // namespace

Result<Note> SqliteStorage::CreateNote(const Note& input) {
  return writer_->Run<Note>([&](Connection& db) -> Result<Note> {
    if (input.notebook_id) ON_RETURN_IF_ERROR(RequireNotebook(db, *input.notebook_id));

    Note note = input;
    note.id = NewId("note");
    note.created = note.updated = NowTimestamp();
    ON_ASSIGN_OR_RETURN(auto insert, db.Prepare(
        "INSERT INTO note (id, title, content, note_type, notebook_id, command_id, created, updated) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"));
    insert.Bind(1, note.id).BindOptional(2, note.title).Bind(3, note.content).Bind(4, note.note_type);
    insert.BindOptional(5, note.notebook_id).BindOptional(6, note.command_id).Bind(7, note.created);
    ON_RETURN_IF_ERROR(insert.Run());

    // A note changes its notebook's "updated" time, so lists sorted by activity show it first.
    if (note.notebook_id) {
      ON_ASSIGN_OR_RETURN(auto touch, db.Prepare("UPDATE notebook SET updated = ?2 WHERE id = ?1"));
      touch.Bind(1, *note.notebook_id).Bind(2, note.created);
      ON_RETURN_IF_ERROR(touch.Run());
    }
    return note;
  });
}

Result<std::vector<Note>> SqliteStorage::ListNotes(const std::optional<std::string>& notebook_id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  if (notebook_id) ON_RETURN_IF_ERROR(RequireNotebook(*reader, *notebook_id));

  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare(
      std::string(kNoteColumns) + "WHERE (?1 IS NULL OR notebook_id = ?1) ORDER BY updated DESC, id DESC"));
  statement.BindOptional(1, notebook_id);
  std::vector<Note> notes;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    notes.push_back(ReadNote(statement));
  }
  return notes;
}

Result<Note> SqliteStorage::GetNote(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectNote(*reader, id);
}

Result<Note> SqliteStorage::UpdateNote(const std::string& id, const NotePatch& patch) {
  return writer_->Run<Note>([&](Connection& db) -> Result<Note> {
    ON_ASSIGN_OR_RETURN(Note note, SelectNote(db, id));
    if (patch.title) note.title = *patch.title;
    if (patch.content) note.content = *patch.content;
    if (patch.note_type) note.note_type = *patch.note_type;
    note.updated = NowTimestamp();

    ON_ASSIGN_OR_RETURN(auto update, db.Prepare(
        "UPDATE note SET title = ?2, content = ?3, note_type = ?4, updated = ?5 WHERE id = ?1"));
    update.Bind(1, id).BindOptional(2, note.title).Bind(3, note.content).Bind(4, note.note_type).Bind(5, note.updated);
    ON_RETURN_IF_ERROR(update.Run());
    return note;
  });
}

Status SqliteStorage::DeleteNote(const std::string& id) {
  auto result = writer_->Run<bool>([&](Connection& db) -> Result<bool> {
    ON_ASSIGN_OR_RETURN(auto remove, db.Prepare("DELETE FROM note WHERE id = ?1"));
    remove.Bind(1, id);
    ON_RETURN_IF_ERROR(remove.Run());
    if (db.Changes() == 0) return NotFound("note " + id + " was not found");
    return true;
  });
  return result.status();
}

Status SqliteStorage::SetNoteCommand(const std::string& id, const std::string& command_id) {
  return writer_->Run<bool>([&](Connection& db) -> Result<bool> {
    ON_ASSIGN_OR_RETURN(auto update, db.Prepare("UPDATE note SET command_id = ?2 WHERE id = ?1"));
    update.Bind(1, id).Bind(2, command_id);
    ON_RETURN_IF_ERROR(update.Run());
    if (db.Changes() == 0) return NotFound("note " + id + " was not found");
    return true;
  }).status();
}

}  // namespace on::storage::sqlite
