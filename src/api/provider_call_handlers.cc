// The model and credential routes that call a provider: connection tests, model tests, discovery
// and sync. Each call goes to the provider once, with the provider's reason in any failure.
#include <cctype>

#include <nlohmann/json.hpp>

#include "ai/embedding_service.h"
#include "ai/model_config.h"
#include "ai/provider_registry.h"
#include "api/app_context.h"
#include "core/ids.h"

namespace on::api {
namespace {

constexpr size_t kMaxShownCharacters = 100;

// The model type a discovered model name suggests; providers list models without one.
std::string TypeOfModelName(std::string name) {
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto has = [&name](std::string_view word) { return name.find(word) != std::string::npos; };
  if (has("embed")) return "embedding";
  if (has("whisper") || has("transcri") || has("stt")) return "speech_to_text";
  if (has("tts") || has("speech") || has("voice")) return "text_to_speech";
  return "language";
}

nlohmann::json Discovered(const std::string& provider, const std::vector<ai::ModelInfo>& models) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& model : models) {
    list.push_back({{"name", model.id},
                    {"provider", provider},
                    {"model_type", TypeOfModelName(model.id)},
                    {"description", model.display_name}});
  }
  return list;
}

// A one-line excerpt for messages: the first kMaxShownCharacters bytes of `text`.
std::string Shown(const std::string& text) {
  if (text.size() <= kMaxShownCharacters) return text;
  size_t end = kMaxShownCharacters;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "...";
}

Result<http::Response> TestCredential(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("credential", request.Param("credential_id"), "credential id"));
  ON_ASSIGN_OR_RETURN(storage::Credential credential, context.storage().GetCredential(id));
  ON_ASSIGN_OR_RETURN(auto connection,
                      ai::ResolveProviderConnection(context.storage(), context.cipher(), context.env, credential.provider, id));
  const ai::ConnectionTestResult result = ai::TestConnection(ai::ToProviderConfig(connection));
  return http::JsonResponse({{"provider", credential.provider}, {"success", result.success}, {"message", result.message}});
}

Result<http::Response> DiscoverWithCredential(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("credential", request.Param("credential_id"), "credential id"));
  ON_ASSIGN_OR_RETURN(storage::Credential credential, context.storage().GetCredential(id));
  ON_ASSIGN_OR_RETURN(auto connection,
                      ai::ResolveProviderConnection(context.storage(), context.cipher(), context.env, credential.provider, id));
  ON_ASSIGN_OR_RETURN(auto models, ai::ListModels(ai::ToProviderConfig(connection)));
  return http::JsonResponse({{"credential_id", id},
                             {"provider", credential.provider},
                             {"discovered", Discovered(credential.provider, models)}});
}

Result<std::vector<ai::ModelInfo>> DiscoverProvider(AppContext& context, const std::string& provider) {
  if (ai::FindProvider(provider) == nullptr) {
    return NotFound("provider '" + provider + "' is not supported; see GET /api/providers");
  }
  ON_ASSIGN_OR_RETURN(auto connection,
                      ai::ResolveProviderConnection(context.storage(), context.cipher(), context.env, provider));
  return ai::ListModels(ai::ToProviderConfig(connection));
}

Result<http::Response> DiscoverModels(AppContext& context, http::Request& request) {
  const std::string provider(request.Param("provider"));
  ON_ASSIGN_OR_RETURN(auto models, DiscoverProvider(context, provider));
  return http::JsonResponse(Discovered(provider, models));
}

// Registers the provider's models that are not registered yet, without a credential link.
Result<nlohmann::json> SyncProvider(AppContext& context, const std::string& provider) {
  ON_ASSIGN_OR_RETURN(auto models, DiscoverProvider(context, provider));
  int64_t created = 0;
  for (const auto& info : models) {
    storage::Model model;
    model.name = info.id;
    model.provider = provider;
    model.type = TypeOfModelName(info.id);
    auto stored = context.storage().CreateModel(model);
    if (stored.ok()) {
      ++created;
    } else if (stored.status().code() != ErrorCode::kInvalidInput) {  // kInvalidInput: already registered
      return stored.status();
    }
  }
  return nlohmann::json{{"provider", provider},
                        {"discovered", models.size()},
                        {"new", created},
                        {"existing", static_cast<int64_t>(models.size()) - created}};
}

Result<http::Response> SyncModels(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto result, SyncProvider(context, std::string(request.Param("provider"))));
  return http::JsonResponse(result);
}

