#include "ai/provider_registry.h"

#include <initializer_list>

namespace on::ai {
namespace {

const std::vector<std::string_view> kAll = {"language", "embedding", "speech_to_text", "text_to_speech"};
const std::vector<std::string_view> kLanguage = {"language"};

const std::vector<ProviderSpec>& Registry() {
  static const std::vector<ProviderSpec> providers = {
      {"openai", "OpenAI", kAll, {"OPENAI_API_KEY"}, {}, {"OPENAI_API_BASE"}, "https://platform.openai.com/api-keys"},
      {"anthropic", "Anthropic", kLanguage, {"ANTHROPIC_API_KEY"}, {}, {"ANTHROPIC_API_BASE"},
       "https://console.anthropic.com/settings/keys"},
      {"google", "Google AI", kAll, {}, {"GOOGLE_API_KEY", "GEMINI_API_KEY"}, {"GEMINI_API_BASE_URL"},
       "https://aistudio.google.com/app/apikey"},
      {"groq", "Groq", {"language", "speech_to_text"}, {"GROQ_API_KEY"}, {}, {"GROQ_API_BASE"},
       "https://console.groq.com/keys"},
      {"mistral", "Mistral AI", kAll, {"MISTRAL_API_KEY"}, {}, {"MISTRAL_API_BASE"}, "https://console.mistral.ai/api-keys/"},
      {"deepseek", "DeepSeek", kLanguage, {"DEEPSEEK_API_KEY"}, {}, {"DEEPSEEK_API_BASE"},
       "https://platform.deepseek.com/api_keys"},
      {"xai", "xAI (Grok)", {"language", "text_to_speech"}, {"XAI_API_KEY"}, {}, {"XAI_API_BASE"}, "https://console.x.ai/"},
      {"openrouter", "OpenRouter", kAll, {"OPENROUTER_API_KEY"}, {}, {"OPENROUTER_BASE_URL"}, "https://openrouter.ai/keys"},
      {"dashscope", "DashScope (Qwen)", kLanguage, {"DASHSCOPE_API_KEY"}, {}, {"DASHSCOPE_API_BASE"},
       "https://help.aliyun.com/zh/model-studio/getting-started/"},
      {"minimax", "MiniMax", kLanguage, {"MINIMAX_API_KEY"}, {}, {"MINIMAX_API_BASE"},
       "https://platform.minimaxi.com/document/Guides"},
      {"novita", "Novita", kLanguage, {"NOVITA_API_KEY"}, {}, {"NOVITA_API_BASE"}, "https://novita.ai/settings/key-management"},
      {"ppq", "PayPerQ", kAll, {"PPQ_API_KEY"}, {}, {"PPQ_API_BASE"}, "https://ppq.ai/"},
      {"cohere", "Cohere", {"language", "embedding"}, {"COHERE_API_KEY"}, {}, {}, "https://dashboard.cohere.com/api-keys"},
      {"voyage", "Voyage AI", {"embedding"}, {"VOYAGE_API_KEY"}, {}, {}, "https://dash.voyageai.com/api-keys"},
      {"elevenlabs", "ElevenLabs", {"text_to_speech", "speech_to_text"}, {"ELEVENLABS_API_KEY"}, {}, {},
       "https://elevenlabs.io/app/settings/api-keys"},
      {"deepgram", "Deepgram", {"text_to_speech", "speech_to_text"}, {"DEEPGRAM_API_KEY"}, {}, {},
       "https://console.deepgram.com/"},
      {"ollama", "Ollama", {"language", "embedding"}, {"OLLAMA_API_BASE"}, {}, {}, "https://ollama.com/download"},
      {"omlx", "oMLX", {"language", "embedding"}, {"OMLX_API_BASE"}, {}, {"OMLX_API_KEY"}, ""},
      {"azure", "Azure OpenAI", kAll, {"AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_VERSION"}, {},
       {"AZURE_OPENAI_ENDPOINT_LLM", "AZURE_OPENAI_ENDPOINT_EMBEDDING", "AZURE_OPENAI_ENDPOINT_STT",
        "AZURE_OPENAI_ENDPOINT_TTS"},
       "https://portal.azure.com/#view/Microsoft_Azure_ProjectOxford/CognitiveServicesHub/~/OpenAI"},
      {"vertex", "Google Vertex AI", {"language", "embedding", "text_to_speech"}, {"VERTEX_PROJECT", "VERTEX_LOCATION"},
       {}, {"GOOGLE_APPLICATION_CREDENTIALS"}, "https://cloud.google.com/vertex-ai/docs/start/cloud-environment"},
      {"openai_compatible", "OpenAI Compatible", kAll, {}, {"OPENAI_COMPATIBLE_BASE_URL", "OPENAI_COMPATIBLE_API_KEY"},
       {"OPENAI_COMPATIBLE_BASE_URL_LLM", "OPENAI_COMPATIBLE_BASE_URL_EMBEDDING", "OPENAI_COMPATIBLE_BASE_URL_STT",
        "OPENAI_COMPATIBLE_BASE_URL_TTS"},
       ""},
      {"anthropic_compatible", "Anthropic Compatible", kLanguage,
       {"ANTHROPIC_COMPATIBLE_BASE_URL", "ANTHROPIC_COMPATIBLE_API_KEY"}, {}, {}, ""},
  };
  return providers;
}

std::optional<std::string> NonEmpty(const EnvLookup& env, std::string_view name) {
  auto value = env(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

// The first non-empty variable of `names`.
std::optional<std::string> FirstSet(const EnvLookup& env, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (auto value = NonEmpty(env, name)) return value;
  }
  return std::nullopt;
}

}  // namespace

std::span<const ProviderSpec> Providers() { return Registry(); }

const ProviderSpec* FindProvider(std::string_view name) {
  for (const ProviderSpec& provider : Registry()) {
    if (provider.name == name) return &provider;
  }
  return nullptr;
}

std::string ProviderNameList() {
  std::string names;
  for (const ProviderSpec& provider : Registry()) {
    if (!names.empty()) names += ", ";
    names += provider.name;
  }
  return names;
}

bool EnvConfigured(const ProviderSpec& provider, const EnvLookup& env) {
  for (std::string_view name : provider.required_env) {
    if (!NonEmpty(env, name)) return false;
  }
  if (provider.required_any_env.empty()) return !provider.required_env.empty();
  for (std::string_view name : provider.required_any_env) {
    if (NonEmpty(env, name)) return true;
  }
  return false;
}

EnvProviderSettings ReadEnvProviderSettings(const ProviderSpec& provider, const EnvLookup& env) {
  EnvProviderSettings settings;
  const std::string_view name = provider.name;

  if (name == "google") {
    settings.api_key = FirstSet(env, {"GOOGLE_API_KEY", "GEMINI_API_KEY"});
    settings.base_url = NonEmpty(env, "GEMINI_API_BASE_URL");
  } else if (name == "ollama") {
    settings.base_url = NonEmpty(env, "OLLAMA_API_BASE");
  } else if (name == "omlx") {
    settings.base_url = NonEmpty(env, "OMLX_API_BASE");
    settings.api_key = NonEmpty(env, "OMLX_API_KEY");
  } else if (name == "openrouter") {
    settings.api_key = NonEmpty(env, "OPENROUTER_API_KEY");
    settings.base_url = NonEmpty(env, "OPENROUTER_BASE_URL");
  } else if (name == "azure") {
    settings.api_key = NonEmpty(env, "AZURE_OPENAI_API_KEY");
    settings.endpoint = NonEmpty(env, "AZURE_OPENAI_ENDPOINT");
    settings.base_url = settings.endpoint;  // Azure's base URL is its endpoint
    settings.api_version = NonEmpty(env, "AZURE_OPENAI_API_VERSION");
    settings.endpoint_llm = NonEmpty(env, "AZURE_OPENAI_ENDPOINT_LLM");
    settings.endpoint_embedding = NonEmpty(env, "AZURE_OPENAI_ENDPOINT_EMBEDDING");
    settings.endpoint_stt = NonEmpty(env, "AZURE_OPENAI_ENDPOINT_STT");
    settings.endpoint_tts = NonEmpty(env, "AZURE_OPENAI_ENDPOINT_TTS");
  } else if (name == "vertex") {
    settings.project = NonEmpty(env, "VERTEX_PROJECT");
    settings.location = NonEmpty(env, "VERTEX_LOCATION");
    settings.credentials_path = NonEmpty(env, "GOOGLE_APPLICATION_CREDENTIALS");
  } else if (name == "openai_compatible") {
    settings.api_key = NonEmpty(env, "OPENAI_COMPATIBLE_API_KEY");
    settings.base_url = NonEmpty(env, "OPENAI_COMPATIBLE_BASE_URL");
    settings.endpoint_llm = NonEmpty(env, "OPENAI_COMPATIBLE_BASE_URL_LLM");
    settings.endpoint_embedding = NonEmpty(env, "OPENAI_COMPATIBLE_BASE_URL_EMBEDDING");
    settings.endpoint_stt = NonEmpty(env, "OPENAI_COMPATIBLE_BASE_URL_STT");
    settings.endpoint_tts = NonEmpty(env, "OPENAI_COMPATIBLE_BASE_URL_TTS");
  } else if (name == "anthropic_compatible") {
    settings.api_key = NonEmpty(env, "ANTHROPIC_COMPATIBLE_API_KEY");
    settings.base_url = NonEmpty(env, "ANTHROPIC_COMPATIBLE_BASE_URL");
  } else {
    // Key-only providers: <PROVIDER>_API_KEY, and an optional base URL override.
    if (!provider.required_env.empty()) settings.api_key = NonEmpty(env, provider.required_env.front());
    if (!provider.optional_env.empty()) settings.base_url = NonEmpty(env, provider.optional_env.front());
  }
  return settings;
}

}  // namespace on::ai
