#include "api/chat_support.h"

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "core/logging.h"
#include "http/error_mapping.h"

namespace on::api {

using nlohmann::json;

ai::ChatDependencies ChatDeps(AppContext& context) {
  return ai::ChatDependencies{context.storage(), context.cipher(), context.env, context.settings()};
}

json ChatSessionJson(const storage::ChatSession& session) {
  json out = {{"id", session.id},
              {"title", session.title},
              {"model_override", session.model_override ? json(*session.model_override) : json(nullptr)},
              {"created", session.created},
              {"updated", session.updated},
              {"message_count", session.message_count}};
  if (session.source_id) {
    out["source_id"] = *session.source_id;
  } else {
    out["notebook_id"] = session.notebook_id ? json(*session.notebook_id) : json(nullptr);
  }
  return out;
}

Result<std::string> ChatSessionIdParam(const http::Request& request) {
  return NormalizeId("chat_session", request.Param("session_id"), "session id");
}

Result<std::optional<std::optional<std::string>>> ModelOverrideField(AppContext& context, const JsonBody& body) {
  using Field = std::optional<std::optional<std::string>>;
  if (!body.Has("model_override")) return Field();
  ON_ASSIGN_OR_RETURN(auto value, body.String("model_override", 128));
  if (!value || TrimWhitespace(*value).empty()) return Field(std::optional<std::string>());
  ON_ASSIGN_OR_RETURN(std::string model_id, NormalizeId("model", *value, "model_override"));
  ON_RETURN_IF_ERROR(context.storage().GetModel(model_id).status());
  return Field(std::optional<std::string>(model_id));
}

Result<storage::ChatSessionPatch> ChatSessionPatchBody(AppContext& context, const http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"title", "model_override"}));
  storage::ChatSessionPatch patch;
  ON_ASSIGN_OR_RETURN(auto title, body.String("title", kMaxChatTitleLength));
  if (title) {
    if (TrimWhitespace(*title).empty()) return InvalidInput("title cannot be empty");
    patch.title = TrimWhitespace(*title);
  }
  ON_ASSIGN_OR_RETURN(patch.model_override, ModelOverrideField(context, body));
  return patch;
}

Result<std::string> ChatMessageField(const JsonBody& body) {
  ON_ASSIGN_OR_RETURN(std::string message, body.RequiredString("message", kMaxChatMessageLength));
  if (TrimWhitespace(message).empty()) return InvalidInput("message cannot be empty");
  return message;
}

http::Response StreamAnswer(AppContext& context, std::shared_ptr<ai::PreparedTurn> turn,
                            storage::ChatMessage question_message) {
  return http::EventStreamResponse([&context, turn, question = std::move(question_message),
                                    log_context = CurrentLogContext()](http::EventStream& events) {
    ScopedLogContext scoped(log_context);
    ai::CancelToken cancel;
    events.OnClose([cancel] { cancel.Cancel(); });

    events.SendJson({{"type", "user_message"},
                     {"id", question.id},
                     {"session_id", turn->session.id},
                     {"content", question.content},
                     {"timestamp", question.created}});
    auto answer = ai::AnswerTurn(
        context.storage(), *turn,
        [&events](std::string_view delta) { events.SendJson({{"type", "token"}, {"content", delta}}); }, cancel);
    if (!answer.ok()) {
      if (answer.status().code() == ErrorCode::kCancelled && events.closed()) return;
      // The same text a plain response would carry: internal details stay in the log.
      const http::Response error = http::ErrorResponse(answer.status());
      events.SendJson({{"type", "error"},
                       {"message", json::parse(error.body).value("detail", "")},
                       {"status", error.status},
                       {"code", ErrorCodeName(answer.status().code())}});
      return;
    }

    json message = ai::ChatMessageJson(answer->message);
    message["type"] = "ai_message";
    message["rejected_citations"] = answer->check.rejected;
    message["session_id"] = turn->session.id;
    events.SendJson(message);
    events.SendJson({{"type", "context_indicators"}, {"data", turn->context_ids}});
    events.SendJson({{"type", "complete"}, {"session_id", turn->session.id}});
  });
}

}  // namespace on::api
