// Provider credentials: /api/credentials... and /api/providers.
//
// API keys are encrypted before they reach storage and are never returned or logged: responses
// carry has_api_key and, for a key that cannot be decrypted, decryption_error.
#include <spdlog/spdlog.h>

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "ai/model_config.h"
#include "ai/provider_registry.h"
#include "api/app_context.h"
#include "api/json_body.h"
#include "core/ids.h"
#include "ingest/ssrf_guard.h"

namespace on::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxNameLength = 200;
constexpr size_t kMaxApiKeyLength = 16384;  // room for long tokens, not only 50-byte keys
constexpr size_t kMaxFieldLength = 2048;
constexpr int64_t kMaxNumCtx = 10'000'000;

constexpr std::string_view kNoKeyMessage =
    "API keys cannot be stored because no encryption key is configured: set OPEN_NOTEBOOK_ENCRYPTION_KEY "
    "(any long random string) or OPEN_NOTEBOOK_ENCRYPTION_KEY_FILE and restart open-notebook";

// Fields whose values are URLs a provider client will call.
constexpr std::string_view kUrlFields[] = {"base_url", "endpoint", "endpoint_llm", "endpoint_embedding",
                                           "endpoint_stt", "endpoint_tts"};

json OptionalJson(const std::optional<std::string>& value) { return value ? json(*value) : json(nullptr); }

// Null when the key decrypts (or there is none), otherwise why it cannot be used.
json DecryptionError(const storage::Credential& credential, const ai::CredentialCipher* cipher) {
  if (!credential.api_key) return nullptr;
  auto plaintext = ai::DecryptApiKey(credential, cipher);
  if (!plaintext.ok()) return plaintext.status().message();
  if (*plaintext) sodium_memzero((*plaintext)->data(), (*plaintext)->size());
  return nullptr;
}

json CredentialJson(const storage::Credential& credential, const ai::CredentialCipher* cipher) {
  return {{"id", credential.id},
          {"name", credential.name},
          {"provider", credential.provider},
          {"modalities", credential.modalities},
          {"base_url", OptionalJson(credential.base_url)},
          {"endpoint", OptionalJson(credential.endpoint)},
          {"api_version", OptionalJson(credential.api_version)},
          {"endpoint_llm", OptionalJson(credential.endpoint_llm)},
          {"endpoint_embedding", OptionalJson(credential.endpoint_embedding)},
          {"endpoint_stt", OptionalJson(credential.endpoint_stt)},
          {"endpoint_tts", OptionalJson(credential.endpoint_tts)},
          {"project", OptionalJson(credential.project)},
          {"location", OptionalJson(credential.location)},
          {"credentials_path", OptionalJson(credential.credentials_path)},
          {"num_ctx", credential.num_ctx ? json(*credential.num_ctx) : json(nullptr)},
          {"has_api_key", credential.api_key.has_value()},
          {"created", credential.created},
          {"updated", credential.updated},
          {"model_count", credential.model_count},
          {"decryption_error", DecryptionError(credential, cipher)}};
}

json CredentialListJson(const std::vector<storage::Credential>& credentials, const ai::CredentialCipher* cipher) {
  json list = json::array();
  for (const auto& credential : credentials) list.push_back(CredentialJson(credential, cipher));
  return list;
}

Result<const ai::ProviderSpec*> ProviderParam(std::string_view name, std::string_view field) {
  const ai::ProviderSpec* provider = ai::FindProvider(name);
  if (provider == nullptr) {
    return ValidationError(std::string(field) + " '" + std::string(name.substr(0, 64)) +
                           "' is not a supported provider; use one of: " + ai::ProviderNameList());
  }
  return provider;
}

bool IsModelType(std::string_view type) {
  for (std::string_view known : storage::kModelTypes) {
    if (known == type) return true;
  }
  return false;
}

Result<std::vector<std::string>> ParseModalities(const JsonBody& body) {
  const json& value = body.object().at("modalities");
  if (!value.is_array()) return ValidationError("field 'modalities' must be an array of strings");
  std::vector<std::string> modalities;
  for (const json& item : value) {
    if (!item.is_string() || !IsModelType(item.get_ref<const std::string&>())) {
      return InvalidInput("modalities may contain only language, embedding, text_to_speech and speech_to_text");
    }
    const std::string& modality = item.get_ref<const std::string&>();
    if (std::find(modalities.begin(), modalities.end(), modality) == modalities.end()) modalities.push_back(modality);
  }
  return modalities;
}

