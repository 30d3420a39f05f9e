// The OpenAI API as OpenAI, Ollama's /v1, LM Studio, vLLM, llama.cpp server, Groq, Mistral and
// others serve it, and as Azure OpenAI serves it under deployments.
#include <algorithm>

#include "ai/provider_clients.h"

namespace on::ai::internal {
namespace {

using nlohmann::json;

json MessagesJson(const std::vector<ChatMessage>& messages) {
  json array = json::array();
  for (const ChatMessage& message : messages) array.push_back({{"role", message.role}, {"content", message.content}});
  return array;
}

std::string StringOr(const json& object, const char* key, std::string fallback = "") {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return fallback;
  return object[key].get<std::string>();
}

void ReadUsage(const json& value, TokenUsage& usage) {
  if (!value.contains("usage") || !value["usage"].is_object()) return;
  const json& tokens = value["usage"];
  usage.input_tokens = tokens.value("prompt_tokens", usage.input_tokens);
  usage.output_tokens = tokens.value("completion_tokens", usage.output_tokens);
}

class OpenAiChat final : public ChatModel {
 public:
  OpenAiChat(ProviderConfig config, ApiFamily family, std::string base)
      : config_(std::move(config)), family_(family), base_(std::move(base)) {}

  Result<ChatResult> Complete(const ChatRequest& request, const CancelToken& cancel) override {
    ON_ASSIGN_OR_RETURN(const json value,
                        SendForJson(config_, OpenAiChatRequest(config_, family_, base_, request, false), cancel));
    const json choices = value.value("choices", json::array());
    if (!choices.is_array() || choices.empty() || !choices[0].is_object()) {
      return Status(ErrorCode::kUpstream, ProviderLabel(config_) + " returned a chat response without choices");
    }
    ChatResult result;
    result.text = StringOr(choices[0].value("message", json::object()), "content");
    result.finish_reason = StringOr(choices[0], "finish_reason");
    ReadUsage(value, result.usage);
    if (result.text.empty()) return EmptyAnswerStatus(config_, result.finish_reason);
    return result;
  }

  Result<ChatResult> Stream(const ChatRequest& request, const TextDeltaCallback& on_delta,
                            const CancelToken& cancel) override {
    ChatResult result;
    bool done = false;
    const Status status = SendForEvents(
        config_, OpenAiChatRequest(config_, family_, base_, request, true), cancel, [&](const SseEvent& event) -> Status {
          if (event.data == "[DONE]") {
            done = true;
            return Status::Ok();
          }
          ON_ASSIGN_OR_RETURN(const json value, ParseEventJson(config_, event));
          ReadUsage(value, result.usage);
          const json choices = value.value("choices", json::array());
          if (!choices.is_array() || choices.empty() || !choices[0].is_object()) return Status::Ok();
          const std::string delta = StringOr(choices[0].value("delta", json::object()), "content");
          if (!delta.empty()) {
            result.text += delta;
            if (on_delta) on_delta(delta);
          }
          const std::string finish = StringOr(choices[0], "finish_reason");
          if (!finish.empty()) result.finish_reason = finish;
          return Status::Ok();
        });
    ON_RETURN_IF_ERROR(status);
    if (!done && result.finish_reason.empty()) {
      return Status(ErrorCode::kUpstream, ProviderLabel(config_) + " ended the stream before the answer was complete");
    }
    if (result.text.empty()) return EmptyAnswerStatus(config_, result.finish_reason);
    return result;
  }

  const ProviderConfig& config() const override { return config_; }

 private:
  ProviderConfig config_;
  ApiFamily family_;
  std::string base_;
};

class OpenAiEmbedding final : public EmbeddingModel {
 public:
  OpenAiEmbedding(ProviderConfig config, ApiFamily family, std::string base)
      : config_(std::move(config)), family_(family), base_(std::move(base)) {}

  Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts, const CancelToken& cancel) override {
    if (texts.empty()) return std::vector<std::vector<float>>();
    HttpRequest request;
    request.method = "POST";
    request.url = OpenAiOperationUrl(config_, family_, base_, "embeddings");
    request.headers.emplace_back("Content-Type", "application/json");
    AddAuthHeaders(config_, family_, request);
    request.body = json{{"model", config_.model}, {"input", texts}}.dump();
    ON_ASSIGN_OR_RETURN(const json value, SendForJson(config_, request, cancel));

    const std::string label = ProviderLabel(config_);
    const json data = value.value("data", json::array());
    if (!data.is_array() || data.size() != texts.size()) {
      return Status(ErrorCode::kUpstream, label + " returned " + std::to_string(data.is_array() ? data.size() : 0) +
                                              " embeddings for " + std::to_string(texts.size()) + " inputs");
    }
    std::vector<std::vector<float>> vectors(texts.size());
    for (std::size_t position = 0; position < data.size(); ++position) {
      const json& item = data[position];
      // Servers may return items out of order; "index" places each one.
      const std::size_t index = item.is_object() ? item.value("index", position) : position;
      if (index >= vectors.size() || !item.is_object() || !item.contains("embedding") || !item["embedding"].is_array()) {
        return Status(ErrorCode::kUpstream, label + " returned a malformed embedding item at position " + std::to_string(position));
      }
      for (const json& number : item["embedding"]) {
        if (!number.is_number()) return Status(ErrorCode::kUpstream, label + " returned a non-numeric embedding value");
        vectors[index].push_back(number.get<float>());
      }
    }
    for (const std::vector<float>& vector : vectors) {
      if (vector.empty() || vector.size() != vectors.front().size()) {
        return Status(ErrorCode::kUpstream, label + " returned empty embeddings or embeddings of different dimensions");
      }
    }
    return vectors;
  }

