// Anthropic's Messages API (POST /v1/messages), also served by Anthropic-compatible gateways.
#include "ai/provider_clients.h"

namespace on::ai::internal {
namespace {

using nlohmann::json;

void ReadUsage(const json& usage, TokenUsage& out) {
  if (!usage.is_object()) return;
  out.input_tokens = usage.value("input_tokens", out.input_tokens);
  out.output_tokens = usage.value("output_tokens", out.output_tokens);
}

class AnthropicChat final : public ChatModel {
 public:
  AnthropicChat(ProviderConfig config, std::string base) : config_(std::move(config)), base_(std::move(base)) {}

  Result<ChatResult> Complete(const ChatRequest& request, const CancelToken& cancel) override {
    ON_ASSIGN_OR_RETURN(const json value, SendForJson(config_, AnthropicChatRequest(config_, base_, request, false), cancel));
    ChatResult result;
    for (const json& block : value.value("content", json::array())) {
      if (block.is_object() && block.value("type", "") == "text" && block.contains("text") && block["text"].is_string()) {
        result.text += block["text"].get<std::string>();
      }
    }
    if (value.contains("stop_reason") && value["stop_reason"].is_string()) result.finish_reason = value["stop_reason"];
    ReadUsage(value.value("usage", json()), result.usage);
    if (result.text.empty()) return EmptyAnswerStatus(config_, result.finish_reason);
    return result;
  }

  Result<ChatResult> Stream(const ChatRequest& request, const TextDeltaCallback& on_delta,
                            const CancelToken& cancel) override {
    ChatResult result;
    bool done = false;
    const Status status = SendForEvents(
        config_, AnthropicChatRequest(config_, base_, request, true), cancel, [&](const SseEvent& event) -> Status {
          ON_ASSIGN_OR_RETURN(const json value, ParseEventJson(config_, event));
          const std::string type = value.value("type", event.event);
          if (type == "message_start") {
            ReadUsage(value.value("message", json::object()).value("usage", json()), result.usage);
          } else if (type == "content_block_delta") {
            const json delta = value.value("delta", json::object());
            // Only text deltas are answer text; thinking and tool-input deltas are not.
            if (delta.value("type", "") == "text_delta" && delta.contains("text") && delta["text"].is_string()) {
              const std::string text = delta["text"].get<std::string>();
              result.text += text;
              if (on_delta && !text.empty()) on_delta(text);
            }
          } else if (type == "message_delta") {
            const json delta = value.value("delta", json::object());
            if (delta.contains("stop_reason") && delta["stop_reason"].is_string()) result.finish_reason = delta["stop_reason"];
            ReadUsage(value.value("usage", json()), result.usage);
          } else if (type == "message_stop") {
            done = true;
          }
          return Status::Ok();
        });
    ON_RETURN_IF_ERROR(status);
    if (!done) return Status(ErrorCode::kUpstream, ProviderLabel(config_) + " ended the stream before message_stop");
    if (result.text.empty()) return EmptyAnswerStatus(config_, result.finish_reason);
    return result;
  }

  const ProviderConfig& config() const override { return config_; }

 private:
  ProviderConfig config_;
  std::string base_;
};

}  // namespace

HttpRequest AnthropicChatRequest(const ProviderConfig& config, const std::string& base, const ChatRequest& chat,
                                 bool stream) {
  HttpRequest request;
  request.method = "POST";
  request.url = base + "/messages";
  request.headers.emplace_back("Content-Type", "application/json");
  if (stream) request.headers.emplace_back("Accept", "text/event-stream");
  AddAuthHeaders(config, ApiFamily::kAnthropic, request);

  // The Messages API takes system text as a separate field and only user and assistant turns.
  std::string system;
  json messages = json::array();
  for (const ChatMessage& message : chat.messages) {
    if (message.role == "system") {
      if (!system.empty()) system += "\n\n";
      system += message.content;
    } else {
      messages.push_back({{"role", message.role == "assistant" ? "assistant" : "user"}, {"content", message.content}});
    }
  }
  json body = {{"model", config.model},
               {"messages", messages},
               {"max_tokens", chat.max_output_tokens.value_or(config.max_output_tokens)},
               {"stream", stream}};
  if (!system.empty()) body["system"] = system;
  if (chat.temperature) body["temperature"] = *chat.temperature;
  request.body = body.dump();
  return request;
}

std::unique_ptr<ChatModel> MakeAnthropicChat(ProviderConfig config, std::string base) {
  return std::make_unique<AnthropicChat>(std::move(config), std::move(base));
}

}  // namespace on::ai::internal
