// Internal to src/ai: the request builders and response parsers of each API family, and the
// send helpers they share. Code outside src/ai uses models.h instead.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ai/models.h"
#include "ai/sse.h"

namespace on::ai::internal {

// Display name of the provider for messages ("OpenAI", "Ollama", "Azure OpenAI", ...).
std::string ProviderLabel(const ProviderConfig& config);

// Sends `request` with the config's retries and returns the JSON object of a 2xx answer. Errors:
// ProviderErrorStatus for non-2xx answers; kUpstream for an empty body, malformed JSON or a 2xx
// body that carries an "error" member; transport errors as SendWithRetries.
Result<nlohmann::json> SendForJson(const ProviderConfig& config, const HttpRequest& request, const CancelToken& cancel);

// Sends `request` and returns the raw 2xx response (audio); kUpstream when the body is empty.
Result<HttpResponse> SendForBytes(const ProviderConfig& config, const HttpRequest& request, const CancelToken& cancel);

// Handles one event of a stream; an error stops the transfer and is returned by SendForEvents.
using SseEventHandler = std::function<Status(const SseEvent& event)>;

// Sends a streamed request and passes each server-sent event to `on_event`. kUpstream when the
// 2xx body is empty or contains no event.
Status SendForEvents(const ProviderConfig& config, const HttpRequest& request, const CancelToken& cancel,
                     const SseEventHandler& on_event);

// Parses a stream event's data as JSON; kUpstream naming the provider when it is malformed.
Result<nlohmann::json> ParseEventJson(const ProviderConfig& config, const SseEvent& event);

// kUpstream for an answer without text, naming the provider and its finish reason.
Status EmptyAnswerStatus(const ProviderConfig& config, std::string_view finish_reason);

// The HTTP requests of each family; the base URL is already resolved.
HttpRequest OpenAiChatRequest(const ProviderConfig& config, ApiFamily family, const std::string& base,
                              const ChatRequest& chat, bool stream);
HttpRequest AnthropicChatRequest(const ProviderConfig& config, const std::string& base, const ChatRequest& chat,
                                 bool stream);
HttpRequest GeminiChatRequest(const ProviderConfig& config, const std::string& base, const ChatRequest& chat,
                              bool stream);

// Headers that carry the API key in the family's way.
void AddAuthHeaders(const ProviderConfig& config, ApiFamily family, HttpRequest& request);

// Builds the URL of an OpenAI-style operation ("chat/completions", "embeddings", ...), which for
// Azure lives under the deployment and carries the api-version.
std::string OpenAiOperationUrl(const ProviderConfig& config, ApiFamily family, const std::string& base,
                               std::string_view operation);

std::unique_ptr<ChatModel> MakeOpenAiChat(ProviderConfig config, ApiFamily family, std::string base);
std::unique_ptr<EmbeddingModel> MakeOpenAiEmbedding(ProviderConfig config, ApiFamily family, std::string base);
std::unique_ptr<TextToSpeechModel> MakeOpenAiSpeech(ProviderConfig config, ApiFamily family, std::string base);
std::unique_ptr<SpeechToTextModel> MakeOpenAiTranscription(ProviderConfig config, ApiFamily family, std::string base);
std::unique_ptr<ChatModel> MakeAnthropicChat(ProviderConfig config, std::string base);
std::unique_ptr<ChatModel> MakeGeminiChat(ProviderConfig config, std::string base);
std::unique_ptr<EmbeddingModel> MakeGeminiEmbedding(ProviderConfig config, std::string base);
std::unique_ptr<TextToSpeechModel> MakeElevenLabsSpeech(ProviderConfig config, std::string base);
std::unique_ptr<TextToSpeechModel> MakeGoogleSpeech(ProviderConfig config, std::string base);

// The base URL of Google Cloud Text-to-Speech, without a version: the config's URL with a trailing
// version segment removed, or https://texttospeech.googleapis.com when it has none.
// kConfiguration for a URL that is not http(s).
Result<std::string> GoogleSpeechBaseUrl(const ProviderConfig& config);

}  // namespace on::ai::internal
