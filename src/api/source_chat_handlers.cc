// Source chat: /api/sources/{source_id}/chat/sessions... A session talks about one source, whose
// text (the chunks that match each question best, within a token budget) and insights are put in
// the prompt of every turn.
#include <nlohmann/json.hpp>

#include "ai/chat_turn.h"
#include "api/app_context.h"
#include "api/chat_support.h"
#include "api/json_body.h"
#include "core/ids.h"

namespace on::api {
namespace {

using nlohmann::json;

Result<std::string> SourceIdParam(const http::Request& request) {
  return NormalizeId("source", request.Param("source_id"), "source id");
}

// The session of the path; kNotFound unless it belongs to the path's source.
Result<storage::ChatSession> SourceSession(AppContext& context, const http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string source_id, SourceIdParam(request));
  ON_ASSIGN_OR_RETURN(std::string session_id, ChatSessionIdParam(request));
  ON_ASSIGN_OR_RETURN(auto session, context.storage().GetChatSession(session_id));
  if (session.source_id != source_id) {
    return NotFound("chat session " + session_id + " was not found for source " + source_id);
  }
  return session;
}

// The context indicators of the session's latest answer (what its prompt held), or empty lists.
json LatestIndicators(const std::vector<storage::ChatMessage>& messages) {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->type != "ai") continue;
    json context = json::parse(it->context_json, nullptr, false);
    if (context.is_object()) return context;
  }
  return {{"sources", json::array()}, {"chunks", json::array()}, {"insights", json::array()}, {"notes", json::array()}};
}

Result<http::Response> ListSessions(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string source_id, SourceIdParam(request));
  ON_ASSIGN_OR_RETURN(auto sessions, context.storage().ListChatSessions(std::nullopt, source_id));
  json list = json::array();
  for (const auto& session : sessions) list.push_back(ChatSessionJson(session));
  return http::JsonResponse(list);
}

Result<http::Response> CreateSession(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string source_id, SourceIdParam(request));
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"source_id", "title", "model_override"}));
  ON_ASSIGN_OR_RETURN(auto body_source, body.String("source_id", 128));
  if (body_source) {
    ON_ASSIGN_OR_RETURN(std::string normalized, NormalizeId("source", *body_source, "source_id"));
    if (normalized != source_id) {
      return InvalidInput("source_id " + normalized + " in the body differs from " + source_id + " in the path");
    }
  }
  ON_ASSIGN_OR_RETURN(auto title, body.String("title", kMaxChatTitleLength));
  ON_ASSIGN_OR_RETURN(auto model_override, ModelOverrideField(context, body));

  storage::ChatSession session;
  session.source_id = source_id;
  if (title && !TrimWhitespace(*title).empty()) {
    session.title = TrimWhitespace(*title);
  } else {
    ON_ASSIGN_OR_RETURN(auto existing, context.storage().ListChatSessions(std::nullopt, source_id));
    session.title = "Source Chat " + std::to_string(existing.size() + 1);
    session.auto_title = true;
  }
  if (model_override) session.model_override = *model_override;
  ON_ASSIGN_OR_RETURN(auto created, context.storage().CreateChatSession(session));
  return http::JsonResponse(ChatSessionJson(created));
}

Result<http::Response> GetSession(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto session, SourceSession(context, request));
  ON_ASSIGN_OR_RETURN(auto messages, context.storage().ListChatMessages(session.id));
  json out = ChatSessionJson(session);
  out["messages"] = json::array();
  for (const auto& message : messages) out["messages"].push_back(ai::ChatMessageJson(message));
  out["context_indicators"] = LatestIndicators(messages);
  return http::JsonResponse(out);
}

Result<http::Response> UpdateSession(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(storage::ChatSessionPatch patch, ChatSessionPatchBody(context, request));
  ON_ASSIGN_OR_RETURN(auto session, SourceSession(context, request));
  ON_ASSIGN_OR_RETURN(auto updated, context.storage().UpdateChatSession(session.id, patch));
  return http::JsonResponse(ChatSessionJson(updated));
}

Result<http::Response> DeleteSession(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto session, SourceSession(context, request));
  ON_RETURN_IF_ERROR(context.storage().DeleteChatSession(session.id));
  return http::JsonResponse({{"success", true}, {"message", "Session deleted successfully"}});
}

// Streams the answer (SSE). Request errors, an unknown model and a context that does not fit
// the model's window are plain JSON errors, sent before the stream starts.
Result<http::Response> SendMessage(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"message", "model_override"}));
  ON_ASSIGN_OR_RETURN(std::string message, ChatMessageField(body));
  ON_ASSIGN_OR_RETURN(auto model_override, ModelOverrideField(context, body));
  ON_ASSIGN_OR_RETURN(auto session, SourceSession(context, request));

  std::optional<std::string> override_id;
  if (model_override) override_id = *model_override;
  ON_ASSIGN_OR_RETURN(auto turn, ai::PrepareSourceTurn(ChatDeps(context), session, message, override_id));
  ON_ASSIGN_OR_RETURN(auto question, ai::StoreQuestion(context.storage(), *turn));
  return StreamAnswer(context, std::shared_ptr<ai::PreparedTurn>(std::move(turn)), std::move(question));
}

}  // namespace

void RegisterSourceChatRoutes(http::Router& router, AppContext& context) {
  router.Add("GET", "/api/sources/{source_id}/chat/sessions", Bind(context, ListSessions));
  router.Add("POST", "/api/sources/{source_id}/chat/sessions", Bind(context, CreateSession));
  router.Add("GET", "/api/sources/{source_id}/chat/sessions/{session_id}", Bind(context, GetSession));
  router.Add("PUT", "/api/sources/{source_id}/chat/sessions/{session_id}", Bind(context, UpdateSession));
  router.Add("DELETE", "/api/sources/{source_id}/chat/sessions/{session_id}", Bind(context, DeleteSession));
  router.Add("POST", "/api/sources/{source_id}/chat/sessions/{session_id}/messages", Bind(context, SendMessage));
}

}  // namespace on::api
