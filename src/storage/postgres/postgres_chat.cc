// Chat sessions and messages on PostgreSQL.
#include "core/ids.h"
#include "storage/postgres/postgres_storage.h"

namespace on::storage::postgres {
namespace {

constexpr std::string_view kSessionColumns =
    "SELECT s.id, s.title, s.auto_title, s.notebook_id, s.source_id, s.model_override, s.created, s.updated, "
    "(SELECT count(*) FROM chat_message m WHERE m.session_id = s.id) FROM chat_session s ";

constexpr std::string_view kMessageColumns =
    "SELECT id, session_id, type, content, citations, context, model_id, created FROM chat_message ";

ChatSession ReadSession(const Rows& rows, int row) {
  ChatSession session;
  session.id = rows.Text(row, 0);
  session.title = rows.Text(row, 1);
  session.auto_title = rows.Bool(row, 2);
  session.notebook_id = rows.OptionalText(row, 3);
  session.source_id = rows.OptionalText(row, 4);
  session.model_override = rows.OptionalText(row, 5);
  session.created = rows.Text(row, 6);
  session.updated = rows.Text(row, 7);
  session.message_count = rows.Int(row, 8);
  return session;
}

ChatMessage ReadMessage(const Rows& rows, int row) {
  ChatMessage message;
  message.id = rows.Text(row, 0);
  message.session_id = rows.Text(row, 1);
  message.type = rows.Text(row, 2);
  message.content = rows.Text(row, 3);
  message.citations_json = rows.Text(row, 4);
  message.context_json = rows.Text(row, 5);
  message.model_id = rows.OptionalText(row, 6);
  message.created = rows.Text(row, 7);
  return message;
}

Result<ChatSession> SelectSession(Connection& db, const std::string& id, bool for_update) {
  // With `for_update` the row stays locked until the caller's transaction ends, so concurrent
  // updates of one session run one after the other.
  if (for_update) {
    ON_ASSIGN_OR_RETURN(auto locked, db.Query("SELECT 1 FROM chat_session WHERE id = $1 FOR UPDATE", Params().Add(id)));
    if (locked.empty()) return NotFound("chat session " + id + " was not found");
  }
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(std::string(kSessionColumns) + "WHERE s.id = $1", Params().Add(id)));
  if (rows.empty()) return NotFound("chat session " + id + " was not found");
  return ReadSession(rows, 0);
}

Status RequireNotebook(Connection& db, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT 1 FROM notebook WHERE id = $1", Params().Add(id)));
  if (rows.empty()) return NotFound("notebook " + id + " was not found");
  return Status::Ok();
}

Status RequireSource(Connection& db, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT 1 FROM source WHERE id = $1", Params().Add(id)));
  if (rows.empty()) return NotFound("source " + id + " was not found");
  return Status::Ok();
}

}  // namespace

Result<ChatSession> PostgresStorage::CreateChatSession(const ChatSession& input) {
  if (input.notebook_id.has_value() == input.source_id.has_value()) {
    return InvalidInput("a chat session belongs to exactly one notebook or one source");
  }
  return InTransaction<ChatSession>([&](Connection& db) -> Result<ChatSession> {
    if (input.notebook_id) ON_RETURN_IF_ERROR(RequireNotebook(db, *input.notebook_id));
    if (input.source_id) ON_RETURN_IF_ERROR(RequireSource(db, *input.source_id));

    ChatSession session = input;
    session.id = NewId("chat_session");
    session.created = session.updated = NowTimestamp();
    session.message_count = 0;
    ON_RETURN_IF_ERROR(db.Query("INSERT INTO chat_session (id, title, auto_title, notebook_id, source_id, "
                                "model_override, created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                                Params()
                                    .Add(session.id)
                                    .Add(session.title)
                                    .Add(session.auto_title)
                                    .Add(session.notebook_id)
                                    .Add(session.source_id)
                                    .Add(session.model_override)
                                    .Add(session.created))
                           .status());
    return session;
  });
}

