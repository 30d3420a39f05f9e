#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "api/app_context.h"
#include "core/embedded_assets.h"

namespace on {
namespace {

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

TEST(OpenApi, DocumentsEveryRoute) {
  auto settings = Settings::Load([](std::string_view) { return std::nullopt; });
  ASSERT_TRUE(settings.ok());
  api::AppContext context(*settings);
  http::Router router;
  api::RegisterRoutes(router, context);

  auto text = FindEmbeddedAsset("src/api/openapi.json");
  ASSERT_TRUE(text.has_value());
  const auto document = nlohmann::json::parse(*text);

  std::set<std::string> registered;
  for (const auto& route : router.routes()) {
    registered.insert(route.method + " " + route.pattern);
    const auto& paths = document["paths"];
    ASSERT_TRUE(paths.contains(route.pattern)) << route.pattern << " is missing from openapi.json; run scripts/gen_openapi.py";
    EXPECT_TRUE(paths[route.pattern].contains(Lower(route.method)))
        << route.method << " " << route.pattern << " is missing from openapi.json";
  }
  for (const auto& [path, operations] : document["paths"].items()) {
    for (const auto& [method, operation] : operations.items()) {
      std::string key = method;
      for (char& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      EXPECT_TRUE(registered.count(key + " " + path)) << key << " " << path << " is documented but not served";
      EXPECT_TRUE(operation.contains("summary")) << path;
    }
  }
}

}  // namespace
}  // namespace on
