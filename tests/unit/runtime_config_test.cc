#include "core/runtime_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

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

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream file(path, std::ios::trunc);
  file << text;
}

Settings Load(const std::map<std::string, std::string>& env) {
  auto settings = Settings::Load(FakeEnv(env));
  EXPECT_TRUE(settings.ok()) << settings.status().ToString();
  return settings.ok() ? *settings : Settings{};
}

TEST(EnvFile, ParsesCommentsExportAndQuotes) {
  test::TempDir dir;
  const auto path = dir.path() / "env";
  WriteFile(path, "# comment\n\nOPEN_NOTEBOOK_LOG_LEVEL=debug\nexport API_PORT = 6000\nA=\"quoted value\"\nB='x=y'\nC=\r\n");
  auto values = ReadEnvFile(path.string());
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(values->at("OPEN_NOTEBOOK_LOG_LEVEL"), "debug");
  EXPECT_EQ(values->at("API_PORT"), "6000");
  EXPECT_EQ(values->at("A"), "quoted value");
  EXPECT_EQ(values->at("B"), "x=y");
  EXPECT_EQ(values->at("C"), "");
  EXPECT_EQ(values->size(), 5u);
}

TEST(EnvFile, BadLineNamedWithoutItsContent) {
  test::TempDir dir;
  const auto path = dir.path() / "env";
  WriteFile(path, "OK=1\nsecret-token-value\n");
  auto values = ReadEnvFile(path.string());
  ASSERT_FALSE(values.ok());
  EXPECT_EQ(values.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(values.status().message().find("line 2"), std::string::npos) << values.status().message();
  EXPECT_EQ(values.status().message().find("secret-token-value"), std::string::npos);
  EXPECT_EQ(ReadEnvFile((dir.path() / "missing").string()).status().code(), ErrorCode::kNotFound);
}

TEST(EnvFile, ProcessEnvironmentTakesPrecedence) {
  test::TempDir dir;
  const auto path = dir.path() / "env";
  WriteFile(path, "OPEN_NOTEBOOK_LOG_LEVEL=debug\nOPEN_NOTEBOOK_CHUNK_SIZE=500\nOPENAI_API_KEY=from-file\n");
  std::map<std::string, std::string> file_values;
  auto settings = LoadProcessSettings(FakeEnv({{"OPEN_NOTEBOOK_ENV_FILE", path.string()}, {"OPEN_NOTEBOOK_LOG_LEVEL", "warn"}}),
                                      &file_values);
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->log_level, "warn");
  EXPECT_EQ(settings->chunk_size, 500);
  EXPECT_EQ(file_values.at("OPENAI_API_KEY"), "from-file");
}

TEST(Settings, InconsistentCombinationRejected) {
  auto overlap = Settings::Load(FakeEnv({{"OPEN_NOTEBOOK_CHUNK_SIZE", "200"}, {"OPEN_NOTEBOOK_CHUNK_OVERLAP", "200"}}));
  ASSERT_FALSE(overlap.ok());
  EXPECT_NE(overlap.status().message().find("OPEN_NOTEBOOK_CHUNK_OVERLAP=200"), std::string::npos);
  auto waits = Settings::Load(FakeEnv({{"OPEN_NOTEBOOK_RETRY_WAIT_MIN", "40"}}));
  ASSERT_FALSE(waits.ok());
  EXPECT_NE(waits.status().message().find("OPEN_NOTEBOOK_RETRY_WAIT_MAX=30"), std::string::npos);
}

TEST(Settings, RuntimeSettingsAreReloadable) {
  int runtime = 0;
  for (const auto& spec : SettingSpecs()) {
    if (!(spec.flags & kRuntime)) continue;
    ++runtime;
    EXPECT_TRUE(spec.flags & kReloadable) << spec.env;
    EXPECT_FALSE(spec.flags & kSecret) << spec.env << ": secrets are never changed through the API";
  }
  EXPECT_GE(runtime, 6);
}

