// The provider-neutral model interfaces the rest of the product uses, and the factory that builds
// them from a ProviderConfig. Code outside src/ai never depends on a provider's wire format.
//
//   ai::ProviderConfig config{.provider = "openai", .api_key = key, .model = "gpt-4o-mini"};
//   ON_ASSIGN_OR_RETURN(auto chat, ai::MakeChatModel(config));
//   ON_ASSIGN_OR_RETURN(ai::ChatResult answer,
//                       chat->Stream(request, [&](std::string_view delta) { Send(delta); }, cancel));
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ai/http_client.h"
#include "ai/provider_config.h"
#include "core/error.h"

namespace on::ai {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  std::optional<double> temperature;
  // Maximum tokens of the answer; unset uses ProviderConfig::max_output_tokens where the API
  // requires a value (Anthropic) and the provider's default elsewhere.
  std::optional<int> max_output_tokens;
  // Asks for a JSON object answer (OpenAI response_format json_object, Gemini responseMimeType).
  // Anthropic has no such switch, so there the prompt must ask for JSON itself.
  bool json_object = false;
};

struct TokenUsage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
};

struct ChatResult {
  std::string text;           // the whole answer as the model sent it, reasoning blocks included
  std::string finish_reason;  // the provider's own value: "stop", "end_turn", "STOP", "length", ...
  TokenUsage usage;           // zero when the provider reports none
};

// Receives each piece of answer text of a stream, in order.
using TextDeltaCallback = std::function<void(std::string_view delta)>;

class ChatModel {
 public:
  virtual ~ChatModel() = default;

  // Sends the conversation and waits for the whole answer. An empty answer is an error
  // (kUpstream), so callers never store or show a blank reply.
  virtual Result<ChatResult> Complete(const ChatRequest& request, const CancelToken& cancel = {}) = 0;

  // Sends the conversation with streaming, calls `on_delta` for each piece as it arrives, and
  // returns the assembled answer. Errors as Complete; a stream that breaks after some text
  // returns kUpstream and the caller keeps what `on_delta` already received.
  virtual Result<ChatResult> Stream(const ChatRequest& request, const TextDeltaCallback& on_delta,
                                    const CancelToken& cancel = {}) = 0;

  virtual const ProviderConfig& config() const = 0;
};

class EmbeddingModel {
 public:
  virtual ~EmbeddingModel() = default;

  // Returns one vector per text, in the order of `texts`, in one request. Batching to the
  // provider's limits is the caller's job; kContextLengthExceeded means a text (or the batch) is
  // too long and must be split.
  virtual Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts,
                                                        const CancelToken& cancel = {}) = 0;

  virtual const ProviderConfig& config() const = 0;
};

struct SpeechAudio {
  std::string bytes;
  std::string content_type;  // as the provider sent it, e.g. "audio/mpeg"
};

// A voice of a text-to-speech provider.
struct VoiceInfo {
  std::string id;    // the value to pass as `voice` ("21m00Tcm4TlvDq8ikWAM", "en-US-Standard-A")
  std::string name;  // the display name ("Rachel"); equal to `id` where the provider has no other
  std::vector<std::string> language_codes;  // BCP 47 tags, empty when the provider does not say
};

class TextToSpeechModel {
 public:
  virtual ~TextToSpeechModel() = default;
  // `format` is "wav" or "mp3" for every family (OpenAI's response_format, Google's LINEAR16 or
  // MP3); empty uses the provider's default. ElevenLabs always returns MP3 (mp3_44100_128), the
  // format its SDK documentation lists for every plan.
  virtual Result<SpeechAudio> Synthesize(std::string_view text, std::string_view voice, std::string_view format = "",
                                         const CancelToken& cancel = {}) = 0;

  // Lists the provider's voices with a request that synthesizes nothing, so callers can check a
  // voice before a paid call. nullopt when the API has no voice listing (the OpenAI family).
  virtual Result<std::optional<std::vector<VoiceInfo>>> ListVoices(const CancelToken& cancel = {}) {
    (void)cancel;
    return std::optional<std::vector<VoiceInfo>>();
  }
};

class SpeechToTextModel {
 public:
  virtual ~SpeechToTextModel() = default;
  // Returns the transcript of `audio`; `filename` gives the provider the format ("talk.mp3").
  virtual Result<std::string> Transcribe(std::string_view audio, std::string_view filename,
                                         const CancelToken& cancel = {}) = 0;
};

// Each factory returns kConfiguration when the provider is unknown, lacks the capability, or
// the config misses a required value (model, API key, Azure endpoint).
Result<std::unique_ptr<ChatModel>> MakeChatModel(const ProviderConfig& config);
Result<std::unique_ptr<EmbeddingModel>> MakeEmbeddingModel(const ProviderConfig& config);
Result<std::unique_ptr<TextToSpeechModel>> MakeTextToSpeechModel(const ProviderConfig& config);
Result<std::unique_ptr<SpeechToTextModel>> MakeSpeechToTextModel(const ProviderConfig& config);

struct ModelInfo {
  std::string id;  // the name to put in ProviderConfig::model ("gpt-4o-mini", "llama3:8b", "gemini-2.0-flash")
  std::string display_name;
};

// Lists the provider's models: GET /models for OpenAI-compatible APIs and Anthropic, /api/tags
// for Ollama, the models list of Gemini, and /openai/models of Azure.
Result<std::vector<ModelInfo>> ListModels(const ProviderConfig& config, const CancelToken& cancel = {});

struct ConnectionTestResult {
  bool success = false;
  std::string message;  // "Connection successful", "Invalid API key", ...
};

// Checks that the provider answers and accepts the key, with one attempt and no retries: a
// model listing for Ollama, OpenAI-compatible, Anthropic-compatible and Azure providers, and a
// one-word chat with config.model for the others when a model is set. See ClassifyConnectionTest.
ConnectionTestResult TestConnection(const ProviderConfig& config, const CancelToken& cancel = {});

// Classifies a failed connection test from the HTTP status (0 for a transport error) and the
// provider's reason. 401 fails with "Invalid API key" and 403 with "API key lacks required
// permissions". 429 or a quota message succeeds with "Rate limited - but connection works". A
// missing or unavailable model succeeds with "API key valid (test model unavailable)". Anything
// else fails with "Error: " and the first 100 characters of the reason.
ConnectionTestResult ClassifyConnectionTest(long http_status, std::string_view reason);

}  // namespace on::ai
