// Google's Gemini API (generativelanguage.googleapis.com/v1beta): generateContent,
// streamGenerateContent with alt=sse, and batchEmbedContents.
#include "ai/provider_clients.h"

namespace on::ai::internal {
namespace {

using nlohmann::json;

// Appends the text parts of the first candidate, skipping thought parts, and reads its finish reason.
Status ReadCandidate(const ProviderConfig& config, const json& value, ChatResult& result, std::string* delta) {
  if (value.contains("usageMetadata") && value["usageMetadata"].is_object()) {
    result.usage.input_tokens = value["usageMetadata"].value("promptTokenCount", result.usage.input_tokens);
    result.usage.output_tokens = value["usageMetadata"].value("candidatesTokenCount", result.usage.output_tokens);
  }
  const json candidates = value.value("candidates", json::array());
  if (!candidates.is_array() || candidates.empty() || !candidates[0].is_object()) {
    const json feedback = value.value("promptFeedback", json::object());
    if (feedback.is_object() && feedback.contains("blockReason")) {
      return Status(ErrorCode::kProviderRejected,
                    ProviderLabel(config) + " blocked the prompt (blockReason " + feedback["blockReason"].dump() + ")");
    }
    return Status::Ok();
  }
  const json& candidate = candidates[0];
  for (const json& part : candidate.value("content", json::object()).value("parts", json::array())) {
    if (!part.is_object() || part.value("thought", false) || !part.contains("text") || !part["text"].is_string()) continue;
    const std::string text = part["text"].get<std::string>();
    result.text += text;
    if (delta != nullptr) *delta += text;
  }
  if (candidate.contains("finishReason") && candidate["finishReason"].is_string()) {
    result.finish_reason = candidate["finishReason"].get<std::string>();
  }
  return Status::Ok();
}

class GeminiChat final : public ChatModel {
 public:
  GeminiChat(ProviderConfig config, std::string base) : config_(std::move(config)), base_(std::move(base)) {}

  Result<ChatResult> Complete(const ChatRequest& request, const CancelToken& cancel) override {
    ON_ASSIGN_OR_RETURN(const json value, SendForJson(config_, GeminiChatRequest(config_, base_, request, false), cancel));
    ChatResult result;
    ON_RETURN_IF_ERROR(ReadCandidate(config_, value, result, nullptr));
    if (result.text.empty()) return EmptyAnswerStatus(config_, result.finish_reason);
    return result;
  }

  Result<ChatResult> Stream(const ChatRequest& request, const TextDeltaCallback& on_delta,
                            const CancelToken& cancel) override {
    ChatResult result;
    const Status status = SendForEvents(config_, GeminiChatRequest(config_, base_, request, true), cancel,
                                        [&](const SseEvent& event) -> Status {
                                          ON_ASSIGN_OR_RETURN(const json value, ParseEventJson(config_, event));
                                          std::string delta;
                                          ON_RETURN_IF_ERROR(ReadCandidate(config_, value, result, &delta));
                                          if (on_delta && !delta.empty()) on_delta(delta);
                                          return Status::Ok();
                                        });
    ON_RETURN_IF_ERROR(status);
    if (result.finish_reason.empty()) {
      return Status(ErrorCode::kUpstream, ProviderLabel(config_) + " ended the stream before a finish reason");
    }
    if (result.text.empty()) return EmptyAnswerStatus(config_, result.finish_reason);
    return result;
  }

  const ProviderConfig& config() const override { return config_; }

 private:
  ProviderConfig config_;
  std::string base_;
};

class GeminiEmbedding final : public EmbeddingModel {
 public:
  GeminiEmbedding(ProviderConfig config, std::string base) : config_(std::move(config)), base_(std::move(base)) {}

  Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts, const CancelToken& cancel) override {
    if (texts.empty()) return std::vector<std::vector<float>>();
    HttpRequest request;
    request.method = "POST";
    request.url = base_ + "/models/" + config_.model + ":batchEmbedContents";
    request.headers.emplace_back("Content-Type", "application/json");
    AddAuthHeaders(config_, ApiFamily::kGemini, request);
    json requests = json::array();
    for (const std::string& text : texts) {
      requests.push_back({{"model", "models/" + config_.model}, {"content", {{"parts", json::array({{{"text", text}}})}}}});
    }
    request.body = json{{"requests", requests}}.dump();
    ON_ASSIGN_OR_RETURN(const json value, SendForJson(config_, request, cancel));

    const std::string label = ProviderLabel(config_);
    const json embeddings = value.value("embeddings", json::array());
    if (!embeddings.is_array() || embeddings.size() != texts.size()) {
      return Status(ErrorCode::kUpstream, label + " returned " + std::to_string(embeddings.is_array() ? embeddings.size() : 0) +
                                              " embeddings for " + std::to_string(texts.size()) + " inputs");
    }
    std::vector<std::vector<float>> vectors;
    for (const json& item : embeddings) {
      std::vector<float> vector;
      for (const json& number : item.value("values", json::array())) {
        if (!number.is_number()) return Status(ErrorCode::kUpstream, label + " returned a non-numeric embedding value");
        vector.push_back(number.get<float>());
      }
      if (vector.empty() || (!vectors.empty() && vector.size() != vectors.front().size())) {
        return Status(ErrorCode::kUpstream, label + " returned empty embeddings or embeddings of different dimensions");
      }
      vectors.push_back(std::move(vector));
    }
    return vectors;
  }

  const ProviderConfig& config() const override { return config_; }

 private:
  ProviderConfig config_;
  std::string base_;
};

}  // namespace

HttpRequest GeminiChatRequest(const ProviderConfig& config, const std::string& base, const ChatRequest& chat,
                              bool stream) {
  HttpRequest request;
  request.method = "POST";
  request.url = base + "/models/" + config.model + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
  request.headers.emplace_back("Content-Type", "application/json");
  AddAuthHeaders(config, ApiFamily::kGemini, request);

  std::string system;
  json contents = json::array();
  for (const ChatMessage& message : chat.messages) {
    if (message.role == "system") {
      if (!system.empty()) system += "\n\n";
      system += message.content;
    } else {
      contents.push_back({{"role", message.role == "assistant" ? "model" : "user"},
                          {"parts", json::array({{{"text", message.content}}})}});
    }
  }
  json body = {{"contents", contents}};
  if (!system.empty()) body["systemInstruction"] = {{"parts", json::array({{{"text", system}}})}};
  json generation = json::object();
  if (chat.temperature) generation["temperature"] = *chat.temperature;
  if (chat.max_output_tokens) generation["maxOutputTokens"] = *chat.max_output_tokens;
  if (chat.json_object) generation["responseMimeType"] = "application/json";
  if (!generation.empty()) body["generationConfig"] = generation;
  request.body = body.dump();
  return request;
}

std::unique_ptr<ChatModel> MakeGeminiChat(ProviderConfig config, std::string base) {
  return std::make_unique<GeminiChat>(std::move(config), std::move(base));
}
std::unique_ptr<EmbeddingModel> MakeGeminiEmbedding(ProviderConfig config, std::string base) {
  return std::make_unique<GeminiEmbedding>(std::move(config), std::move(base));
}

}  // namespace on::ai::internal
