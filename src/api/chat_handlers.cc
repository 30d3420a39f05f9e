// Notebook chat: /api/chat/sessions..., /api/chat/context, /api/chat/execute (and its streamed
// variant /api/chat/execute/stream), and saving an answer as a note.
#include <nlohmann/json.hpp>

#include "ai/chat_context.h"
#include "ai/chat_turn.h"
#include "api/app_context.h"
#include "api/chat_support.h"
#include "api/json_body.h"
#include "api/note_json.h"
#include "core/ids.h"

namespace on::api {
namespace {

using nlohmann::json;

// Parses {"sources": {id: status}, "notes": {id: status}}. A missing member keeps the defaults
// for that kind; an empty object includes none of it.
Result<ai::ContextSelection> ParseContextConfig(const json& config) {
  ai::ContextSelection selection;
  if (config.is_null()) return selection;
  if (!config.is_object()) return ValidationError("field 'context_config' must be an object");
  for (const auto& [key, value] : config.items()) {
    if (key != "sources" && key != "notes") {
      return ValidationError("field 'context_config." + key.substr(0, 40) + "' is not allowed: use sources and notes");
    }
    if (!value.is_object()) return ValidationError("field 'context_config." + key + "' must be an object of id: status");
  }
  if (config.contains("sources")) {
    selection.sources.emplace();
    for (const auto& [id, status] : config.at("sources").items()) {
      if (!status.is_string()) return ValidationError("context_config.sources['" + id.substr(0, 80) + "'] must be a string");
      ON_ASSIGN_OR_RETURN(std::string source_id, NormalizeId("source", id, "context_config.sources"));
      ON_ASSIGN_OR_RETURN(auto mode, ai::ParseSourceContextMode(status.get<std::string>(),
                                                                "context_config.sources['" + source_id + "']"));
      selection.sources->emplace_back(source_id, mode);
    }
  }
  if (config.contains("notes")) {
    selection.notes.emplace();
    for (const auto& [id, status] : config.at("notes").items()) {
      if (!status.is_string()) return ValidationError("context_config.notes['" + id.substr(0, 80) + "'] must be a string");
      ON_ASSIGN_OR_RETURN(std::string note_id, NormalizeId("note", id, "context_config.notes"));
      ON_ASSIGN_OR_RETURN(auto mode, ai::ParseNoteContextMode(status.get<std::string>(),
                                                              "context_config.notes['" + note_id + "']"));
      selection.notes->emplace_back(note_id, mode);
    }
  }
  return selection;
}

// Reads the selection back from a "context" that /api/chat/context returned. Only ids and modes
// are taken: the texts are loaded from the database again, so a client cannot put words in a
// source's mouth and have them cited as that source.
Result<ai::ContextSelection> SelectionFromContext(const json& context) {
  if (!context.is_object()) return ValidationError("field 'context' must be the object /api/chat/context returned");
  ai::ContextSelection selection;
  selection.sources.emplace();
  selection.notes.emplace();
  if (auto sources = context.find("sources"); sources != context.end() && sources->is_array()) {
    for (const auto& entry : *sources) {
      if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_string()) {
        return ValidationError("each entry of context.sources needs a string id");
      }
      ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("source", entry["id"].get<std::string>(), "context.sources[].id"));
      const bool full = entry.contains("chunks") || entry.contains("full_text") ||
                        entry.value("mode", std::string()) == "full content";
      selection.sources->emplace_back(id, full ? ai::SourceContextMode::kFull : ai::SourceContextMode::kInsights);
    }
  }
  if (auto notes = context.find("notes"); notes != context.end() && notes->is_array()) {
    for (const auto& entry : *notes) {
      if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_string()) {
        return ValidationError("each entry of context.notes needs a string id");
      }
      ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("note", entry["id"].get<std::string>(), "context.notes[].id"));
      selection.notes->emplace_back(id, ai::NoteContextMode::kFull);
    }
  }
  return selection;
}

Result<ai::ContextSelection> RequestSelection(const JsonBody& body) {
  if (body.Has("context_config") && !body.IsNull("context_config")) {
    return ParseContextConfig(body.object().at("context_config"));
  }
  if (body.Has("context") && !body.IsNull("context")) return SelectionFromContext(body.object().at("context"));
  return ai::ContextSelection{};
}

Result<http::Response> ListSessions(AppContext& context, http::Request& request) {
  auto raw = request.Query("notebook_id");
  if (!raw) return InvalidInput("notebook_id is required: GET /api/chat/sessions?notebook_id=notebook:...");
  ON_ASSIGN_OR_RETURN(std::string notebook_id, NormalizeId("notebook", *raw, "notebook_id"));
  ON_ASSIGN_OR_RETURN(auto sessions, context.storage().ListChatSessions(notebook_id, std::nullopt));
  json list = json::array();
  for (const auto& session : sessions) list.push_back(ChatSessionJson(session));
  return http::JsonResponse(list);
}

