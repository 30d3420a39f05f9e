// Chat sessions and messages, and the source chunks and insights chat puts in its prompts, on
// SQLite.
#include "core/ids.h"
#include "storage/sqlite/sqlite_storage.h"

namespace on::storage::sqlite {
namespace {

constexpr std::string_view kSessionColumns =
    "SELECT s.id, s.title, s.auto_title, s.notebook_id, s.source_id, s.model_override, s.created, s.updated, "
    "(SELECT count(*) FROM chat_message m WHERE m.session_id = s.id) FROM chat_session s ";

constexpr std::string_view kMessageColumns =
    "SELECT id, session_id, type, content, citations, context, model_id, created FROM chat_message ";

ChatSession ReadSession(const Statement& row) {
  ChatSession session;
  session.id = row.Text(0);
  session.title = row.Text(1);
  session.auto_title = row.Int(2) != 0;
  session.notebook_id = row.OptionalText(3);
  session.source_id = row.OptionalText(4);
  session.model_override = row.OptionalText(5);
  session.created = row.Text(6);
  session.updated = row.Text(7);
  session.message_count = row.Int(8);
  return session;
}

ChatMessage ReadMessage(const Statement& row) {
  ChatMessage message;
  message.id = row.Text(0);
  message.session_id = row.Text(1);
  message.type = row.Text(2);
  message.content = row.Text(3);
  message.citations_json = row.Text(4);
  message.context_json = row.Text(5);
  message.model_id = row.OptionalText(6);
  message.created = row.Text(7);
  return message;
}

Result<ChatSession> SelectSession(Connection& db, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(std::string(kSessionColumns) + "WHERE s.id = ?1"));
  statement.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound("chat session " + id + " was not found");
  return ReadSession(statement);
}

// kNotFound naming `id` unless `table` has a row with that id. `table` is a literal of this file.
Status RequireRow(Connection& db, std::string_view table, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare("SELECT 1 FROM " + std::string(table) + " WHERE id = ?1"));
  statement.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound(std::string(table) + " " + id + " was not found");
  return Status::Ok();
}

}  // namespace

Result<std::vector<ChunkRecord>> SqliteStorage::ListSourceChunks(const std::string& source_id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_RETURN_IF_ERROR(RequireRow(*reader, "source", source_id));
  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare(
      "SELECT chunk_index, content, begin_offset, end_offset, page, token_count FROM source_chunk "
      "WHERE source_id = ?1 ORDER BY chunk_index"));
  statement.Bind(1, source_id);
  std::vector<ChunkRecord> chunks;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    ChunkRecord chunk;
    chunk.index = static_cast<int>(statement.Int(0));
    chunk.content = statement.Text(1);
    chunk.begin = statement.Int(2);
    chunk.end = statement.Int(3);
    if (!statement.IsNull(4)) chunk.page = static_cast<int>(statement.Int(4));
    chunk.token_count = static_cast<int>(statement.Int(5));
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

// TODO: the source_insight table comes with the transformations and insights migration, which
// is built on another branch. Until both are merged this query fails with "no such table" (a
// kDatabase error), so chat reports the failure instead of silently showing no insights.
Result<ChatSession> SqliteStorage::CreateChatSession(const ChatSession& input) {
  if (input.notebook_id.has_value() == input.source_id.has_value()) {
    return InvalidInput("a chat session belongs to exactly one notebook or one source");
  }
  return writer_->Run<ChatSession>([&](Connection& db) -> Result<ChatSession> {
    if (input.notebook_id) ON_RETURN_IF_ERROR(RequireRow(db, "notebook", *input.notebook_id));
    if (input.source_id) ON_RETURN_IF_ERROR(RequireRow(db, "source", *input.source_id));

    ChatSession session = input;
    session.id = NewId("chat_session");
    session.created = session.updated = NowTimestamp();
    session.message_count = 0;
    ON_ASSIGN_OR_RETURN(auto insert, db.Prepare(
        "INSERT INTO chat_session (id, title, auto_title, notebook_id, source_id, model_override, created, updated) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"));
    insert.Bind(1, session.id).Bind(2, session.title).Bind(3, int64_t{session.auto_title ? 1 : 0});
    insert.BindOptional(4, session.notebook_id).BindOptional(5, session.source_id);
    insert.BindOptional(6, session.model_override).Bind(7, session.created);
    ON_RETURN_IF_ERROR(insert.Run());
    return session;
  });
}