// A field that a PUT may clear: nullopt when absent, an empty inner value for null or blank text.
using FieldChange = std::optional<std::optional<std::string>>;

Result<FieldChange> StringChange(const JsonBody& body, std::string_view field) {
  if (!body.Has(field)) return FieldChange();
  ON_ASSIGN_OR_RETURN(auto value, body.String(field, kMaxFieldLength));
  if (!value || TrimWhitespace(*value).empty()) return FieldChange(std::optional<std::string>());
  std::string text = TrimWhitespace(*value);
  for (std::string_view url_field : kUrlFields) {
    if (url_field == field) ON_RETURN_IF_ERROR(ingest::CheckProviderUrl(field, text));
  }
  return FieldChange(std::optional<std::string>(std::move(text)));
}

Result<std::optional<std::optional<int64_t>>> NumCtxChange(const JsonBody& body) {
  using Change = std::optional<std::optional<int64_t>>;
  if (!body.Has("num_ctx")) return Change();
  const json& value = body.object().at("num_ctx");
  if (value.is_null()) return Change(std::optional<int64_t>());
  if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<int64_t>() > kMaxNumCtx) {
    return ValidationError("field 'num_ctx' must be an integer from 1 to " + std::to_string(kMaxNumCtx) +
                           " (tokens of context the model may use)");
  }
  return Change(std::optional<int64_t>(value.get<int64_t>()));
}

// The connection fields shared by POST and PUT, applied to `credential` when present.
Status ApplyConnectionFields(const JsonBody& body, storage::Credential& credential) {
  struct Target {
    std::string_view field;
    std::optional<std::string> storage::Credential::*member;
  };
  static constexpr Target kTargets[] = {
      {"base_url", &storage::Credential::base_url},
      {"endpoint", &storage::Credential::endpoint},
      {"api_version", &storage::Credential::api_version},
      {"endpoint_llm", &storage::Credential::endpoint_llm},
      {"endpoint_embedding", &storage::Credential::endpoint_embedding},
      {"endpoint_stt", &storage::Credential::endpoint_stt},
      {"endpoint_tts", &storage::Credential::endpoint_tts},
      {"project", &storage::Credential::project},
      {"location", &storage::Credential::location},
      {"credentials_path", &storage::Credential::credentials_path},
  };
  for (const Target& target : kTargets) {
    ON_ASSIGN_OR_RETURN(FieldChange change, StringChange(body, target.field));
    if (change) credential.*target.member = *change;
  }
  ON_ASSIGN_OR_RETURN(auto num_ctx, NumCtxChange(body));
  if (num_ctx) credential.num_ctx = *num_ctx;
  if (body.Has("modalities")) {
    ON_ASSIGN_OR_RETURN(credential.modalities, ParseModalities(body));
    // An empty list would make the credential unusable for every model type, so it means "the
    // provider's defaults", as an absent list does on creation.
    if (credential.modalities.empty()) {
      if (const ai::ProviderSpec* provider = ai::FindProvider(credential.provider)) {
        credential.modalities.assign(provider->modalities.begin(), provider->modalities.end());
      }
    }
  }
  return Status::Ok();
}

// Rules that depend on the provider, checked on the finished record.
Status CheckProviderRequirements(const storage::Credential& credential) {
  if (credential.provider == "anthropic_compatible" && (!credential.base_url || !credential.api_key)) {
    return InvalidInput("an anthropic_compatible credential needs both base_url and api_key");
  }
  return Status::Ok();
}

// The API key from the body, when one is sent: null and "" mean "keep the stored key".
Result<std::optional<std::string>> ApiKeyField(const JsonBody& body) {
  ON_ASSIGN_OR_RETURN(auto api_key, body.String("api_key", kMaxApiKeyLength));
  if (api_key && TrimWhitespace(*api_key).empty()) api_key.reset();
  if (api_key) *api_key = TrimWhitespace(*api_key);
  return api_key;
}

Result<std::string> CredentialIdParam(const http::Request& request) {
  return NormalizeId("credential", request.Param("credential_id"), "credential id");
}

