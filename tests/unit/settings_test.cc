#include "core/settings.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "support/temp_dir.h"

namespace on {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> values) {
  return [values](std::string_view name) -> std::optional<std::string> {
    auto found = values.find(std::string(name));
    if (found == values.end()) return std::nullopt;
    return found->second;
  };
}

TEST(Settings, EverySettingIsDocumented) {
  for (const auto& spec : SettingSpecs()) {
    EXPECT_FALSE(spec.description.empty()) << spec.env;
    EXPECT_FALSE(spec.env.empty()) << spec.member;
    EXPECT_NE(SettingsHelpText().find(std::string(spec.env)), std::string::npos) << spec.env;
  }
}

TEST(Settings, DefaultsMatchTable) {
  auto settings = Settings::Load(FakeEnv({}));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->api_port, 5055);
  EXPECT_EQ(settings->api_host, "127.0.0.1");
  EXPECT_EQ(settings->max_upload_size_mb, 100);
  EXPECT_EQ(settings->data_dir, "./data");
  EXPECT_FALSE(settings->allow_no_auth);
}

TEST(Settings, EnvironmentOverridesDefaults) {
  auto settings = Settings::Load(FakeEnv({{"API_PORT", "6000"}, {"OPEN_NOTEBOOK_ALLOW_NO_AUTH", "true"}}));
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->api_port, 6000);
  EXPECT_TRUE(settings->allow_no_auth);
}

TEST(Settings, InvalidValueNamesVariable) {
  auto settings = Settings::Load(FakeEnv({{"OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB", "-3"}}));
  ASSERT_FALSE(settings.ok());
  EXPECT_NE(settings.status().message().find("OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB='-3'"), std::string::npos);
  EXPECT_NE(settings.status().message().find("from 1 to"), std::string::npos);
}

TEST(Settings, ChoiceIsEnforced) {
  auto settings = Settings::Load(FakeEnv({{"OPEN_NOTEBOOK_LOG_FORMAT", "xml"}}));
  ASSERT_FALSE(settings.ok());
  EXPECT_NE(settings.status().message().find("text|json"), std::string::npos);
}

TEST(Settings, PublicValuesHideSecrets) {
  auto settings = Settings::Load(FakeEnv({{"OPEN_NOTEBOOK_PASSWORD", "hunter2"}}));
  ASSERT_TRUE(settings.ok());
  const std::string shown = settings->PublicValues().dump();
  EXPECT_EQ(shown.find("hunter2"), std::string::npos);
  EXPECT_EQ(settings->PublicValues()["API_PORT"], 5055);
}

TEST(Settings, PasswordFromFile) {
  test::TempDir dir;
  const auto path = dir.path() / "password";
  std::ofstream(path) << "from-file\n";
  auto settings = Settings::Load(FakeEnv({{"OPEN_NOTEBOOK_PASSWORD_FILE", path.string()}}));
  ASSERT_TRUE(settings.ok());
  auto password = settings->ResolvePassword();
  ASSERT_TRUE(password.ok());
  EXPECT_EQ(*password, "from-file");
}

TEST(Settings, MissingPasswordFileIsError) {
  auto settings = Settings::Load(FakeEnv({{"OPEN_NOTEBOOK_PASSWORD_FILE", "/nonexistent/password"}}));
  ASSERT_TRUE(settings.ok());
  EXPECT_FALSE(settings->ResolvePassword().ok());
}

TEST(Settings, SetByEnvironmentName) {
  auto settings = Settings::Load(FakeEnv({}));
  ASSERT_TRUE(settings.ok());
  EXPECT_TRUE(settings->Set("API_HOST", "0.0.0.0").ok());
  EXPECT_EQ(settings->api_host, "0.0.0.0");
  EXPECT_FALSE(settings->Set("NO_SUCH_SETTING", "1").ok());
}

}  // namespace
}  // namespace on
