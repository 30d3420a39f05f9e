// Registered models and default models: /api/models...
#include <spdlog/spdlog.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "ai/model_config.h"
#include "ai/provider_registry.h"
#include "api/app_context.h"
#include "api/json_body.h"
#include "core/ids.h"

namespace on::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxModelNameLength = 200;

json ModelJson(const storage::Model& model) {
  return {{"id", model.id},
          {"name", model.name},
          {"provider", model.provider},
          {"type", model.type},
          {"credential", model.credential_id ? json(*model.credential_id) : json(nullptr)},
          {"created", model.created},
          {"updated", model.updated}};
}

json ModelListJson(const std::vector<storage::Model>& models) {
  json list = json::array();
  for (const auto& model : models) list.push_back(ModelJson(model));
  return list;
}

json DefaultsJson(const storage::DefaultModels& defaults) {
  json body = json::object();
  for (const auto& slot : defaults.slots) body[slot.slot] = slot.model_id ? json(*slot.model_id) : json(nullptr);
  return body;
}

Status CheckModelType(std::string_view type, std::string_view field) {
  for (std::string_view known : storage::kModelTypes) {
    if (known == type) return Status::Ok();
  }
  return InvalidInput(std::string(field) + " '" + std::string(type.substr(0, 32)) +
                      "' is invalid: use language, embedding, text_to_speech or speech_to_text");
}

Result<const ai::ProviderSpec*> KnownProvider(std::string_view name) {
  const ai::ProviderSpec* provider = ai::FindProvider(name);
  if (provider == nullptr) {
    return InvalidInput("provider '" + std::string(name.substr(0, 64)) +
                        "' is not supported; use one of: " + ai::ProviderNameList());
  }
  return provider;
}

Result<http::Response> ListModels(AppContext& context, http::Request& request) {
  storage::ModelQuery query;
  if (auto type = request.Query("type")) {
    ON_RETURN_IF_ERROR(CheckModelType(*type, "type"));
    query.type = std::string(*type);
  }
  ON_ASSIGN_OR_RETURN(auto models, context.storage().ListModels(query));
  return http::JsonResponse(ModelListJson(models));
}

Result<http::Response> CreateModel(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"name", "provider", "type", "credential"}));
  storage::Model model;
  ON_ASSIGN_OR_RETURN(std::string name, body.RequiredString("name", kMaxModelNameLength));
  model.name = TrimWhitespace(name);
  if (model.name.empty()) return InvalidInput("Model name cannot be empty");
  ON_ASSIGN_OR_RETURN(std::string provider, body.RequiredString("provider", 64));
  ON_ASSIGN_OR_RETURN(const ai::ProviderSpec* spec, KnownProvider(TrimWhitespace(provider)));
  model.provider = std::string(spec->name);
  ON_ASSIGN_OR_RETURN(model.type, body.RequiredString("type", 32));
  ON_RETURN_IF_ERROR(CheckModelType(model.type, "type"));
  ON_ASSIGN_OR_RETURN(auto credential, body.String("credential", 128));
  if (credential && !credential->empty()) {
    ON_ASSIGN_OR_RETURN(model.credential_id, NormalizeId("credential", *credential, "credential"));
  }
  ON_ASSIGN_OR_RETURN(auto created, context.storage().CreateModel(model));
  return http::JsonResponse(ModelJson(created));
}

Result<http::Response> DeleteModel(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("model", request.Param("model_id"), "model id"));
  ON_RETURN_IF_ERROR(context.storage().DeleteModel(id));
  return http::JsonResponse({{"message", "Model deleted successfully"}});
}

Result<http::Response> GetDefaults(AppContext& context, http::Request&) {
  ON_ASSIGN_OR_RETURN(auto defaults, ai::DefaultModels(context.storage()));
  return http::JsonResponse(DefaultsJson(defaults));
}

Result<http::Response> UpdateDefaults(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"default_chat_model", "default_transformation_model",
                                                                "large_context_model", "default_text_to_speech_model",
                                                                "default_speech_to_text_model",
                                                                "default_embedding_model", "default_tools_model"}));
  // Presence decides: an absent slot stays, null (or "") empties an optional slot.
  std::vector<std::pair<std::string, std::optional<std::string>>> changes;
  for (std::string_view slot : storage::kDefaultModelSlots) {
    if (!body.Has(slot)) continue;
    auto value = body.String(slot, 128);
    if (!value.ok()) return value.status();
    const bool clear = !value->has_value() || (*value)->empty();
    if (clear && (slot == "default_chat_model" || slot == "default_embedding_model")) {
      return InvalidInput(std::string(slot) + " is required and cannot be cleared; choose another model instead");
    }
    std::optional<std::string> model_id;
    if (!clear) {
      ON_ASSIGN_OR_RETURN(model_id, NormalizeId("model", **value, slot));
    }
    changes.emplace_back(std::string(slot), std::move(model_id));
  }
  ON_ASSIGN_OR_RETURN(auto defaults, context.storage().SetDefaultModels(changes));
  return http::JsonResponse(DefaultsJson(defaults));
}