Result<std::vector<ChatSession>> SqliteStorage::ListChatSessions(const std::optional<std::string>& notebook_id,
                                                                 const std::optional<std::string>& source_id) {
  if (notebook_id.has_value() == source_id.has_value()) {
    return InvalidInput("chat sessions are listed for exactly one notebook or one source");
  }
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  std::string sql(kSessionColumns);
  if (notebook_id) {
    ON_RETURN_IF_ERROR(RequireRow(*reader, "notebook", *notebook_id));
    sql += "WHERE s.notebook_id = ?1 ORDER BY s.updated DESC, s.id DESC";
  } else {
    ON_RETURN_IF_ERROR(RequireRow(*reader, "source", *source_id));
    sql += "WHERE s.source_id = ?1 ORDER BY s.created DESC, s.id DESC";
  }
  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare(sql));
  statement.Bind(1, notebook_id ? *notebook_id : *source_id);
  std::vector<ChatSession> sessions;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    sessions.push_back(ReadSession(statement));
  }
  return sessions;
}

Result<ChatSession> SqliteStorage::GetChatSession(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectSession(*reader, id);
}

Result<ChatSession> SqliteStorage::UpdateChatSession(const std::string& id, const ChatSessionPatch& patch) {
  return writer_->Run<ChatSession>([&](Connection& db) -> Result<ChatSession> {
    ON_ASSIGN_OR_RETURN(ChatSession session, SelectSession(db, id));
    if (patch.title) {
      session.title = *patch.title;
      session.auto_title = false;
    }
    if (patch.model_override) session.model_override = *patch.model_override;
    session.updated = NowTimestamp();

    ON_ASSIGN_OR_RETURN(auto update, db.Prepare(
        "UPDATE chat_session SET title = ?2, auto_title = ?3, model_override = ?4, updated = ?5 WHERE id = ?1"));
    update.Bind(1, id).Bind(2, session.title).Bind(3, int64_t{session.auto_title ? 1 : 0});
    update.BindOptional(4, session.model_override).Bind(5, session.updated);
    ON_RETURN_IF_ERROR(update.Run());
    return session;
  });
}

Status SqliteStorage::DeleteChatSession(const std::string& id) {
  auto result = writer_->Run<bool>([&](Connection& db) -> Result<bool> {
    ON_ASSIGN_OR_RETURN(auto remove, db.Prepare("DELETE FROM chat_session WHERE id = ?1"));
    remove.Bind(1, id);
    ON_RETURN_IF_ERROR(remove.Run());
    if (db.Changes() == 0) return NotFound("chat session " + id + " was not found");
    return true;
  });
  return result.status();
}

Result<std::vector<ChatMessage>> SqliteStorage::ListChatMessages(const std::string& session_id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement,
                      reader->Prepare(std::string(kMessageColumns) + "WHERE session_id = ?1 ORDER BY seq"));
  statement.Bind(1, session_id);
  std::vector<ChatMessage> messages;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    messages.push_back(ReadMessage(statement));
  }
  return messages;
}

Result<ChatMessage> SqliteStorage::GetChatMessage(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare(std::string(kMessageColumns) + "WHERE id = ?1"));
  statement.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound("chat message " + id + " was not found");
  return ReadMessage(statement);
}

Result<ChatMessage> SqliteStorage::AddChatMessage(const ChatMessage& input, const std::optional<std::string>& title) {
  return writer_->Run<ChatMessage>([&](Connection& db) -> Result<ChatMessage> {
    ON_RETURN_IF_ERROR(SelectSession(db, input.session_id).status());

    ChatMessage message = input;
    message.id = NewId("chat_message");
    message.created = NowTimestamp();
    ON_ASSIGN_OR_RETURN(auto insert, db.Prepare(
        "INSERT INTO chat_message (id, session_id, type, content, citations, context, model_id, created) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    insert.Bind(1, message.id).Bind(2, message.session_id).Bind(3, message.type).Bind(4, message.content);
    insert.Bind(5, message.citations_json).Bind(6, message.context_json).BindOptional(7, message.model_id);
    insert.Bind(8, message.created);
    ON_RETURN_IF_ERROR(insert.Run());

    // The generated title gives way to the first question, once, in the same transaction, so two
    // concurrent first messages cannot both rename the session.
    ON_ASSIGN_OR_RETURN(auto touch, db.Prepare(
        "UPDATE chat_session SET updated = ?2, "
        "title = CASE WHEN auto_title = 1 AND ?3 IS NOT NULL THEN ?3 ELSE title END, "
        "auto_title = CASE WHEN ?3 IS NOT NULL THEN 0 ELSE auto_title END WHERE id = ?1"));
    touch.Bind(1, message.session_id).Bind(2, message.created).BindOptional(3, title);
    ON_RETURN_IF_ERROR(touch.Run());
    return message;
  });
}

}  // namespace on::storage::sqlite
