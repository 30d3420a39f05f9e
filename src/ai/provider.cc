// The provider registry (family, default URL, label), the model factories, model listing and
// the connection test.
#include <algorithm>
#include <map>

#include "ai/provider_clients.h"

namespace on::ai {
namespace {

using nlohmann::json;

struct ProviderInfo {
  ApiFamily family;
  std::string_view label;
  std::string_view default_base_url;  // empty: the config must name one
  bool tested_by_listing;             // the connection test lists models instead of chatting
};

const std::map<std::string, ProviderInfo, std::less<>>& Registry() {
  static const std::map<std::string, ProviderInfo, std::less<>> registry = {
      {"openai", {ApiFamily::kOpenAiCompatible, "OpenAI", "https://api.openai.com/v1", false}},
      {"anthropic", {ApiFamily::kAnthropic, "Anthropic", "https://api.anthropic.com/v1", false}},
      {"google", {ApiFamily::kGemini, "Google AI", "https://generativelanguage.googleapis.com/v1beta", false}},
      {"groq", {ApiFamily::kOpenAiCompatible, "Groq", "https://api.groq.com/openai/v1", false}},
      {"mistral", {ApiFamily::kOpenAiCompatible, "Mistral AI", "https://api.mistral.ai/v1", false}},
      {"deepseek", {ApiFamily::kOpenAiCompatible, "DeepSeek", "https://api.deepseek.com/v1", false}},
      {"xai", {ApiFamily::kOpenAiCompatible, "xAI", "https://api.x.ai/v1", false}},
      {"openrouter", {ApiFamily::kOpenAiCompatible, "OpenRouter", "https://openrouter.ai/api/v1", false}},
      // NOTE: DashScope also has a mainland China endpoint (dashscope.aliyuncs.com); set base_url for it.
      {"dashscope", {ApiFamily::kOpenAiCompatible, "DashScope", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", false}},
      {"minimax", {ApiFamily::kOpenAiCompatible, "MiniMax", "https://api.minimax.io/v1", false}},
      {"novita", {ApiFamily::kOpenAiCompatible, "Novita", "", false}},
      {"ppq", {ApiFamily::kOpenAiCompatible, "PayPerQ", "", false}},
      {"ollama", {ApiFamily::kOllama, "Ollama", "http://localhost:11434", true}},
      {"omlx", {ApiFamily::kOpenAiCompatible, "oMLX", "http://localhost:11435/v1", true}},
      {"lmstudio", {ApiFamily::kOpenAiCompatible, "LM Studio", "http://localhost:1234/v1", true}},
      {"vllm", {ApiFamily::kOpenAiCompatible, "vLLM", "http://localhost:8000/v1", true}},
      {"llamacpp", {ApiFamily::kOpenAiCompatible, "llama.cpp server", "http://localhost:8080/v1", true}},
      {"openai_compatible", {ApiFamily::kOpenAiCompatible, "OpenAI-compatible provider", "", true}},
      {"anthropic_compatible", {ApiFamily::kAnthropic, "Anthropic-compatible provider", "", true}},
      {"azure", {ApiFamily::kAzureOpenAi, "Azure OpenAI", "", true}},
      {"elevenlabs", {ApiFamily::kElevenLabs, "ElevenLabs", "https://api.elevenlabs.io", true}},
  };
  return registry;
}

Result<ProviderInfo> InfoOf(std::string_view provider) {
  const auto it = Registry().find(provider);
  if (it != Registry().end()) return it->second;
  std::string known;
  for (const auto& [name, info] : Registry()) known += (known.empty() ? "" : ", ") + name;
  return Status(ErrorCode::kConfiguration,
                "AI provider '" + std::string(provider) + "' is not supported; supported providers: " + known);
}

std::string StripTrailingSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// True for path segments such as "v1", "v3" and "v1beta".
bool IsVersionSegment(std::string_view segment) {
  if (segment.size() < 2 || segment[0] != 'v' || !std::isdigit(static_cast<unsigned char>(segment[1]))) return false;
  return std::all_of(segment.begin() + 1, segment.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

bool HasPath(std::string_view url) {
  const std::size_t scheme = url.find("://");
  const std::size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  return url.find('/', start) != std::string_view::npos;
}

std::string_view LastSegment(std::string_view url) {
  if (!HasPath(url)) return {};
  return url.substr(url.rfind('/') + 1);
}

// `url` without a last path segment that is a version ("https://api.elevenlabs.io/v1" ->
// "https://api.elevenlabs.io"), for clients that add the version themselves.
std::string WithoutVersionSegment(std::string url) {
  if (IsVersionSegment(LastSegment(url))) url.resize(url.rfind('/'));
  return url;
}

Status RequireModel(const ProviderConfig& config, std::string_view capability) {
  if (!config.model.empty()) return Status::Ok();
  return Status(ErrorCode::kConfiguration, "no " + std::string(capability) + " model is set for provider '" +
                                               config.provider + "'; choose a model name");
}

Status Unsupported(const ProviderConfig& config, std::string_view capability) {
  return Status(ErrorCode::kConfiguration, internal::ProviderLabel(config) + " has no " + std::string(capability) +
                                               " API in this build; choose another provider for " + std::string(capability));
}

// The Ollama server root, where /api/tags lives: the base without its "/v1".
std::string OllamaRoot(const std::string& base) {
  constexpr std::string_view kSuffix = "/v1";
  return base.ends_with(kSuffix) ? base.substr(0, base.size() - kSuffix.size()) : base;
}

Result<HttpRequest> ModelListRequest(const ProviderConfig& config, ApiFamily family, const std::string& base) {
  HttpRequest request;
  request.method = "GET";
  switch (family) {
    case ApiFamily::kOllama:
      request.url = OllamaRoot(base) + "/api/tags";
      break;
    case ApiFamily::kAzureOpenAi: {
      const std::string version = config.api_version.empty() ? std::string(kDefaultAzureApiVersion) : config.api_version;
      request.url = base + "/openai/models?api-version=" + version;
      break;
    }
    case ApiFamily::kElevenLabs:
      request.url = base + "/v1/models";
      break;
    default:
      request.url = base + "/models";
      break;
  }
  internal::AddAuthHeaders(config, family, request);
  return request;
}

std::vector<ModelInfo> ParseModelList(ApiFamily family, const json& value) {
  std::vector<ModelInfo> models;
  if (family == ApiFamily::kOllama) {
    for (const json& item : value.value("models", json::array())) {
      if (item.is_object() && item.contains("name") && item["name"].is_string()) {
        models.push_back({item["name"].get<std::string>(), item["name"].get<std::string>()});
      }
    }
  } else if (family == ApiFamily::kGemini) {
    for (const json& item : value.value("models", json::array())) {
      if (!item.is_object() || !item.contains("name") || !item["name"].is_string()) continue;
      std::string id = item["name"].get<std::string>();
      if (id.starts_with("models/")) id.erase(0, 7);
      models.push_back({id, item.value("displayName", id)});
    }
  } else if (family == ApiFamily::kElevenLabs) {
    // ElevenLabs returns a bare array of {"model_id", "name", ...}.
    for (const json& item : value.is_array() ? value : json::array()) {
      if (!item.is_object() || !item.contains("model_id") || !item["model_id"].is_string()) continue;
      const std::string id = item["model_id"].get<std::string>();
      models.push_back({id, item.value("name", id)});
    }
  } else {
    for (const json& item : value.value("data", json::array())) {
      if (!item.is_object() || !item.contains("id") || !item["id"].is_string()) continue;
      const std::string id = item["id"].get<std::string>();
      models.push_back({id, item.value("display_name", id)});
    }
  }
  std::sort(models.begin(), models.end(), [](const ModelInfo& a, const ModelInfo& b) { return a.id < b.id; });
  return models;
}

std::string LowerAscii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

}  // namespace

namespace internal {

std::string ProviderLabel(const ProviderConfig& config) {
  const auto it = Registry().find(config.provider);
  return it == Registry().end() ? config.provider : std::string(it->second.label);
}

void AddAuthHeaders(const ProviderConfig& config, ApiFamily family, HttpRequest& request) {
  switch (family) {
    case ApiFamily::kAnthropic:
      if (!config.api_key.empty()) request.headers.emplace_back("x-api-key", config.api_key);
      request.headers.emplace_back("anthropic-version", std::string(kAnthropicVersion));
      return;
    case ApiFamily::kGemini:
      if (!config.api_key.empty()) request.headers.emplace_back("x-goog-api-key", config.api_key);
      return;
    case ApiFamily::kAzureOpenAi:
      if (!config.api_key.empty()) request.headers.emplace_back("api-key", config.api_key);
      return;
    case ApiFamily::kElevenLabs:
      if (!config.api_key.empty()) request.headers.emplace_back("xi-api-key", config.api_key);
      return;
    case ApiFamily::kOpenAiCompatible:
    case ApiFamily::kOllama:
      if (!config.api_key.empty()) request.headers.emplace_back("Authorization", "Bearer " + config.api_key);
      return;
  }
}

}  // namespace internal

Result<ApiFamily> FamilyOf(std::string_view provider) {
  ON_ASSIGN_OR_RETURN(const ProviderInfo info, InfoOf(provider));
  return info.family;
}

Result<std::string> ResolveBaseUrl(const ProviderConfig& config) {
  ON_ASSIGN_OR_RETURN(const ProviderInfo info, InfoOf(config.provider));
  if (config.base_url.empty()) {
    if (info.default_base_url.empty()) {
      return Status(ErrorCode::kConfiguration, std::string(info.label) + " needs a base URL (provider '" + config.provider +
                                                   "'); set it in the credential");
    }
    return info.family == ApiFamily::kOllama ? std::string(info.default_base_url) + "/v1" : std::string(info.default_base_url);
  }
  std::string url = StripTrailingSlashes(config.base_url);
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return Status(ErrorCode::kConfiguration, "the base URL '" + config.base_url + "' of provider '" + config.provider +
                                                 "' must start with http:// or https://");
  }
  switch (info.family) {
    case ApiFamily::kAzureOpenAi:
      if (url.ends_with("/openai")) url.resize(url.size() - 7);
      return url;
    case ApiFamily::kGemini:
      return IsVersionSegment(LastSegment(url)) ? url : url + "/v1beta";
    case ApiFamily::kElevenLabs:
      return WithoutVersionSegment(url);
    case ApiFamily::kOllama:
    case ApiFamily::kOpenAiCompatible:
    case ApiFamily::kAnthropic:
      break;
  }
  return IsVersionSegment(LastSegment(url)) ? url : url + "/v1";
}

Result<std::unique_ptr<ChatModel>> MakeChatModel(const ProviderConfig& config) {
  ON_ASSIGN_OR_RETURN(const ApiFamily family, FamilyOf(config.provider));
  ON_RETURN_IF_ERROR(RequireModel(config, "chat"));
  ON_ASSIGN_OR_RETURN(std::string base, ResolveBaseUrl(config));
  switch (family) {
    case ApiFamily::kElevenLabs: return Unsupported(config, "chat");
    case ApiFamily::kAnthropic: return internal::MakeAnthropicChat(config, std::move(base));
    case ApiFamily::kGemini: return internal::MakeGeminiChat(config, std::move(base));
    default: return internal::MakeOpenAiChat(config, family, std::move(base));
  }
}

Result<std::unique_ptr<EmbeddingModel>> MakeEmbeddingModel(const ProviderConfig& config) {
  ON_ASSIGN_OR_RETURN(const ApiFamily family, FamilyOf(config.provider));
  ON_RETURN_IF_ERROR(RequireModel(config, "embedding"));
  ON_ASSIGN_OR_RETURN(std::string base, ResolveBaseUrl(config));
  switch (family) {
    case ApiFamily::kAnthropic:
    case ApiFamily::kElevenLabs: return Unsupported(config, "embedding");
    case ApiFamily::kGemini: return internal::MakeGeminiEmbedding(config, std::move(base));
    default: return internal::MakeOpenAiEmbedding(config, family, std::move(base));
  }
}

Result<std::unique_ptr<TextToSpeechModel>> MakeTextToSpeechModel(const ProviderConfig& config) {
  ON_ASSIGN_OR_RETURN(const ApiFamily family, FamilyOf(config.provider));
  ON_RETURN_IF_ERROR(RequireModel(config, "text-to-speech"));
  // Google's speech is Cloud Text-to-Speech, which lives on its own host, not under Gemini's base URL.
  // NOTE: Gemini's own speech models (generateContent with audio output) are not supported.
  if (family == ApiFamily::kGemini) {
    ON_ASSIGN_OR_RETURN(std::string base, internal::GoogleSpeechBaseUrl(config));
    return internal::MakeGoogleSpeech(config, std::move(base));
  }
  ON_ASSIGN_OR_RETURN(std::string base, ResolveBaseUrl(config));
  if (family == ApiFamily::kAnthropic) return Unsupported(config, "text-to-speech");
  if (family == ApiFamily::kElevenLabs) return internal::MakeElevenLabsSpeech(config, std::move(base));
  return internal::MakeOpenAiSpeech(config, family, std::move(base));
}

Result<std::unique_ptr<SpeechToTextModel>> MakeSpeechToTextModel(const ProviderConfig& config) {
  ON_ASSIGN_OR_RETURN(const ApiFamily family, FamilyOf(config.provider));
  ON_RETURN_IF_ERROR(RequireModel(config, "speech-to-text"));
  ON_ASSIGN_OR_RETURN(std::string base, ResolveBaseUrl(config));
  // TODO: ElevenLabs speech-to-text (/v1/speech-to-text) is not built yet.
  if (family == ApiFamily::kAnthropic || family == ApiFamily::kGemini || family == ApiFamily::kElevenLabs) {
    return Unsupported(config, "speech-to-text");
  }
  return internal::MakeOpenAiTranscription(config, family, std::move(base));
}

Result<std::vector<ModelInfo>> ListModels(const ProviderConfig& config, const CancelToken& cancel) {
  ON_ASSIGN_OR_RETURN(const ApiFamily family, FamilyOf(config.provider));
  ON_ASSIGN_OR_RETURN(const std::string base, ResolveBaseUrl(config));
  ON_ASSIGN_OR_RETURN(const HttpRequest request, ModelListRequest(config, family, base));
  if (family == ApiFamily::kElevenLabs) {
    // The one list that is a bare JSON array, which SendForJson does not accept.
    ON_ASSIGN_OR_RETURN(const HttpResponse response, internal::SendForBytes(config, request, cancel));
    const json value = json::parse(response.body, nullptr, false);
    if (!value.is_array()) {
      return Status(ErrorCode::kUpstream, "ElevenLabs returned a model list that is not a JSON array from " +
                                              UrlForLog(request.url));
    }
    return ParseModelList(family, value);
  }
  ON_ASSIGN_OR_RETURN(const json value, internal::SendForJson(config, request, cancel));
  return ParseModelList(family, value);
}

ConnectionTestResult TestConnection(const ProviderConfig& config, const CancelToken& cancel) {
  const Result<ProviderInfo> info = InfoOf(config.provider);
  if (!info.ok()) return {false, info.status().message()};
  const Result<std::string> base = ResolveBaseUrl(config);
  if (!base.ok()) return {false, base.status().message()};

  HttpRequest request;
  if (info->tested_by_listing || config.model.empty()) {
    Result<HttpRequest> listing = ModelListRequest(config, info->family, *base);
    if (!listing.ok()) return {false, listing.status().message()};
    request = std::move(*listing);
  } else {
    ChatRequest chat;
    chat.messages.push_back({"user", "Hi"});
    chat.max_output_tokens = 16;
    switch (info->family) {
      case ApiFamily::kAnthropic: request = internal::AnthropicChatRequest(config, *base, chat, false); break;
      case ApiFamily::kGemini: request = internal::GeminiChatRequest(config, *base, chat, false); break;
      default: request = internal::OpenAiChatRequest(config, info->family, *base, chat, false); break;
    }
  }

  const Result<HttpResponse> response = SendOnce(request, config.http, cancel);
  if (!response.ok()) return ClassifyConnectionTest(0, response.status().message());
  if (response->status >= 200 && response->status < 300) return {true, "Connection successful"};
  return ClassifyConnectionTest(response->status, ProviderReason(response->body));
}

ConnectionTestResult ClassifyConnectionTest(long http_status, std::string_view reason) {
  const std::string lower = LowerAscii(reason);
  const auto mentions = [&](std::string_view word) { return lower.find(word) != std::string::npos; };
  if (http_status == 401 || mentions("unauthorized") || mentions("invalid api key") || mentions("incorrect api key")) {
    return {false, "Invalid API key"};
  }
  if (http_status == 403) return {false, "API key lacks required permissions"};
  if (http_status == 429 || mentions("rate limit") || mentions("quota")) return {true, "Rate limited - but connection works"};
  if (http_status != 0 && mentions("model") &&
      (mentions("not found") || mentions("does not exist") || mentions("deprecated") || mentions("unavailable"))) {
    return {true, "API key valid (test model unavailable)"};
  }
  std::string shown(reason.substr(0, 100));
  if (http_status != 0) shown = "HTTP " + std::to_string(http_status) + ": " + shown;
  return {false, "Error: " + shown};
}

}  // namespace on::ai
