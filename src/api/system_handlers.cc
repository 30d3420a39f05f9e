// GET /, /health, /api/config, /api/auth/status and /openapi.json.
#include <nlohmann/json.hpp>

#include "api/app_context.h"
#include "api/command_handlers.h"
#include "core/embedded_assets.h"

namespace on::api {
namespace {

http::Response Health(const AppContext& context) {
  if (context.ready()) return http::JsonResponse({{"status", "healthy"}});
  return http::JsonResponse({{"status", "starting"}, {"detail", context.startup_state()}}, 503);
}

http::Response Config(const AppContext& context) {
  nlohmann::json body = {
      {"version", ON_VERSION},
      // No update check: the server never calls out to the internet on its own.
      {"latestVersion", nullptr},
      {"hasUpdate", false},
      {"dbStatus", "offline"},
      {"schemaVersion", nullptr},
      {"settings", context.settings()->PublicValues()},
      // The configuration version whose runtime settings this process applies (GET /api/settings).
      {"configVersion", context.config().version()},
  };
  if (context.ready() && context.storage().Ping().ok()) {
    body["dbStatus"] = "online";
    auto schema = context.storage().GetSchemaStatus();
    if (schema.ok()) body["schemaVersion"] = schema->current_version;
  }
  body.update(JobSystemOverview(context));
  return http::JsonResponse(body);
}

http::Response AuthStatus(const AppContext& context) {
  return http::JsonResponse({{"auth_enabled", context.auth_enabled},
                             {"message", context.auth_enabled ? "Authentication is required"
                                                              : "Authentication is disabled"}});
}

http::Response OpenApi() {
  http::Response response;
  response.body = std::string(FindEmbeddedAsset("src/api/openapi.json").value_or("{}"));
  return response;
}

}  // namespace

void RegisterSystemRoutes(http::Router& router, AppContext& context) {
  router.Add("GET", "/", [](http::Request&) -> Result<http::Response> {
    return http::JsonResponse({{"message", "Open Notebook API is running"}});
  });
  router.Add("GET", "/health", [&context](http::Request&) -> Result<http::Response> { return Health(context); });
  router.Add("GET", "/api/config", [&context](http::Request&) -> Result<http::Response> { return Config(context); });
  router.Add("GET", "/api/auth/status", [&context](http::Request&) -> Result<http::Response> { return AuthStatus(context); });
  router.Add("GET", "/openapi.json", [](http::Request&) -> Result<http::Response> { return OpenApi(); });
}

}  // namespace on::api
