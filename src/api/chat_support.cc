#include "api/chat_support.h"

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "core/logging.h"
#include "http/error_mapping.h"
#include "http/stream.h"

namespace on::api {

using nlohmann::json;

ai::ChatDependencies ChatDeps(AppContext& context) {
  ai::ChatDependencies deps{context.storage(), context.cipher(), context.env};
  deps.default_context_window = context.settings().chat_context_window;
  deps.source_chat_tokens = context.settings().source_chat_context_tokens;
  return deps;
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

Result<std::string> ChatMessageField(const JsonBody& body) {
  ON_ASSIGN_OR_RETURN(std::string message, body.RequiredString("message", kMaxChatMessageLength));
  if (TrimWhitespace(message).empty()) return InvalidInput("message cannot be empty");
  return message;
}

http::Response StreamAnswer(AppContext& context, std::shared_ptr<ai::PreparedTurn> turn,
                            storage::ChatMessage question_message) {
  auto body = std::make_shared<http::StreamBody>();
  body->heartbeat = std::string(http::kSseHeartbeat);
  body->heartbeat_interval = std::chrono::milliseconds(context.settings().sse_heartbeat_ms);
  body->produce = [&context, turn, question = std::move(question_message),
                   log_context = CurrentLogContext()](http::StreamWriter& writer) {
    ScopedLogContext scoped(log_context);
    ai::CancelToken cancel;
    writer.OnClose([cancel] { cancel.Cancel(); });

    writer.Write(http::SseEvent({{"type", "user_message"},
                                 {"id", question.id},
                                 {"session_id", turn->session.id},
                                 {"content", question.content},
                                 {"timestamp", question.created}}));
    auto answer = ai::AnswerTurn(
        context.storage(), *turn,
        [&writer](std::string_view delta) { writer.Write(http::SseEvent({{"type", "token"}, {"content", delta}})); },
        cancel);
    if (!answer.ok()) {
      if (answer.status().code() == ErrorCode::kCancelled && writer.closed()) return;
      // The same text a plain response would carry: internal details stay in the log.
      const http::Response error = http::ErrorResponse(answer.status());
      writer.Write(http::SseEvent({{"type", "error"},
                                   {"message", json::parse(error.body).value("detail", "")},
                                   {"status", error.status},
                                   {"code", ErrorCodeName(answer.status().code())}}));
      return;
    }

    json message = ai::ChatMessageJson(answer->message);
    message["type"] = "ai_message";
    message["rejected_citations"] = answer->check.rejected;
    message["session_id"] = turn->session.id;
    writer.Write(http::SseEvent(message));
    writer.Write(http::SseEvent({{"type", "context_indicators"}, {"data", turn->context_ids}}));
    writer.Write(http::SseEvent({{"type", "complete"}, {"session_id", turn->session.id}}));
  };

  http::Response response;
  response.content_type = "text/event-stream";
  response.SetHeader("Cache-Control", "no-cache, no-transform");
  response.SetHeader("X-Accel-Buffering", "no");
  response.stream = std::move(body);
  return response;
}

}  // namespace on::api