Result<http::Response> CreateSession(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"notebook_id", "title", "model_override"}));
  ON_ASSIGN_OR_RETURN(std::string raw_notebook, body.RequiredString("notebook_id", 128));
  ON_ASSIGN_OR_RETURN(auto title, body.String("title", kMaxChatTitleLength));
  ON_ASSIGN_OR_RETURN(auto model_override, ModelOverrideField(context, body));

  storage::ChatSession session;
  ON_ASSIGN_OR_RETURN(session.notebook_id, NormalizeId("notebook", raw_notebook, "notebook_id"));
  if (title && !TrimWhitespace(*title).empty()) {
    session.title = TrimWhitespace(*title);
  } else {
    session.title = "Chat Session " + NowTimestamp().substr(0, 16).replace(10, 1, " ");
    session.auto_title = true;
  }
  if (model_override) session.model_override = *model_override;
  ON_ASSIGN_OR_RETURN(auto created, context.storage().CreateChatSession(session));
  return http::JsonResponse(ChatSessionJson(created));
}

// The notebook session of the path, kNotFound for a source chat session.
Result<storage::ChatSession> NotebookSession(AppContext& context, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto session, context.storage().GetChatSession(id));
  if (!session.notebook_id) return NotFound("chat session " + id + " was not found among notebook chats");
  return session;
}

Result<http::Response> GetSession(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, ChatSessionIdParam(request));
  ON_ASSIGN_OR_RETURN(auto session, NotebookSession(context, id));
  ON_ASSIGN_OR_RETURN(auto messages, context.storage().ListChatMessages(id));
  json out = ChatSessionJson(session);
  out["messages"] = json::array();
  for (const auto& message : messages) out["messages"].push_back(ai::ChatMessageJson(message));
  return http::JsonResponse(out);
}

Result<http::Response> UpdateSession(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, ChatSessionIdParam(request));
  ON_ASSIGN_OR_RETURN(storage::ChatSessionPatch patch, ChatSessionPatchBody(context, request));
  ON_RETURN_IF_ERROR(NotebookSession(context, id).status());
  ON_ASSIGN_OR_RETURN(auto session, context.storage().UpdateChatSession(id, patch));
  return http::JsonResponse(ChatSessionJson(session));
}

Result<http::Response> DeleteSession(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, ChatSessionIdParam(request));
  ON_RETURN_IF_ERROR(NotebookSession(context, id).status());
  ON_RETURN_IF_ERROR(context.storage().DeleteChatSession(id));
  return http::JsonResponse({{"success", true}, {"message", "Session deleted successfully"}});
}

Result<http::Response> BuildContext(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"notebook_id", "context_config"}));
  ON_ASSIGN_OR_RETURN(std::string raw_notebook, body.RequiredString("notebook_id", 128));
  ON_ASSIGN_OR_RETURN(std::string notebook_id, NormalizeId("notebook", raw_notebook, "notebook_id"));
  ON_ASSIGN_OR_RETURN(auto selection, RequestSelection(body));
  ON_ASSIGN_OR_RETURN(auto built, ai::BuildNotebookContext(context.storage(), notebook_id, selection));
  return http::JsonResponse(
      {{"context", built.context}, {"token_count", built.token_count}, {"char_count", built.char_count}});
}

struct ExecuteRequest {
  storage::ChatSession session;
  std::string message;
  std::optional<std::string> model_override;
  ai::ContextSelection selection;
};

// Reads an execute body. Without session_id, a notebook_id starts a new session, which the
// original's frontend did itself before calling execute.
Result<ExecuteRequest> ParseExecute(AppContext& context, const http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"session_id", "notebook_id", "message", "context",
                                                                "context_config", "model_override"}));
  ExecuteRequest execute;
  ON_ASSIGN_OR_RETURN(execute.message, ChatMessageField(body));
  ON_ASSIGN_OR_RETURN(auto model_override, ModelOverrideField(context, body));
  if (model_override) execute.model_override = *model_override;
  ON_ASSIGN_OR_RETURN(execute.selection, RequestSelection(body));

  ON_ASSIGN_OR_RETURN(auto raw_session, body.String("session_id", 128));
  ON_ASSIGN_OR_RETURN(auto raw_notebook, body.String("notebook_id", 128));
  if (raw_session) {
    ON_ASSIGN_OR_RETURN(std::string session_id, NormalizeId("chat_session", *raw_session, "session_id"));
    ON_ASSIGN_OR_RETURN(execute.session, NotebookSession(context, session_id));
    return execute;
  }
  if (!raw_notebook) return InvalidInput("session_id is required (or notebook_id to start a new session)");
  storage::ChatSession session;
  ON_ASSIGN_OR_RETURN(session.notebook_id, NormalizeId("notebook", *raw_notebook, "notebook_id"));
  session.title = ai::TitleFromQuestion(execute.message);
  ON_ASSIGN_OR_RETURN(execute.session, context.storage().CreateChatSession(session));
  return execute;
}

