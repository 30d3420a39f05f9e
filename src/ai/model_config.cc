#include "ai/model_config.h"

#include "ai/provider_registry.h"
#include "ingest/ssrf_guard.h"

namespace on::ai {
namespace {

Status CheckStoredUrl(std::string_view field, const std::optional<std::string>& url) {
  if (!url) return Status::Ok();
  return ingest::CheckProviderUrl(field, *url);
}

Status CheckConfigUrls(const ModelConnection& config) {
  ON_RETURN_IF_ERROR(CheckStoredUrl("base_url", config.base_url));
  ON_RETURN_IF_ERROR(CheckStoredUrl("endpoint", config.endpoint));
  ON_RETURN_IF_ERROR(CheckStoredUrl("endpoint_llm", config.endpoint_llm));
  ON_RETURN_IF_ERROR(CheckStoredUrl("endpoint_embedding", config.endpoint_embedding));
  ON_RETURN_IF_ERROR(CheckStoredUrl("endpoint_stt", config.endpoint_stt));
  return CheckStoredUrl("endpoint_tts", config.endpoint_tts);
}

}  // namespace

Result<std::optional<std::string>> DecryptApiKey(const storage::Credential& credential, const CredentialCipher* cipher) {
  if (!credential.api_key) return std::optional<std::string>();
  if (cipher == nullptr) {
    return Status(ErrorCode::kConfiguration,
                  "credential " + credential.id + " has an encrypted API key, but OPEN_NOTEBOOK_ENCRYPTION_KEY is not "
                  "set; set it to the key used when the credential was saved");
  }
  auto plaintext = cipher->Open(*credential.api_key, credential.id);
  if (!plaintext.ok()) {
    return Status(ErrorCode::kConfiguration,
                  "credential " + credential.id + " cannot be used: " + plaintext.status().message());
  }
  return std::optional<std::string>(std::move(plaintext).value());
}

Status ApplyCredential(const storage::Credential& credential, const CredentialCipher* cipher, ModelConnection& config) {
  ON_ASSIGN_OR_RETURN(config.api_key, DecryptApiKey(credential, cipher));
  config.credential_id = credential.id;
  config.base_url = credential.base_url;
  config.endpoint = credential.endpoint;
  config.api_version = credential.api_version;
  config.endpoint_llm = credential.endpoint_llm;
  config.endpoint_embedding = credential.endpoint_embedding;
  config.endpoint_stt = credential.endpoint_stt;
  config.endpoint_tts = credential.endpoint_tts;
  config.project = credential.project;
  config.location = credential.location;
  config.credentials_path = credential.credentials_path;
  config.num_ctx = credential.num_ctx;
  return Status::Ok();
}

Result<ModelConnection> ResolveProviderConnection(storage::Storage& storage, const CredentialCipher* cipher,
                                                  const EnvLookup& env, const std::string& provider_name,
                                                  const std::optional<std::string>& credential_id) {
  ModelConnection config;
  config.provider = provider_name;

  std::optional<storage::Credential> credential;
  if (credential_id) {
    ON_ASSIGN_OR_RETURN(credential, storage.GetCredential(*credential_id));
  } else {
    ON_ASSIGN_OR_RETURN(auto of_provider, storage.ListCredentials(provider_name));
    if (!of_provider.empty()) credential = std::move(of_provider.front());
  }

  if (credential) {
    ON_RETURN_IF_ERROR(ApplyCredential(*credential, cipher, config));
  } else if (const ProviderSpec* provider = FindProvider(provider_name)) {
    EnvProviderSettings settings = ReadEnvProviderSettings(*provider, env);
    config.api_key = std::move(settings.api_key);
    config.base_url = std::move(settings.base_url);
    config.endpoint = std::move(settings.endpoint);
    config.api_version = std::move(settings.api_version);
    config.endpoint_llm = std::move(settings.endpoint_llm);
    config.endpoint_embedding = std::move(settings.endpoint_embedding);
    config.endpoint_stt = std::move(settings.endpoint_stt);
    config.endpoint_tts = std::move(settings.endpoint_tts);
    config.project = std::move(settings.project);
    config.location = std::move(settings.location);
    config.credentials_path = std::move(settings.credentials_path);
  } else {
    return Status(ErrorCode::kConfiguration, "provider '" + provider_name + "' is not supported; supported providers: " +
                                                 ProviderNameList());
  }

  // Stored URLs are checked again on use, so a row written before a rule existed (or edited
  // outside the API) cannot reach a metadata address.
  ON_RETURN_IF_ERROR(CheckConfigUrls(config));
  return config;
}

Result<ModelConnection> ResolveModelConfig(storage::Storage& storage, const CredentialCipher* cipher,
                                          const EnvLookup& env, const std::string& model_id) {
  ON_ASSIGN_OR_RETURN(storage::Model model, storage.GetModel(model_id));
  ON_ASSIGN_OR_RETURN(ModelConnection config,
                      ResolveProviderConnection(storage, cipher, env, model.provider, model.credential_id));
  config.model_name = model.name;
  config.model_type = model.type;
  return config;
}

Result<storage::DefaultModels> DefaultModels(storage::Storage& storage) { return storage.GetDefaultModels(); }

std::optional<std::string> EffectiveDefaultModel(const storage::DefaultModels& defaults, std::string_view slot) {
  if (auto model_id = defaults.ModelId(slot)) return model_id;
  if (slot == "default_transformation_model" || slot == "default_tools_model" || slot == "large_context_model") {
    return defaults.ModelId("default_chat_model");
  }
  return std::nullopt;
}

}  // namespace on::ai