Result<http::Response> CreateCredential(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"name", "provider", "modalities", "api_key", "base_url",
                                                                "endpoint", "api_version", "endpoint_llm",
                                                                "endpoint_embedding", "endpoint_stt", "endpoint_tts",
                                                                "project", "location", "credentials_path", "num_ctx"}));
  storage::Credential credential;
  credential.id = NewId("credential");
  ON_ASSIGN_OR_RETURN(std::string name, body.RequiredString("name", kMaxNameLength));
  credential.name = TrimWhitespace(name);
  if (credential.name.empty()) return InvalidInput("Credential name cannot be empty");
  ON_ASSIGN_OR_RETURN(std::string provider_name, body.RequiredString("provider", 64));
  ON_ASSIGN_OR_RETURN(const ai::ProviderSpec* provider, ProviderParam(provider_name, "provider"));
  credential.provider = std::string(provider->name);
  credential.modalities.assign(provider->modalities.begin(), provider->modalities.end());
  ON_RETURN_IF_ERROR(ApplyConnectionFields(body, credential));

  ON_ASSIGN_OR_RETURN(auto api_key, ApiKeyField(body));
  if (api_key) {
    if (context.cipher() == nullptr) return InvalidInput(std::string(kNoKeyMessage));
    credential.api_key = context.cipher()->Seal(*api_key, credential.id);
    sodium_memzero(api_key->data(), api_key->size());
  }
  ON_RETURN_IF_ERROR(CheckProviderRequirements(credential));

  ON_ASSIGN_OR_RETURN(auto created, context.storage().CreateCredential(credential));
  spdlog::info("credential {} created for provider {} (api key {})", created.id, created.provider,
               created.api_key ? "stored encrypted" : "none");
  return http::JsonResponse(CredentialJson(created, context.cipher()), 201);
}

Result<http::Response> ListCredentials(AppContext& context, http::Request& request) {
  std::optional<std::string> provider;
  if (auto raw = request.Query("provider")) {
    ON_ASSIGN_OR_RETURN(const ai::ProviderSpec* spec, ProviderParam(*raw, "provider"));
    provider = std::string(spec->name);
  }
  ON_ASSIGN_OR_RETURN(auto credentials, context.storage().ListCredentials(provider));
  return http::JsonResponse(CredentialListJson(credentials, context.cipher()));
}

Result<http::Response> ListCredentialsByProvider(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(const ai::ProviderSpec* spec, ProviderParam(request.Param("provider"), "provider"));
  ON_ASSIGN_OR_RETURN(auto credentials, context.storage().ListCredentials(std::string(spec->name)));
  return http::JsonResponse(CredentialListJson(credentials, context.cipher()));
}

Result<http::Response> GetCredential(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, CredentialIdParam(request));
  ON_ASSIGN_OR_RETURN(auto credential, context.storage().GetCredential(id));
  return http::JsonResponse(CredentialJson(credential, context.cipher()));
}

Result<http::Response> UpdateCredential(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, CredentialIdParam(request));
  // The provider is fixed at creation: models and sealed keys belong to it.
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"name", "modalities", "api_key", "base_url", "endpoint",
                                                                "api_version", "endpoint_llm", "endpoint_embedding",
                                                                "endpoint_stt", "endpoint_tts", "project", "location",
                                                                "credentials_path", "num_ctx"}));
  ON_ASSIGN_OR_RETURN(auto name, body.String("name", kMaxNameLength));
  if (name && TrimWhitespace(*name).empty()) return InvalidInput("Credential name cannot be empty");
  ON_ASSIGN_OR_RETURN(auto api_key, ApiKeyField(body));
  if (api_key && context.cipher() == nullptr) return InvalidInput(std::string(kNoKeyMessage));

  const ai::CredentialCipher* cipher = context.cipher();
  auto updated = context.storage().UpdateCredential(id, [&](storage::Credential& credential) -> Status {
    if (name) credential.name = TrimWhitespace(*name);
    ON_RETURN_IF_ERROR(ApplyConnectionFields(body, credential));
    if (api_key) credential.api_key = cipher->Seal(*api_key, credential.id);
    return CheckProviderRequirements(credential);
  });
  if (api_key) sodium_memzero(api_key->data(), api_key->size());
  if (!updated.ok()) return updated.status();
  spdlog::info("credential {} updated{}", id, api_key ? " with a new api key" : "");
  return http::JsonResponse(CredentialJson(*updated, cipher));
}

