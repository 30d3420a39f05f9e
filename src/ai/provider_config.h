// Provider settings of one call: a plain struct that credential and model rows fill in.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "ai/http_client.h"
#include "core/error.h"

namespace on::ai {

// The wire protocol a provider speaks.
enum class ApiFamily {
  kOpenAiCompatible,  // OpenAI and every server with its /v1 API (LM Studio, vLLM, Groq, ...)
  kOllama,            // OpenAI-compatible /v1 for calls, /api/tags for the model list
  kAnthropic,         // /v1/messages
  kGemini,            // generativelanguage.googleapis.com /v1beta/models/{model}:generateContent
  kAzureOpenAi,       // {endpoint}/openai/deployments/{deployment}/...?api-version=
  kElevenLabs,        // api.elevenlabs.io /v1/text-to-speech/{voice_id}, text-to-speech only
};

struct ProviderConfig {
  // Registry name as in the provider list: "openai", "anthropic", "google", "groq", "mistral",
  // "deepseek", "xai", "openrouter", "dashscope", "minimax", "novita", "ppq", "ollama", "omlx",
  // "lmstudio", "vllm", "llamacpp", "azure", "openai_compatible", "anthropic_compatible".
  std::string provider;
  // Empty uses the provider's public endpoint. OpenAI-compatible URLs work with or without the
  // trailing "/v1"; for Azure this is the resource endpoint ("https://x.openai.azure.com").
  std::string base_url;
  std::string api_key;      // empty sends no key (Ollama, local servers)
  std::string api_version;  // Azure only; empty uses kDefaultAzureApiVersion
  std::string model;        // model name; for Azure the deployment name
  int max_output_tokens = 4096;  // sent when the API requires a limit (Anthropic)
  HttpOptions http;
  RetryOptions retry;
};

inline constexpr std::string_view kDefaultAzureApiVersion = "2024-10-21";
inline constexpr std::string_view kAnthropicVersion = "2023-06-01";

// The family of a registry name, or kConfiguration naming the unsupported provider.
Result<ApiFamily> FamilyOf(std::string_view provider);

// The base URL calls are made against: the config's URL or the provider's default, without a
// trailing slash, with "/v1" appended for OpenAI-compatible and Anthropic URLs whose last path
// segment is not a version ("http://localhost:11434" -> "http://localhost:11434/v1"). Gemini
// defaults to ".../v1beta"; Azure keeps the endpoint as given; ElevenLabs drops a trailing
// version segment, because its client adds "/v1/..." itself. kConfiguration when a provider
// without a public default (Ollama defaults to http://localhost:11434, Azure has none) has no URL.
Result<std::string> ResolveBaseUrl(const ProviderConfig& config);

}  // namespace on::ai