Result<std::vector<ChatSession>> PostgresStorage::ListChatSessions(const std::optional<std::string>& notebook_id,
                                                                   const std::optional<std::string>& source_id) {
  if (notebook_id.has_value() == source_id.has_value()) {
    return InvalidInput("chat sessions are listed for exactly one notebook or one source");
  }
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  std::string sql(kSessionColumns);
  if (notebook_id) {
    ON_RETURN_IF_ERROR(RequireNotebook(*db, *notebook_id));
    sql += "WHERE s.notebook_id = $1 ORDER BY s.updated DESC, s.id DESC";
  } else {
    ON_RETURN_IF_ERROR(RequireSource(*db, *source_id));
    sql += "WHERE s.source_id = $1 ORDER BY s.created DESC, s.id DESC";
  }
  ON_ASSIGN_OR_RETURN(auto rows, db->Query(sql, Params().Add(notebook_id ? *notebook_id : *source_id)));
  std::vector<ChatSession> sessions;
  for (int row = 0; row < rows.size(); ++row) sessions.push_back(ReadSession(rows, row));
  return sessions;
}

Result<ChatSession> PostgresStorage::GetChatSession(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  return SelectSession(*db, id, false);
}

Result<ChatSession> PostgresStorage::UpdateChatSession(const std::string& id, const ChatSessionPatch& patch) {
  return InTransaction<ChatSession>([&](Connection& db) -> Result<ChatSession> {
    ON_ASSIGN_OR_RETURN(ChatSession session, SelectSession(db, id, true));
    if (patch.title) {
      session.title = *patch.title;
      session.auto_title = false;
    }
    if (patch.model_override) session.model_override = *patch.model_override;
    session.updated = NowTimestamp();

    ON_RETURN_IF_ERROR(db.Query("UPDATE chat_session SET title = $2, auto_title = $3, model_override = $4, "
                                "updated = $5 WHERE id = $1",
                                Params()
                                    .Add(id)
                                    .Add(session.title)
                                    .Add(session.auto_title)
                                    .Add(session.model_override)
                                    .Add(session.updated))
                           .status());
    return session;
  });
}

Status PostgresStorage::DeleteChatSession(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto deleted, db->Query("DELETE FROM chat_session WHERE id = $1", Params().Add(id)));
  if (deleted.affected() == 0) return NotFound("chat session " + id + " was not found");
  return Status::Ok();
}

Result<std::vector<ChatMessage>> PostgresStorage::ListChatMessages(const std::string& session_id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query(std::string(kMessageColumns) + "WHERE session_id = $1 ORDER BY seq",
                                           Params().Add(session_id)));
  std::vector<ChatMessage> messages;
  for (int row = 0; row < rows.size(); ++row) messages.push_back(ReadMessage(rows, row));
  return messages;
}

Result<ChatMessage> PostgresStorage::GetChatMessage(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query(std::string(kMessageColumns) + "WHERE id = $1", Params().Add(id)));
  if (rows.empty()) return NotFound("chat message " + id + " was not found");
  return ReadMessage(rows, 0);
}

Result<ChatMessage> PostgresStorage::AddChatMessage(const ChatMessage& input, const std::optional<std::string>& title) {
  return InTransaction<ChatMessage>([&](Connection& db) -> Result<ChatMessage> {
    // The session's row lock orders concurrent messages, so seq order is commit order and only
    // the first message replaces the generated title.
    ON_RETURN_IF_ERROR(SelectSession(db, input.session_id, true).status());

    ChatMessage message = input;
    message.id = NewId("chat_message");
    message.created = NowTimestamp();
    ON_RETURN_IF_ERROR(db.Query("INSERT INTO chat_message (id, session_id, type, content, citations, context, model_id, "
                                "created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                                Params()
                                    .Add(message.id)
                                    .Add(message.session_id)
                                    .Add(message.type)
                                    .Add(message.content)
                                    .Add(message.citations_json)
                                    .Add(message.context_json)
                                    .Add(message.model_id)
                                    .Add(message.created))
                           .status());

    ON_RETURN_IF_ERROR(db.Query("UPDATE chat_session SET updated = $2, "
                                "title = CASE WHEN auto_title AND $3::text IS NOT NULL THEN $3 ELSE title END, "
                                "auto_title = CASE WHEN $3::text IS NOT NULL THEN false ELSE auto_title END WHERE id = $1",
                                Params().Add(message.session_id).Add(message.created).Add(title))
                           .status());
    return message;
  });
}

}  // namespace on::storage::postgres
