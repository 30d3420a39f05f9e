// GET and PUT /api/settings: the runtime settings, which every process applies within seconds.
//
// The body is a flat object of runtime settings by member name ("log_level",
// "worker_max_tasks", "default_embedding_option", ...), as in the settings table of
// core/settings.h, plus "config_version". A value of null removes the value set through the
// API, so the environment (or the default) applies again.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/app_context.h"

namespace on::api {
namespace {

std::string RuntimeSettingNames() {
  std::string names;
  for (const auto& spec : SettingSpecs()) {
    if (!(spec.flags & kRuntime)) continue;
    names += (names.empty() ? "" : ", ") + std::string(spec.member);
  }
  return names;
}

nlohmann::json SettingsJson(const AppContext& context) {
  const SettingsSnapshot settings = context.settings();
  nlohmann::json body = nlohmann::json::object();
  for (const auto& spec : SettingSpecs()) {
    if (spec.flags & kRuntime) body[std::string(spec.member)] = settings->ValueJson(spec);
  }
  body["config_version"] = context.config().version();
  return body;
}

// Turns one JSON value into the text Settings::Set parses; kInvalidInput naming the field.
Result<std::optional<std::string>> ValueText(const SettingSpec& spec, const nlohmann::json& value) {
  const std::string field(spec.member);
  if (value.is_null()) return std::optional<std::string>();
  switch (spec.type) {
    case SettingType::kInt:
      if (!value.is_number_integer()) {
        return InvalidInput("'" + field + "' must be an integer from " + std::to_string(spec.min) + " to " +
                            std::to_string(spec.max) + ", not " + value.dump().substr(0, 64));
      }
      return std::optional<std::string>(std::to_string(value.get<int64_t>()));
    case SettingType::kBool:
      if (!value.is_boolean()) return InvalidInput("'" + field + "' must be true or false, not " + value.dump().substr(0, 64));
      return std::optional<std::string>(value.get<bool>() ? "true" : "false");
    case SettingType::kString:
      break;
  }
  if (!value.is_string()) {
    return InvalidInput("'" + field + "' must be a string" +
                        (spec.choices.empty() ? std::string() : " (one of " + std::string(spec.choices) + ")") +
                        ", not " + value.dump().substr(0, 64));
  }
  return std::optional<std::string>(value.get<std::string>());
}

Result<http::Response> GetSettings(AppContext& context, http::Request&) {
  return http::JsonResponse(SettingsJson(context));
}

Result<http::Response> PutSettings(AppContext& context, http::Request& request) {
  const auto body = nlohmann::json::parse(request.body, nullptr, false);
  if (!body.is_object()) return ValidationError("the request body must be a JSON object of settings");

  std::map<std::string, std::optional<std::string>> changes;
  for (const auto& [name, value] : body.items()) {
    if (name == "config_version") continue;
    const SettingSpec* spec = FindSetting(name);
    if (spec == nullptr || spec->member != name || !(spec->flags & kRuntime)) {
      return InvalidInput("'" + name.substr(0, 64) + "' is not a setting that can be changed at run time; accepted: " +
                          RuntimeSettingNames() + ". Set the others in the environment and restart");
    }
    ON_ASSIGN_OR_RETURN(auto text, ValueText(*spec, value));
    if (text) {
      Settings probe;
      if (Status valid = probe.Set(spec->member, *text); !valid.ok()) {
        return InvalidInput("'" + name + "': " + valid.message());
      }
    }
    changes[name] = std::move(text);
  }

  // A client that sends back the version it read learns when another change came in between.
  if (body.contains("config_version") && !body["config_version"].is_null()) {
    if (!body["config_version"].is_number_integer()) return InvalidInput("'config_version' must be an integer");
    ON_ASSIGN_OR_RETURN(int64_t stored_version, context.storage().GetConfigVersion());
    if (body["config_version"].get<int64_t>() != stored_version) {
      return Status(ErrorCode::kConflict, "the settings changed since version " + body["config_version"].dump() +
                                              " was read (now version " + std::to_string(stored_version) +
                                              "); read them again with GET /api/settings and repeat the change");
    }
  }
  ON_RETURN_IF_ERROR(context.config().CheckChanges(changes));
  if (changes.empty()) return http::JsonResponse(SettingsJson(context));

  std::vector<std::pair<std::string, std::optional<std::string>>> ordered(changes.begin(), changes.end());
  ON_ASSIGN_OR_RETURN(auto stored, context.storage().SaveSettings(ordered));
  spdlog::info("runtime settings changed through the API: configuration version {}", stored.version);
  // Other processes apply it when they next poll the version; this one applies it before replying.
  context.config().ApplyStored(stored.version, stored.values);
  return http::JsonResponse(SettingsJson(context));
}

}  // namespace

void RegisterSettingsRoutes(http::Router& router, AppContext& context) {
  router.Add("GET", "/api/settings", Bind(context, GetSettings));
  router.Add("PUT", "/api/settings", Bind(context, PutSettings));
}

}  // namespace on::api