  const ProviderConfig& config() const override { return config_; }

 private:
  ProviderConfig config_;
  ApiFamily family_;
  std::string base_;
};

class OpenAiSpeech final : public TextToSpeechModel {
 public:
  OpenAiSpeech(ProviderConfig config, ApiFamily family, std::string base)
      : config_(std::move(config)), family_(family), base_(std::move(base)) {}

  Result<SpeechAudio> Synthesize(std::string_view text, std::string_view voice, std::string_view format,
                                 const CancelToken& cancel) override {
    HttpRequest request;
    request.method = "POST";
    request.url = OpenAiOperationUrl(config_, family_, base_, "audio/speech");
    request.headers.emplace_back("Content-Type", "application/json");
    AddAuthHeaders(config_, family_, request);
    json body = {{"model", config_.model}, {"input", text}, {"voice", voice.empty() ? "alloy" : voice}};
    if (!format.empty()) body["response_format"] = format;
    request.body = body.dump();
    ON_ASSIGN_OR_RETURN(HttpResponse response, SendForBytes(config_, request, cancel));
    return SpeechAudio{std::move(response.body), response.content_type};
  }

 private:
  ProviderConfig config_;
  ApiFamily family_;
  std::string base_;
};

class OpenAiTranscription final : public SpeechToTextModel {
 public:
  OpenAiTranscription(ProviderConfig config, ApiFamily family, std::string base)
      : config_(std::move(config)), family_(family), base_(std::move(base)) {}

  Result<std::string> Transcribe(std::string_view audio, std::string_view filename, const CancelToken& cancel) override {
    HttpRequest request;
    request.method = "POST";
    request.url = OpenAiOperationUrl(config_, family_, base_, "audio/transcriptions");
    AddAuthHeaders(config_, family_, request);
    request.form.push_back({"file", std::string(audio), filename.empty() ? "audio.wav" : std::string(filename), ""});
    request.form.push_back({"model", config_.model, "", ""});
    request.form.push_back({"response_format", "json", "", ""});
    ON_ASSIGN_OR_RETURN(const json value, SendForJson(config_, request, cancel));
    if (!value.contains("text") || !value["text"].is_string()) {
      return Status(ErrorCode::kUpstream, ProviderLabel(config_) + " returned a transcription without text");
    }
    return value["text"].get<std::string>();
  }

 private:
  ProviderConfig config_;
  ApiFamily family_;
  std::string base_;
};

}  // namespace

std::string OpenAiOperationUrl(const ProviderConfig& config, ApiFamily family, const std::string& base,
                               std::string_view operation) {
  if (family == ApiFamily::kAzureOpenAi) {
    const std::string version = config.api_version.empty() ? std::string(kDefaultAzureApiVersion) : config.api_version;
    return base + "/openai/deployments/" + config.model + "/" + std::string(operation) + "?api-version=" + version;
  }
  return base + "/" + std::string(operation);
}

HttpRequest OpenAiChatRequest(const ProviderConfig& config, ApiFamily family, const std::string& base,
                              const ChatRequest& chat, bool stream) {
  HttpRequest request;
  request.method = "POST";
  request.url = OpenAiOperationUrl(config, family, base, "chat/completions");
  request.headers.emplace_back("Content-Type", "application/json");
  if (stream) request.headers.emplace_back("Accept", "text/event-stream");
  AddAuthHeaders(config, family, request);
  json body = {{"model", config.model}, {"messages", MessagesJson(chat.messages)}, {"stream", stream}};
  if (chat.temperature) body["temperature"] = *chat.temperature;
  if (chat.max_output_tokens) body["max_tokens"] = *chat.max_output_tokens;
  if (chat.json_object) body["response_format"] = {{"type", "json_object"}};
  // Only OpenAI's own services are known to accept stream_options; other servers may reject it.
  if (stream && (config.provider == "openai" || family == ApiFamily::kAzureOpenAi)) {
    body["stream_options"] = {{"include_usage", true}};
  }
  request.body = body.dump();
  return request;
}

std::unique_ptr<ChatModel> MakeOpenAiChat(ProviderConfig config, ApiFamily family, std::string base) {
  return std::make_unique<OpenAiChat>(std::move(config), family, std::move(base));
}
std::unique_ptr<EmbeddingModel> MakeOpenAiEmbedding(ProviderConfig config, ApiFamily family, std::string base) {
  return std::make_unique<OpenAiEmbedding>(std::move(config), family, std::move(base));
}
std::unique_ptr<TextToSpeechModel> MakeOpenAiSpeech(ProviderConfig config, ApiFamily family, std::string base) {
  return std::make_unique<OpenAiSpeech>(std::move(config), family, std::move(base));
}
std::unique_ptr<SpeechToTextModel> MakeOpenAiTranscription(ProviderConfig config, ApiFamily family, std::string base) {
  return std::make_unique<OpenAiTranscription>(std::move(config), family, std::move(base));
}

}  // namespace on::ai::internal