Result<http::Response> DeleteCredential(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, CredentialIdParam(request));
  std::optional<std::string> migrate_to;
  if (auto raw = request.Query("migrate_to"); raw && !raw->empty()) {
    ON_ASSIGN_OR_RETURN(migrate_to, NormalizeId("credential", *raw, "migrate_to"));
  }
  ON_ASSIGN_OR_RETURN(auto result, context.storage().DeleteCredential(id, migrate_to));
  spdlog::info("credential {} deleted; {} models deleted, {} moved", id, result.deleted_models, result.migrated_models);
  std::string message = "Credential deleted successfully";
  if (migrate_to) message += "; " + std::to_string(result.migrated_models) + " models now use " + *migrate_to;
  return http::JsonResponse(
      {{"message", message}, {"deleted_models", result.deleted_models}, {"migrated_models", result.migrated_models}});
}

Result<http::Response> CredentialStatus(AppContext& context, http::Request&) {
  ON_ASSIGN_OR_RETURN(auto credentials, context.storage().ListCredentials(std::nullopt));
  json configured = json::object();
  json source = json::object();
  for (const ai::ProviderSpec& provider : ai::Providers()) {
    const std::string name(provider.name);
    const bool in_database = std::any_of(credentials.begin(), credentials.end(),
                                         [&](const storage::Credential& c) { return c.provider == name; });
    const bool in_environment = ai::EnvConfigured(provider, context.env);
    std::string origin = "none";
    if (in_database) {
      origin = "database";
    } else if (in_environment) {
      origin = "environment";
    }
    source[name] = origin;
    configured[name] = in_database || in_environment;
  }
  return http::JsonResponse(
      {{"configured", configured}, {"source", source}, {"encryption_configured", context.cipher() != nullptr}});
}

Result<http::Response> EnvStatus(AppContext& context, http::Request&) {
  json status = json::object();
  for (const ai::ProviderSpec& provider : ai::Providers()) {
    status[std::string(provider.name)] = ai::EnvConfigured(provider, context.env);
  }
  return http::JsonResponse(status);
}

Result<http::Response> RegisterModels(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, CredentialIdParam(request));
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"models"}));
  ON_ASSIGN_OR_RETURN(auto credential, context.storage().GetCredential(id));
  const json* list = body.Has("models") ? &body.object().at("models") : nullptr;
  if (list == nullptr || !list->is_array()) {
    return ValidationError("field 'models' must be an array of {name, provider, model_type} objects");
  }
  if (list->size() > 10000) return ValidationError("field 'models' has more than 10000 entries");

  std::vector<storage::Model> models;
  for (const json& item : *list) {
    if (!item.is_object() || !item.contains("name") || !item["name"].is_string()) {
      return ValidationError("each entry of 'models' needs a string 'name'");
    }
    storage::Model model;
    model.name = TrimWhitespace(item["name"].get<std::string>());
    if (model.name.empty() || model.name.size() > kMaxNameLength) {
      return InvalidInput("model names must be 1 to " + std::to_string(kMaxNameLength) + " characters");
    }
    model.provider = item.value("provider", credential.provider);
    model.type = item.value("model_type", std::string("language"));
    if (!IsModelType(model.type)) {
      return InvalidInput("model_type '" + model.type.substr(0, 32) + "' of model '" + model.name +
                          "' is invalid: use language, embedding, text_to_speech or speech_to_text");
    }
    models.push_back(std::move(model));
  }
  ON_ASSIGN_OR_RETURN(auto registration, context.storage().RegisterModels(id, models));
  return http::JsonResponse({{"created", registration.created}, {"existing", registration.existing}});
}

// Builds a credential from a provider's environment variables. Returns kInvalidInput when it
// cannot be stored: an API key without an encryption key, or a URL the provider check rejects.
Result<storage::Credential> CredentialFromEnv(AppContext& context, const ai::ProviderSpec& provider) {
  ai::EnvProviderSettings env = ai::ReadEnvProviderSettings(provider, context.env);
  storage::Credential credential;
  credential.id = NewId("credential");
  credential.name = "Default (Migrated from env)";
  credential.provider = std::string(provider.name);
  credential.modalities.assign(provider.modalities.begin(), provider.modalities.end());
  credential.base_url = env.base_url;
  credential.endpoint = env.endpoint;
  credential.api_version = env.api_version;
  credential.endpoint_llm = env.endpoint_llm;
  credential.endpoint_embedding = env.endpoint_embedding;
  credential.endpoint_stt = env.endpoint_stt;
  credential.endpoint_tts = env.endpoint_tts;
  credential.project = env.project;
  credential.location = env.location;
  credential.credentials_path = env.credentials_path;

  for (std::string_view field : kUrlFields) {
    const std::optional<std::string>* value = nullptr;
    if (field == "base_url") value = &credential.base_url;
    if (field == "endpoint") value = &credential.endpoint;
    if (field == "endpoint_llm") value = &credential.endpoint_llm;
    if (field == "endpoint_embedding") value = &credential.endpoint_embedding;
    if (field == "endpoint_stt") value = &credential.endpoint_stt;
    if (field == "endpoint_tts") value = &credential.endpoint_tts;
    if (value != nullptr && *value) ON_RETURN_IF_ERROR(ingest::CheckProviderUrl(field, **value));
  }

  if (env.api_key) {
    if (context.cipher() == nullptr) return InvalidInput(std::string(kNoKeyMessage));
    credential.api_key = context.cipher()->Seal(*env.api_key, credential.id);
    sodium_memzero(env.api_key->data(), env.api_key->size());
  }
  return credential;
}