Result<http::Response> Execute(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(ExecuteRequest execute, ParseExecute(context, request));
  ON_ASSIGN_OR_RETURN(auto turn, ai::PrepareNotebookTurn(ChatDeps(context), execute.session, execute.message,
                                                         execute.model_override, execute.selection));
  ON_RETURN_IF_ERROR(ai::StoreQuestion(context.storage(), *turn).status());
  ON_RETURN_IF_ERROR(ai::AnswerTurn(context.storage(), *turn, {}, {}).status());

  ON_ASSIGN_OR_RETURN(auto messages, context.storage().ListChatMessages(execute.session.id));
  json list = json::array();
  for (const auto& message : messages) list.push_back(ai::ChatMessageJson(message));
  return http::JsonResponse({{"session_id", execute.session.id}, {"messages", list}});
}

Result<http::Response> ExecuteStream(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(ExecuteRequest execute, ParseExecute(context, request));
  ON_ASSIGN_OR_RETURN(auto turn, ai::PrepareNotebookTurn(ChatDeps(context), execute.session, execute.message,
                                                         execute.model_override, execute.selection));
  ON_ASSIGN_OR_RETURN(auto question, ai::StoreQuestion(context.storage(), *turn));
  return StreamAnswer(context, std::shared_ptr<ai::PreparedTurn>(std::move(turn)), std::move(question));
}

// Saves an AI answer as a note of type "ai", in the session's notebook unless notebook_id names
// another one. The default title comes from the question the answer follows.
Result<http::Response> SaveMessageAsNote(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string session_id, ChatSessionIdParam(request));
  ON_ASSIGN_OR_RETURN(std::string message_id, NormalizeId("chat_message", request.Param("message_id"), "message id"));
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body.empty() ? "{}" : request.body, {"notebook_id", "title"}));
  ON_ASSIGN_OR_RETURN(auto raw_notebook, body.String("notebook_id", 128));
  ON_ASSIGN_OR_RETURN(auto title, body.String("title", 1000));

  ON_ASSIGN_OR_RETURN(auto session, context.storage().GetChatSession(session_id));
  ON_ASSIGN_OR_RETURN(auto messages, context.storage().ListChatMessages(session_id));
  const storage::ChatMessage* message = nullptr;
  for (const auto& candidate : messages) {
    if (candidate.id == message_id) message = &candidate;
  }
  if (message == nullptr) return NotFound("chat message " + message_id + " was not found in session " + session_id);
  if (message->type != "ai") return InvalidInput("chat message " + message_id + " is a question; only answers are saved as notes");

  storage::Note note;
  note.content = message->content;
  note.note_type = "ai";
  note.notebook_id = session.notebook_id;
  if (raw_notebook) {
    ON_ASSIGN_OR_RETURN(note.notebook_id, NormalizeId("notebook", *raw_notebook, "notebook_id"));
  }
  if (title && !TrimWhitespace(*title).empty()) note.title = TrimWhitespace(*title);
  ON_ASSIGN_OR_RETURN(auto created, SaveNewNote(context, std::move(note)));
  return http::JsonResponse(NoteJson(created));
}

}  // namespace

void RegisterChatRoutes(http::Router& router, AppContext& context) {
  router.Add("GET", "/api/chat/sessions", Bind(context, ListSessions));
  router.Add("POST", "/api/chat/sessions", Bind(context, CreateSession));
  router.Add("GET", "/api/chat/sessions/{session_id}", Bind(context, GetSession));
  router.Add("PUT", "/api/chat/sessions/{session_id}", Bind(context, UpdateSession));
  router.Add("DELETE", "/api/chat/sessions/{session_id}", Bind(context, DeleteSession));
  router.Add("POST", "/api/chat/sessions/{session_id}/messages/{message_id}/save-as-note",
             Bind(context, SaveMessageAsNote));
  router.Add("POST", "/api/chat/context", Bind(context, BuildContext));
  router.Add("POST", "/api/chat/execute", Bind(context, Execute));
  router.Add("POST", "/api/chat/execute/stream", Bind(context, ExecuteStream));
}

}  // namespace on::api