TEST(RuntimeConfig, LayersApplyInOrder) {
  RuntimeConfig config(Load({{"OPEN_NOTEBOOK_WORKER_MAX_TASKS", "3"}, {"OPEN_NOTEBOOK_LOG_LEVEL", "warn"}}),
                       {{"worker_max_tasks", "7"}}, FakeEnv({}));
  EXPECT_EQ(config.Current()->worker_max_tasks, 7) << "the command line wins";
  EXPECT_EQ(config.Current()->log_level, "warn");

  config.ApplyStored(4, {{"worker_max_tasks", "9"}, {"log_level", "debug"}});
  EXPECT_EQ(config.version(), 4);
  EXPECT_EQ(config.Current()->worker_max_tasks, 7) << "the command line still wins over stored values";
  EXPECT_EQ(config.Current()->log_level, "debug") << "stored values win over the environment";

  config.ApplyStored(5, {});
  EXPECT_EQ(config.Current()->log_level, "warn") << "a removed stored value falls back to the environment";
}

TEST(RuntimeConfig, InvalidStoredValuesIgnored) {
  RuntimeConfig config(Load({}), {}, FakeEnv({}));
  config.ApplyStored(2, {{"log_level", "loud"}, {"api_port", "80"}, {"chunk_size", "1000"}});
  EXPECT_EQ(config.Current()->log_level, "info");
  EXPECT_EQ(config.Current()->api_port, 5055) << "only runtime settings are taken from the database";
  EXPECT_EQ(config.Current()->chunk_size, 1000);

  // A combination that breaks a rule keeps the previous settings as a whole.
  config.ApplyStored(3, {{"chunk_size", "100"}, {"chunk_overlap", "300"}});
  EXPECT_EQ(config.Current()->chunk_size, 1000);
  EXPECT_EQ(config.Current()->chunk_overlap, 60);
}

TEST(RuntimeConfig, ListenersSeeEachChange) {
  RuntimeConfig config(Load({}), {}, FakeEnv({}));
  std::vector<std::pair<int64_t, int64_t>> seen;
  const int id = config.AddListener([&](const Settings& before, const Settings& after) {
    seen.emplace_back(before.worker_max_tasks, after.worker_max_tasks);
  });
  config.ApplyStored(1, {{"worker_max_tasks", "2"}});
  config.ApplyStored(2, {{"worker_max_tasks", "2"}});  // same values: no change, no call
  config.ApplyStored(3, {{"worker_max_tasks", "6"}});
  config.RemoveListener(id);
  config.ApplyStored(4, {});
  EXPECT_EQ(seen, (std::vector<std::pair<int64_t, int64_t>>{{5, 2}, {2, 6}}));
}

TEST(RuntimeConfig, CheckChangesNamesTheRule) {
  RuntimeConfig config(Load({}), {}, FakeEnv({}));
  EXPECT_TRUE(config.CheckChanges({{"chunk_size", "800"}, {"chunk_overlap", "500"}}).ok());
  Status rejected = config.CheckChanges({{"chunk_overlap", "500"}});
  EXPECT_EQ(rejected.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(rejected.message().find("OPEN_NOTEBOOK_CHUNK_SIZE=400"), std::string::npos) << rejected.message();
}

TEST(RuntimeConfig, ReloadAppliesOnlyReloadableSettings) {
  test::TempDir dir;
  const auto path = dir.path() / "env";
  WriteFile(path, "OPEN_NOTEBOOK_LOG_LEVEL=info\nAPI_PORT=6000\n");
  const auto process_env = FakeEnv({{"OPEN_NOTEBOOK_ENV_FILE", path.string()}, {"OPEN_NOTEBOOK_CHUNK_SIZE", "700"}});
  auto loaded = LoadProcessSettings(process_env, nullptr);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  RuntimeConfig config(*loaded, {}, process_env);
  EXPECT_EQ(config.Current()->api_port, 6000);

  WriteFile(path, "OPEN_NOTEBOOK_LOG_LEVEL=error\nAPI_PORT=7000\nOPEN_NOTEBOOK_CHUNK_SIZE=900\nOPEN_NOTEBOOK_URL_ALLOWLIST=127.0.0.1/32\n");
  ASSERT_TRUE(config.ReloadEnvFile().ok());
  EXPECT_EQ(config.Current()->log_level, "error");
  EXPECT_EQ(config.Current()->url_allowlist, "127.0.0.1/32");
  EXPECT_EQ(config.Current()->api_port, 6000) << "not reloadable";
  EXPECT_EQ(config.Current()->chunk_size, 700) << "the process environment keeps precedence";

  WriteFile(path, "OPEN_NOTEBOOK_LOG_LEVEL=verbose\n");
  EXPECT_EQ(config.ReloadEnvFile().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(config.Current()->log_level, "error") << "an invalid file changes nothing";
}

}  // namespace
}  // namespace on