Result<http::Response> MigrateFromEnv(AppContext& context, http::Request&) {
  ON_ASSIGN_OR_RETURN(auto existing, context.storage().ListCredentials(std::nullopt));
  json migrated = json::array(), skipped = json::array(), not_configured = json::array(), errors = json::array();

  for (const ai::ProviderSpec& provider : ai::Providers()) {
    const std::string name(provider.name);
    if (!ai::EnvConfigured(provider, context.env)) {
      not_configured.push_back(name);
      continue;
    }
    if (std::any_of(existing.begin(), existing.end(), [&](const storage::Credential& c) { return c.provider == name; })) {
      skipped.push_back(name);
      continue;
    }
    auto credential = CredentialFromEnv(context, provider);
    if (credential.ok()) credential = context.storage().CreateCredential(*credential);
    if (!credential.ok()) {
      spdlog::warn("migrating provider {} from environment variables failed: {}", name, credential.status().message());
      errors.push_back(name + ": " + credential.status().message());
      continue;
    }
    auto linked = context.storage().LinkUnassignedModels(name, credential->id);
    if (linked.ok()) {
      spdlog::info("credential {} created for provider {} from environment variables; {} models linked",
                   credential->id, name, *linked);
    } else {
      spdlog::warn("linking models of {} to {} failed: {}", name, credential->id, linked.status().message());
    }
    migrated.push_back(name);
  }

  spdlog::info("migrated {} providers from environment variables to credentials", migrated.size());
  return http::JsonResponse({{"message", "Migrated " + std::to_string(migrated.size()) +
                                             " providers from environment variables to credentials"},
                             {"migrated", migrated},
                             {"skipped", skipped},
                             {"not_configured", not_configured},
                             {"errors", errors}});
}

Result<http::Response> ListProviders(AppContext& context, http::Request&) {
  json list = json::array();
  for (const ai::ProviderSpec& provider : ai::Providers()) {
    json modalities = json::array();
    for (std::string_view modality : provider.modalities) modalities.push_back(modality);
    list.push_back({{"name", provider.name},
                    {"display_name", provider.display_name},
                    {"modalities", modalities},
                    {"docs_url", provider.docs_url.empty() ? json(nullptr) : json(provider.docs_url)},
                    {"env_configured", ai::EnvConfigured(provider, context.env)}});
  }
  return http::JsonResponse(list);
}

}  // namespace

void RegisterCredentialRoutes(http::Router& router, AppContext& context) {
  // Literal paths first: the router takes the first pattern that matches.
  router.Add("GET", "/api/providers", Bind(context, ListProviders));
  router.Add("GET", "/api/credentials/status", Bind(context, CredentialStatus));
  router.Add("GET", "/api/credentials/env-status", Bind(context, EnvStatus));
  router.Add("POST", "/api/credentials/migrate-from-env", Bind(context, MigrateFromEnv));
  router.Add("GET", "/api/credentials/by-provider/{provider}", Bind(context, ListCredentialsByProvider));
  router.Add("GET", "/api/credentials", Bind(context, ListCredentials));
  router.Add("POST", "/api/credentials", Bind(context, CreateCredential));
  router.Add("GET", "/api/credentials/{credential_id}", Bind(context, GetCredential));
  router.Add("PUT", "/api/credentials/{credential_id}", Bind(context, UpdateCredential));
  router.Add("DELETE", "/api/credentials/{credential_id}", Bind(context, DeleteCredential));
  router.Add("POST", "/api/credentials/{credential_id}/register-models", Bind(context, RegisterModels));
}

}  // namespace on::api
