// Pieces the notebook chat and source chat routes share: session and message JSON, request
// fields, and the streamed (SSE) answer.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "ai/chat_turn.h"
#include "api/app_context.h"
#include "api/json_body.h"
#include "http/message.h"

namespace on::api {

// Maximum length of a chat message, in bytes.
inline constexpr size_t kMaxChatMessageLength = 256u << 10;
inline constexpr size_t kMaxChatTitleLength = 500;

ai::ChatDependencies ChatDeps(AppContext& context);

// {"id", "title", "notebook_id" or "source_id", "model_override", "created", "updated", "message_count"}.
nlohmann::json ChatSessionJson(const storage::ChatSession& session);

// The session id of the path parameter "session_id" ("chat_session:" is added to a bare key).
Result<std::string> ChatSessionIdParam(const http::Request& request);

// The "model_override" field: absent (nullopt), null (an empty inner optional, which clears a
// session's override) or a model id that must exist (kNotFound otherwise).
Result<std::optional<std::optional<std::string>>> ModelOverrideField(AppContext& context, const JsonBody& body);

// The body of a session update: {"title", "model_override"}, both optional; a title may not be
// blank.
Result<storage::ChatSessionPatch> ChatSessionPatchBody(AppContext& context, const http::Request& request);

// The question of a chat request: required, not blank (kInvalidInput), at most
// kMaxChatMessageLength bytes.
Result<std::string> ChatMessageField(const JsonBody& body);

// Returns the SSE response that sends `question_message`, streams the answer of `turn` token by
// token, then the checked answer, the context indicators and "complete" (or one "error" event).
// A closed client connection cancels the provider call.
http::Response StreamAnswer(AppContext& context, std::shared_ptr<ai::PreparedTurn> turn,
                            storage::ChatMessage question_message);

}  // namespace on::api