// Syncs every provider that has a credential or environment settings; a provider that fails is
// reported with its error and the others still sync.
Result<http::Response> SyncAllModels(AppContext& context, http::Request&) {
  nlohmann::json results = nlohmann::json::object();
  int64_t discovered = 0;
  int64_t created = 0;
  for (const ai::ProviderSpec& provider : ai::Providers()) {
    ON_ASSIGN_OR_RETURN(auto credentials, context.storage().ListCredentials(std::string(provider.name)));
    if (credentials.empty() && !ai::EnvConfigured(provider, context.env)) continue;
    const std::string name(provider.name);
    auto synced = SyncProvider(context, name);
    if (!synced.ok()) {
      results[name] = {{"error", synced.status().message()}};
      continue;
    }
    discovered += (*synced)["discovered"].get<int64_t>();
    created += (*synced)["new"].get<int64_t>();
    results[name] = std::move(*synced);
  }
  return http::JsonResponse({{"results", results}, {"total_discovered", discovered}, {"total_new", created}});
}

// Returns half a second of silence as a 16 kHz, 16-bit mono WAV file, for testing speech to text.
std::string SilentWav() {
  constexpr uint32_t kSamples = 8000;
  std::string wav;
  auto put32 = [&wav](uint32_t value) {
    for (int i = 0; i < 4; ++i) wav.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  };
  auto put16 = [&wav](uint16_t value) {
    wav.push_back(static_cast<char>(value & 0xFF));
    wav.push_back(static_cast<char>(value >> 8));
  };
  wav += "RIFF";
  put32(36 + kSamples * 2);
  wav += "WAVEfmt ";
  put32(16);      // format chunk size
  put16(1);       // PCM
  put16(1);       // channels
  put32(16000);   // sample rate
  put32(32000);   // bytes per second
  put16(2);       // bytes per frame
  put16(16);      // bits per sample
  wav += "data";
  put32(kSamples * 2);
  wav.append(kSamples * 2, '\0');
  return wav;
}

// Makes a real call of the model's kind, as the reference's model test does.
Result<http::Response> TestModel(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("model", request.Param("model_id"), "model id"));
  ON_ASSIGN_OR_RETURN(auto connection, ai::ResolveModelConfig(context.storage(), context.cipher(), context.env, id));
  const ai::ProviderConfig config = ai::ToProviderConfig(connection);
  auto failed = [](const Status& status) {
    return http::JsonResponse({{"success", false}, {"message", status.message()}});
  };

  if (connection.model_type == "language") {
    auto chat = ai::MakeChatModel(config);
    if (!chat.ok()) return failed(chat.status());
    ai::ChatRequest hello;
    hello.messages.push_back({"user", "Hi!"});
    hello.max_output_tokens = 64;
    auto answer = (*chat)->Complete(hello);
    if (!answer.ok()) return failed(answer.status());
    return http::JsonResponse({{"success", true}, {"message", "Response: " + Shown(answer->text)}});
  }

  if (connection.model_type == "embedding") {
    auto model = ai::MakeEmbeddingModel(config);
    if (!model.ok()) return failed(model.status());
    auto vectors = (*model)->Embed({"test"});
    if (!vectors.ok()) return failed(vectors.status());
    if (vectors->empty() || vectors->front().empty()) return failed(Status(ErrorCode::kUpstream, "no vector returned"));
    return http::JsonResponse(
        {{"success", true}, {"message", "Embedding dimensions: " + std::to_string(vectors->front().size())}});
  }

  if (connection.model_type == "text_to_speech") {
    auto model = ai::MakeTextToSpeechModel(config);
    if (!model.ok()) return failed(model.status());
    auto audio = (*model)->Synthesize("Hello from Open Notebook", "alloy");
    if (!audio.ok()) return failed(audio.status());
    return http::JsonResponse(
        {{"success", true}, {"message", "Audio generated: " + std::to_string(audio->bytes.size()) + " bytes"}});
  }

  auto model = ai::MakeSpeechToTextModel(config);
  if (!model.ok()) return failed(model.status());
  const std::string wav = SilentWav();
  auto text = (*model)->Transcribe(wav, "test.wav");
  if (!text.ok()) return failed(text.status());
  return http::JsonResponse({{"success", true}, {"message", "Transcription: " + Shown(*text)}});
}

}  // namespace

void RegisterProviderCallRoutes(http::Router& router, AppContext& context) {
  router.Add("POST", "/api/credentials/{credential_id}/test", Bind(context, TestCredential));
  router.Add("POST", "/api/credentials/{credential_id}/discover", Bind(context, DiscoverWithCredential));
  router.Add("GET", "/api/models/discover/{provider}", Bind(context, DiscoverModels));
  router.Add("POST", "/api/models/sync/{provider}", Bind(context, SyncModels));
  router.Add("POST", "/api/models/sync", Bind(context, SyncAllModels));
  router.Add("POST", "/api/models/{model_id}/test", Bind(context, TestModel));
}

}  // namespace on::api