Result<http::Response> ModelProviders(AppContext& context, http::Request&) {
  ON_ASSIGN_OR_RETURN(auto credentials, context.storage().ListCredentials(std::nullopt));
  json available = json::array(), unavailable = json::array(), supported_types = json::object();
  for (const ai::ProviderSpec& provider : ai::Providers()) {
    const std::string name(provider.name);
    const bool configured = ai::EnvConfigured(provider, context.env) ||
                            std::any_of(credentials.begin(), credentials.end(),
                                        [&](const storage::Credential& c) { return c.provider == name; });
    if (!configured) {
      unavailable.push_back(name);
      continue;
    }
    available.push_back(name);
    json types = json::array();
    for (std::string_view modality : provider.modalities) types.push_back(modality);
    supported_types[name] = types;
  }
  return http::JsonResponse({{"available", available}, {"unavailable", unavailable}, {"supported_types", supported_types}});
}

Result<http::Response> CountByProvider(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(const ai::ProviderSpec* provider, KnownProvider(request.Param("provider")));
  storage::ModelQuery query;
  query.provider = std::string(provider->name);
  ON_ASSIGN_OR_RETURN(auto models, context.storage().ListModels(query));
  json counts = json::object();
  for (std::string_view type : storage::kModelTypes) counts[std::string(type)] = 0;
  for (const auto& model : models) counts[model.type] = counts[model.type].get<int64_t>() + 1;
  return http::JsonResponse({{"provider", provider->name}, {"counts", counts}, {"total", models.size()}});
}

Result<http::Response> ListByProvider(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(const ai::ProviderSpec* provider, KnownProvider(request.Param("provider")));
  storage::ModelQuery query;
  query.provider = std::string(provider->name);
  ON_ASSIGN_OR_RETURN(auto models, context.storage().ListModels(query));
  return http::JsonResponse(ModelListJson(models));
}

// Providers tried first when choosing default models automatically: the hosted APIs most users
// configure, then local servers, then the rest.
constexpr std::string_view kAutoAssignProviderOrder[] = {
    "openai", "anthropic", "google", "mistral", "groq", "deepseek", "xai", "openrouter", "ollama",
    "azure", "openai_compatible", "dashscope", "minimax"};

// Name fragments preferred within a provider, best first: general chat models for the chat slot,
// dedicated embedding models for the embedding slot.
constexpr std::string_view kLanguagePreferences[] = {"gpt-4o-mini", "gpt-4o", "gpt-4", "claude", "gemini",
                                                     "mistral", "llama", "qwen", "chat"};
constexpr std::string_view kEmbeddingPreferences[] = {"text-embedding-3-small", "text-embedding", "embed"};

size_t RankOf(std::span<const std::string_view> ordered, std::string_view text, bool substring) {
  for (size_t i = 0; i < ordered.size(); ++i) {
    if (substring ? text.find(ordered[i]) != std::string_view::npos : text == ordered[i]) return i;
  }
  return ordered.size();
}

std::string Lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

const storage::Model* ChooseModel(const std::vector<storage::Model>& models, std::span<const std::string_view> preferences) {
  const storage::Model* best = nullptr;
  auto key = [&](const storage::Model& model) {
    const std::string name = Lowercase(model.name);
    return std::make_tuple(RankOf(kAutoAssignProviderOrder, model.provider, false), model.provider,
                           RankOf(preferences, name, true), name);
  };
  for (const auto& model : models) {
    if (best == nullptr || key(model) < key(*best)) best = &model;
  }
  return best;
}

Result<http::Response> AutoAssign(AppContext& context, http::Request&) {
  ON_ASSIGN_OR_RETURN(auto defaults, context.storage().GetDefaultModels());
  struct Target {
    std::string_view slot;
    std::string_view type;
    std::span<const std::string_view> preferences;
  };
  const Target targets[] = {{"default_chat_model", "language", kLanguagePreferences},
                            {"default_embedding_model", "embedding", kEmbeddingPreferences}};

  json assigned = json::object(), skipped = json::array(), missing = json::array();
  std::vector<std::pair<std::string, std::optional<std::string>>> changes;
  for (const Target& target : targets) {
    if (defaults.ModelId(target.slot)) {
      skipped.push_back(target.slot);
      continue;
    }
    storage::ModelQuery query;
    query.type = std::string(target.type);
    ON_ASSIGN_OR_RETURN(auto models, context.storage().ListModels(query));
    const storage::Model* chosen = ChooseModel(models, target.preferences);
    if (chosen == nullptr) {
      missing.push_back(target.slot);
      continue;
    }
    assigned[std::string(target.slot)] = chosen->id;
    changes.emplace_back(std::string(target.slot), chosen->id);
  }
  if (!changes.empty()) {
    ON_RETURN_IF_ERROR(context.storage().SetDefaultModels(changes).status());
    spdlog::info("default models assigned automatically: {}", assigned.dump());
  }
  return http::JsonResponse({{"assigned", assigned}, {"skipped", skipped}, {"missing", missing}});
}

}  // namespace

void RegisterModelRoutes(http::Router& router, AppContext& context) {
  // Literal paths first: the router takes the first pattern that matches.
  router.Add("GET", "/api/models/defaults", Bind(context, GetDefaults));
  router.Add("PUT", "/api/models/defaults", Bind(context, UpdateDefaults));
  router.Add("GET", "/api/models/providers", Bind(context, ModelProviders));
  router.Add("POST", "/api/models/auto-assign", Bind(context, AutoAssign));
  router.Add("GET", "/api/models/count/{provider}", Bind(context, CountByProvider));
  router.Add("GET", "/api/models/by-provider/{provider}", Bind(context, ListByProvider));
  router.Add("GET", "/api/models", Bind(context, ListModels));
  router.Add("POST", "/api/models", Bind(context, CreateModel));
  router.Add("DELETE", "/api/models/{model_id}", Bind(context, DeleteModel));
}

}  // namespace on::api
