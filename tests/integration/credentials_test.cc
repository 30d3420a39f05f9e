// Credentials, models, default models and key rotation over HTTP and the CLI, against the real
// binary. API keys must never appear in a response body or in the server's log.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "support/server_process.h"
#include "support/temp_dir.h"

namespace on {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kApiKey = "sk-live-SECRET-7f3a9c1e5b";
constexpr const char* kOtherApiKey = "sk-live-OTHER-0d8e2b4f6a";

bool Contains(const json& array, const std::string& value) {
  return std::find(array.begin(), array.end(), value) != array.end();
}

class CredentialsTest : public ::testing::Test {
 protected:
  void TearDown() override { StopServer(); }

  void StartServer(std::map<std::string, std::string> env) {
    StopServer();
    server_ = std::make_unique<test::ServerProcess>(dir_.path() / "data", std::move(env));
    const bool started = server_->Start();
    client_ = std::make_unique<test::HttpClient>(server_->Client());  // valid even when the start failed
    ASSERT_TRUE(started) << server_->log();
  }

  void StopServer() {
    if (!server_) return;
    EXPECT_EQ(server_->Stop(), 0) << server_->log();
    logs_ += server_->log();
    server_.reset();
  }

  // Runs `open-notebook credentials rotate-key ...`; returns the exit code and its output.
  std::pair<int, std::string> RotateKey(std::map<std::string, std::string> env, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"credentials", "rotate-key"};
    args.insert(args.end(), extra.begin(), extra.end());
    test::ServerProcess command(dir_.path() / "data", std::move(env), args);
    command.Spawn();
    const int code = command.WaitExit(30s);
    logs_ += command.log();
    return {code, command.log()};
  }

  // Checks that no response body seen so far carries an API key, then returns `result`.
  test::HttpResult Checked(test::HttpResult result) {
    EXPECT_EQ(result.body.find(kApiKey), std::string::npos) << result.body;
    EXPECT_EQ(result.body.find(kOtherApiKey), std::string::npos) << result.body;
    EXPECT_EQ(result.body.find("\"api_key\":"), std::string::npos) << "no api_key field: " << result.body;
    return result;
  }

  test::HttpResult Get(const std::string& target) { return Checked(client_->Get(target)); }
  test::HttpResult Post(const std::string& target, const json& body) { return Checked(client_->Post(target, body)); }
  test::HttpResult Put(const std::string& target, const json& body) { return Checked(client_->Put(target, body)); }
  test::HttpResult Delete(const std::string& target) { return Checked(client_->Delete(target)); }

  json CreateModel(const std::string& name, const std::string& provider, const std::string& type,
                   const json& credential = nullptr) {
    json body = {{"name", name}, {"provider", provider}, {"type", type}};
    if (!credential.is_null()) body["credential"] = credential;
    auto created = Post("/api/models", body);
    EXPECT_EQ(created.status, 200) << created.body;
    return created.Json();
  }

  void ExpectKeysNeverLogged() {
    StopServer();
    ASSERT_NE(logs_.find("credential credential:"), std::string::npos) << "the server log was not captured";
    EXPECT_EQ(logs_.find(kApiKey), std::string::npos) << "the API key was logged";
    EXPECT_EQ(logs_.find(kOtherApiKey), std::string::npos) << "the API key was logged";
  }

  test::TempDir dir_;
  std::unique_ptr<test::ServerProcess> server_;
  std::unique_ptr<test::HttpClient> client_;
  std::string logs_;
};

TEST_F(CredentialsTest, ApiKeyRequiresEncryptionKey) {
  StartServer({});
  auto refused = Post("/api/credentials", {{"name", "OpenAI"}, {"provider", "openai"}, {"api_key", kApiKey}});
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.Json()["detail"].get<std::string>().find("OPEN_NOTEBOOK_ENCRYPTION_KEY"), std::string::npos);
  EXPECT_EQ(Get("/api/credentials").Json().size(), 0u) << "nothing is stored in plaintext";

  // A credential without a key (local Ollama) needs no encryption key.
  auto local = Post("/api/credentials", {{"name", "Local"}, {"provider", "ollama"}, {"base_url", "http://127.0.0.1:11434"}});
  ASSERT_EQ(local.status, 201) << local.body;
  EXPECT_EQ(local.Json()["has_api_key"], false);

  auto status = Get("/api/credentials/status");
  ASSERT_EQ(status.status, 200);
  EXPECT_EQ(status.Json()["encryption_configured"], false);
  EXPECT_EQ(status.Json()["source"]["ollama"], "database");

  auto update = Put("/api/credentials/" + local.Json()["id"].get<std::string>(), {{"api_key", kApiKey}});
  EXPECT_EQ(update.status, 400) << update.body;
  ExpectKeysNeverLogged();
}

TEST_F(CredentialsTest, CredentialLifecycle) {
  // The most verbose log level, so the check below covers every log line the server can write.
  StartServer({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "first key"}, {"OPEN_NOTEBOOK_LOG_LEVEL", "trace"}});
  auto created = Post("/api/credentials", {{"name", "  Work OpenAI "},
                                           {"provider", "openai"},
                                           {"api_key", kApiKey},
                                           {"base_url", "https://api.openai.com/v1"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const json credential = created.Json();
  const std::string id = credential["id"];
  EXPECT_EQ(id.rfind("credential:", 0), 0u);
  EXPECT_EQ(credential["name"], "Work OpenAI");
  EXPECT_EQ(credential["has_api_key"], true);
  EXPECT_TRUE(credential["decryption_error"].is_null());
  EXPECT_EQ(credential["modalities"].size(), 4u) << "defaults to the provider's modalities";
  EXPECT_EQ(credential["model_count"], 0);

  auto listed = Get("/api/credentials");
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.Json().size(), 1u);
  EXPECT_EQ(Get("/api/credentials?provider=openai").Json().size(), 1u);
  EXPECT_EQ(Get("/api/credentials?provider=anthropic").Json().size(), 0u);
  EXPECT_EQ(Get("/api/credentials?provider=nope").status, 422);
  EXPECT_EQ(Get("/api/credentials/by-provider/openai").Json().size(), 1u);
  EXPECT_EQ(Get("/api/credentials/" + id).Json()["base_url"], "https://api.openai.com/v1");
  EXPECT_EQ(Get("/api/credentials/credential:missing").status, 404);

  // Presence-based update: absent fields stay, null clears, a sent key replaces.
  auto renamed = Put("/api/credentials/" + id, {{"name", "Renamed"}, {"num_ctx", 8192}});
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(renamed.Json()["name"], "Renamed");
  EXPECT_EQ(renamed.Json()["base_url"], "https://api.openai.com/v1");
  EXPECT_EQ(renamed.Json()["num_ctx"], 8192);
  EXPECT_EQ(renamed.Json()["has_api_key"], true);

  auto cleared = Put("/api/credentials/" + id, {{"base_url", nullptr}, {"num_ctx", nullptr}, {"api_key", ""}});
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_TRUE(cleared.Json()["base_url"].is_null());
  EXPECT_TRUE(cleared.Json()["num_ctx"].is_null());
  EXPECT_EQ(cleared.Json()["has_api_key"], true) << "an empty api_key keeps the stored key";

  auto modalities = Put("/api/credentials/" + id, {{"modalities", {"embedding", "language", "embedding"}}});
  ASSERT_EQ(modalities.status, 200) << modalities.body;
  EXPECT_EQ(modalities.Json()["modalities"], json({"embedding", "language"}));
  auto default_modalities = Put("/api/credentials/" + id, {{"modalities", json::array()}});
  EXPECT_EQ(default_modalities.Json()["modalities"].size(), 4u) << "an empty list means the provider's defaults";

  auto rekeyed = Put("/api/credentials/" + id, {{"api_key", kOtherApiKey}});
  ASSERT_EQ(rekeyed.status, 200) << rekeyed.body;
  EXPECT_TRUE(rekeyed.Json()["decryption_error"].is_null());
  EXPECT_EQ(Put("/api/credentials/" + id, {{"provider", "anthropic"}}).status, 422);
  EXPECT_EQ(Put("/api/credentials/" + id, {{"name", " "}}).status, 400);

  auto deleted = Delete("/api/credentials/" + id);
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.Json()["deleted_models"], 0);
  EXPECT_EQ(Get("/api/credentials/" + id).status, 404);
  ExpectKeysNeverLogged();
}

TEST_F(CredentialsTest, CredentialValidation) {
  StartServer({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "k"}});
  EXPECT_EQ(Post("/api/credentials", {{"name", "x"}, {"provider", "not-a-provider"}}).status, 422);
  EXPECT_EQ(Post("/api/credentials", {{"name", ""}, {"provider", "openai"}}).status, 400);
  EXPECT_EQ(Post("/api/credentials", {{"provider", "openai"}}).status, 422);
  EXPECT_EQ(Post("/api/credentials", {{"name", "x"}, {"provider", "openai"}, {"modalities", {"video"}}}).status, 400);
  EXPECT_EQ(Post("/api/credentials", {{"name", "x"}, {"provider", "ollama"}, {"num_ctx", 0}}).status, 422);
  EXPECT_EQ(Post("/api/credentials", {{"name", "x"}, {"provider", "anthropic_compatible"}, {"api_key", kApiKey}}).status,
            400);

  // Provider URLs may be local, but never link-local, metadata or another scheme.
  for (const char* url : {"http://169.254.169.254/latest/meta-data", "http://metadata.google.internal/",
                          "file:///etc/passwd", "http://[fe80::1]:11434"}) {
    auto refused = Post("/api/credentials", {{"name", "x"}, {"provider", "ollama"}, {"base_url", url}});
    EXPECT_EQ(refused.status, 400) << url << ": " << refused.body;
  }
  auto azure = Post("/api/credentials", {{"name", "x"}, {"provider", "azure"}, {"endpoint_llm", "http://169.254.169.254/"}});
  EXPECT_EQ(azure.status, 400) << azure.body;
  for (const char* url : {"http://127.0.0.1:11434", "http://192.168.0.10:1234/v1", "http://localhost:8080"}) {
    auto allowed = Post("/api/credentials", {{"name", "local"}, {"provider", "openai_compatible"}, {"base_url", url}});
    EXPECT_EQ(allowed.status, 201) << url << ": " << allowed.body;
  }
}

TEST_F(CredentialsTest, DeleteCascadesOrMigratesModels) {
  StartServer({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "k"}});
  const std::string first = Post("/api/credentials", {{"name", "A"}, {"provider", "ollama"}, {"base_url", "http://127.0.0.1:1"}}).Json()["id"];
  const std::string second = Post("/api/credentials", {{"name", "B"}, {"provider", "ollama"}, {"base_url", "http://127.0.0.1:2"}}).Json()["id"];
  const std::string other = Post("/api/credentials", {{"name", "C"}, {"provider", "openai"}, {"api_key", kApiKey}}).Json()["id"];
  const json chat = CreateModel("llama3.2", "ollama", "language", first);
  CreateModel("nomic-embed-text", "ollama", "embedding", first);
  ASSERT_EQ(Put("/api/models/defaults", {{"default_chat_model", chat["id"]}}).status, 200);
  EXPECT_EQ(Get("/api/credentials/" + first).Json()["model_count"], 2);

  // migrate_to must be another credential of the same provider.
  EXPECT_EQ(Delete("/api/credentials/" + first + "?migrate_to=" + other).status, 400);
  EXPECT_EQ(Delete("/api/credentials/" + first + "?migrate_to=credential:missing").status, 404);

  auto migrated = Delete("/api/credentials/" + first + "?migrate_to=" + second);
  ASSERT_EQ(migrated.status, 200) << migrated.body;
  EXPECT_EQ(migrated.Json()["deleted_models"], 0);
  EXPECT_EQ(migrated.Json()["migrated_models"], 2);
  EXPECT_EQ(Get("/api/credentials/" + second).Json()["model_count"], 2);
  EXPECT_EQ(Get("/api/models/defaults").Json()["default_chat_model"], chat["id"]);

  auto cascaded = Delete("/api/credentials/" + second);
  ASSERT_EQ(cascaded.status, 200) << cascaded.body;
  EXPECT_EQ(cascaded.Json()["deleted_models"], 2);
  EXPECT_EQ(Get("/api/models").Json().size(), 0u);
  EXPECT_TRUE(Get("/api/models/defaults").Json()["default_chat_model"].is_null())
      << "a deleted model leaves no dangling default";

  // Re-adding the provider and its models works after the cascade.
  const std::string again = Post("/api/credentials", {{"name", "A"}, {"provider", "ollama"}, {"base_url", "http://127.0.0.1:1"}}).Json()["id"];
  CreateModel("llama3.2", "ollama", "language", again);
  ExpectKeysNeverLogged();
}

TEST_F(CredentialsTest, ModelLifecycle) {
  StartServer({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "k"}});
  const json gpt = CreateModel("gpt-4o-mini", "openai", "language");
  EXPECT_EQ(gpt["id"].get<std::string>().rfind("model:", 0), 0u);
  EXPECT_TRUE(gpt["credential"].is_null());
  CreateModel("text-embedding-3-small", "openai", "embedding");
  CreateModel("llama3.2", "ollama", "language");

  auto duplicate = Post("/api/models", {{"name", "GPT-4o-MINI"}, {"provider", "openai"}, {"type", "language"}});
  EXPECT_EQ(duplicate.status, 400) << duplicate.body;
  EXPECT_NE(duplicate.Json()["detail"].get<std::string>().find("already exists"), std::string::npos);
  EXPECT_EQ(Post("/api/models", {{"name", "x"}, {"provider", "openai"}, {"type", "vision"}}).status, 400);
  EXPECT_EQ(Post("/api/models", {{"name", "x"}, {"provider", "nope"}, {"type", "language"}}).status, 400);
  EXPECT_EQ(Post("/api/models", {{"name", "x"}, {"provider", "openai"}, {"type", "language"}, {"credential", "credential:missing"}}).status, 404);

  EXPECT_EQ(Get("/api/models").Json().size(), 3u);
  EXPECT_EQ(Get("/api/models?type=language").Json().size(), 2u);
  EXPECT_EQ(Get("/api/models?type=bogus").status, 400);
  auto by_provider = Get("/api/models/by-provider/openai");
  ASSERT_EQ(by_provider.Json().size(), 2u);
  EXPECT_EQ(by_provider.Json()[0]["type"], "embedding") << "ordered by type, then name";

  auto counts = Get("/api/models/count/openai");
  ASSERT_EQ(counts.status, 200);
  EXPECT_EQ(counts.Json()["counts"]["language"], 1);
  EXPECT_EQ(counts.Json()["counts"]["embedding"], 1);
  EXPECT_EQ(counts.Json()["counts"]["text_to_speech"], 0);
  EXPECT_EQ(counts.Json()["total"], 2);

  ASSERT_EQ(Delete("/api/models/" + gpt["id"].get<std::string>()).status, 200);
  EXPECT_EQ(Delete("/api/models/" + gpt["id"].get<std::string>()).status, 404);
  EXPECT_EQ(Get("/api/models").Json().size(), 2u);
}

TEST_F(CredentialsTest, DefaultsArePresenceBased) {
  StartServer({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "k"}});
  const json chat = CreateModel("gpt-4o", "openai", "language");
  const json small = CreateModel("gpt-4o-mini", "openai", "language");
  const json embedding = CreateModel("text-embedding-3-small", "openai", "embedding");

  auto empty = Get("/api/models/defaults");
  ASSERT_EQ(empty.status, 200);
  EXPECT_EQ(empty.Json().size(), 7u);
  EXPECT_TRUE(empty.Json()["default_chat_model"].is_null());

  auto set = Put("/api/models/defaults", {{"default_chat_model", chat["id"]},
                                          {"default_embedding_model", embedding["id"]},
                                          {"default_transformation_model", small["id"]}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.Json()["default_chat_model"], chat["id"]);

  // Absent slots stay as they are; null clears an optional slot.
  auto partial = Put("/api/models/defaults", {{"default_transformation_model", nullptr}});
  ASSERT_EQ(partial.status, 200) << partial.body;
  EXPECT_TRUE(partial.Json()["default_transformation_model"].is_null());
  EXPECT_EQ(partial.Json()["default_chat_model"], chat["id"]);
  EXPECT_EQ(partial.Json()["default_embedding_model"], embedding["id"]);

  for (const char* slot : {"default_chat_model", "default_embedding_model"}) {
    auto refused = Put("/api/models/defaults", {{slot, nullptr}});
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_NE(refused.Json()["detail"].get<std::string>().find("required and cannot be cleared"), std::string::npos);
  }
  EXPECT_EQ(Put("/api/models/defaults", {{"default_chat_model", embedding["id"]}}).status, 400) << "wrong model type";
  EXPECT_EQ(Put("/api/models/defaults", {{"default_chat_model", "model:missing"}}).status, 404);
  EXPECT_EQ(Put("/api/models/defaults", {{"default_video_model", nullptr}}).status, 422);
  EXPECT_EQ(Get("/api/models/defaults").Json()["default_chat_model"], chat["id"]) << "failed updates change nothing";
}

TEST_F(CredentialsTest, AutoAssignFollowsProviderPriority) {
  StartServer({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "k"}});
  auto nothing = Post("/api/models/auto-assign", json::object());
  ASSERT_EQ(nothing.status, 200) << nothing.body;
  EXPECT_EQ(nothing.Json()["missing"].size(), 2u);
  EXPECT_EQ(nothing.Json()["assigned"].size(), 0u);

  CreateModel("llama3.2", "ollama", "language");
  const json claude = CreateModel("claude-3-5-haiku-latest", "anthropic", "language");
  CreateModel("mxbai-embed-large", "ollama", "embedding");
  const json mistral_embed = CreateModel("mistral-embed", "mistral", "embedding");

  auto assigned = Post("/api/models/auto-assign", json::object());
  ASSERT_EQ(assigned.status, 200) << assigned.body;
  EXPECT_EQ(assigned.Json()["assigned"]["default_chat_model"], claude["id"]) << "anthropic ranks above ollama";
  EXPECT_EQ(assigned.Json()["assigned"]["default_embedding_model"], mistral_embed["id"]) << "mistral ranks above ollama";
  EXPECT_EQ(Get("/api/models/defaults").Json()["default_chat_model"], claude["id"]);

  // Filled slots are skipped, never overwritten.
  CreateModel("gpt-4o-mini", "openai", "language");
  auto again = Post("/api/models/auto-assign", json::object());
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.Json()["skipped"].size(), 2u);
  EXPECT_EQ(Get("/api/models/defaults").Json()["default_chat_model"], claude["id"]);
}

TEST_F(CredentialsTest, ProvidersAndEnvironment) {
  StartServer({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "k"},
               {"OPENAI_API_KEY", kApiKey},
               {"OLLAMA_API_BASE", "http://127.0.0.1:11434"},
               {"OPENAI_COMPATIBLE_BASE_URL", "http://169.254.169.254/v1"}});
  auto providers = Get("/api/providers");
  ASSERT_EQ(providers.status, 200);
  ASSERT_EQ(providers.Json().size(), 22u);
  EXPECT_EQ(providers.Json()[0]["name"], "openai");
  EXPECT_EQ(providers.Json()[0]["env_configured"], true);
  EXPECT_EQ(providers.Json()[1]["env_configured"], false);

  auto env_status = Get("/api/credentials/env-status");
  EXPECT_EQ(env_status.Json()["openai"], true);
  EXPECT_EQ(env_status.Json()["ollama"], true);
  EXPECT_EQ(env_status.Json()["anthropic"], false);

  auto available = Get("/api/models/providers");
  ASSERT_EQ(available.status, 200);
  const json model_providers = available.Json();
  EXPECT_TRUE(Contains(model_providers["available"], "openai"));
  EXPECT_TRUE(Contains(model_providers["unavailable"], "anthropic"));
  EXPECT_TRUE(model_providers["supported_types"].contains("ollama"));
  EXPECT_FALSE(model_providers["supported_types"].contains("anthropic"));

  CreateModel("llama3.2", "ollama", "language");
  auto migrated = Post("/api/credentials/migrate-from-env", json::object());
  ASSERT_EQ(migrated.status, 200) << migrated.body;
  const json result = migrated.Json();
  EXPECT_EQ(result["migrated"], json({"openai", "ollama"}));
  EXPECT_EQ(result["errors"].size(), 1u) << "the metadata URL of openai_compatible is refused";
  EXPECT_TRUE(Contains(result["not_configured"], "anthropic"));

  auto status = Get("/api/credentials/status");
  EXPECT_EQ(status.Json()["source"]["openai"], "database");
  EXPECT_EQ(status.Json()["source"]["anthropic"], "none");
  EXPECT_EQ(status.Json()["encryption_configured"], true);

  auto openai = Get("/api/credentials/by-provider/openai").Json();
  ASSERT_EQ(openai.size(), 1u);
  EXPECT_EQ(openai[0]["name"], "Default (Migrated from env)");
  EXPECT_EQ(openai[0]["has_api_key"], true);
  EXPECT_TRUE(openai[0]["decryption_error"].is_null());
  auto ollama = Get("/api/credentials/by-provider/ollama").Json();
  ASSERT_EQ(ollama.size(), 1u);
  EXPECT_EQ(ollama[0]["base_url"], "http://127.0.0.1:11434");
  EXPECT_EQ(ollama[0]["model_count"], 1) << "unassigned models are linked to the migrated credential";

  auto second = Post("/api/credentials/migrate-from-env", json::object());
  EXPECT_EQ(second.Json()["migrated"].size(), 0u);
  EXPECT_EQ(second.Json()["skipped"], json({"openai", "ollama"}));
  ExpectKeysNeverLogged();
}

TEST_F(CredentialsTest, RegisterModels) {
  StartServer({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "k"}});
  const std::string id = Post("/api/credentials", {{"name", "Local"}, {"provider", "ollama"}, {"base_url", "http://127.0.0.1:11434"}}).Json()["id"];
  CreateModel("Llama3.2", "ollama", "language");
  json models = json::array({{{"name", "llama3.2"}, {"provider", "ollama"}, {"model_type", "language"}},
                             {{"name", "nomic-embed-text"}, {"provider", "ollama"}, {"model_type", "embedding"}},
                             {{"name", "qwen2.5"}, {"provider", "ollama"}, {"model_type", "language"}}});
  auto registered = Post("/api/credentials/" + id + "/register-models", {{"models", models}});
  ASSERT_EQ(registered.status, 200) << registered.body;
  EXPECT_EQ(registered.Json()["created"], 2);
  EXPECT_EQ(registered.Json()["existing"], 1);
  EXPECT_EQ(Get("/api/credentials/" + id).Json()["model_count"], 2);

  auto again = Post("/api/credentials/" + id + "/register-models", {{"models", models}});
  EXPECT_EQ(again.Json()["created"], 0);
  EXPECT_EQ(again.Json()["existing"], 3);

  json wrong_provider = json::array({{{"name", "gpt-4o"}, {"provider", "openai"}, {"model_type", "language"}}});
  EXPECT_EQ(Post("/api/credentials/" + id + "/register-models", {{"models", wrong_provider}}).status, 400);
  json bad_type = json::array({{{"name", "x"}, {"provider", "ollama"}, {"model_type", "vision"}}});
  EXPECT_EQ(Post("/api/credentials/" + id + "/register-models", {{"models", bad_type}}).status, 400);
  EXPECT_EQ(Post("/api/credentials/credential:missing/register-models", {{"models", models}}).status, 404);
}

TEST_F(CredentialsTest, UndecryptableRowIsListed) {
  StartServer({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "first key"}});
  const std::string id = Post("/api/credentials", {{"name", "OpenAI"}, {"provider", "openai"}, {"api_key", kApiKey}}).Json()["id"];
  CreateModel("gpt-4o", "openai", "language", id);

  for (const auto& env : std::vector<std::map<std::string, std::string>>{{{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "another key"}}, {}}) {
    StartServer(env);
    auto listed = Get("/api/credentials");
    ASSERT_EQ(listed.status, 200) << listed.body;
    ASSERT_EQ(listed.Json().size(), 1u);
    EXPECT_EQ(listed.Json()[0]["has_api_key"], true);
    ASSERT_TRUE(listed.Json()[0]["decryption_error"].is_string()) << listed.body;
    EXPECT_EQ(Get("/api/credentials/" + id).status, 200);
    EXPECT_EQ(Get("/api/credentials/status").status, 200);
  }

  // The user can re-enter the key under the current encryption key, or delete the row.
  StartServer({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "another key"}});
  auto fixed = Put("/api/credentials/" + id, {{"api_key", kOtherApiKey}});
  ASSERT_EQ(fixed.status, 200) << fixed.body;
  EXPECT_TRUE(fixed.Json()["decryption_error"].is_null());
  auto deleted = Delete("/api/credentials/" + id);
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  ExpectKeysNeverLogged();
}

TEST_F(CredentialsTest, RotateKey) {
  StartServer({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "old key"}});
  for (int i = 0; i < 3; ++i) {
    auto created = Post("/api/credentials", {{"name", "key " + std::to_string(i)}, {"provider", "openai"}, {"api_key", kApiKey}});
    ASSERT_EQ(created.status, 201) << created.body;
  }
  Post("/api/credentials", {{"name", "no key"}, {"provider", "ollama"}, {"base_url", "http://127.0.0.1:11434"}});
  StopServer();

  // A wrong old key is refused and changes nothing.
  auto [wrong_code, wrong_output] = RotateKey({{"OPEN_NOTEBOOK_ENCRYPTION_KEY_OLD", "wrong key"},
                                               {"OPEN_NOTEBOOK_ENCRYPTION_KEY", "new key"}});
  EXPECT_EQ(wrong_code, 1) << wrong_output;
  EXPECT_NE(wrong_output.find("nothing was changed"), std::string::npos) << wrong_output;
  StartServer({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "old key"}});
  for (const json& credential : Get("/api/credentials").Json()) {
    EXPECT_TRUE(credential["decryption_error"].is_null()) << credential.dump();
  }
  StopServer();

  auto [missing_code, missing_output] = RotateKey({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "new key"}});
  EXPECT_EQ(missing_code, 1) << missing_output;
  EXPECT_NE(missing_output.find("OPEN_NOTEBOOK_ENCRYPTION_KEY_OLD"), std::string::npos) << missing_output;

  auto [dry_code, dry_output] = RotateKey({{"OPEN_NOTEBOOK_ENCRYPTION_KEY_OLD", "old key"},
                                           {"OPEN_NOTEBOOK_ENCRYPTION_KEY", "new key"}}, {"--dry-run"});
  EXPECT_EQ(dry_code, 0) << dry_output;
  EXPECT_NE(dry_output.find("3 API keys would be re-encrypted"), std::string::npos) << dry_output;

  // The old key comes from a file here, the new one from the environment.
  const auto old_key_file = dir_.path() / "old.key";
  { std::ofstream(old_key_file) << "old key\n"; }
  auto [code, output] = RotateKey({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "new key"}}, {"--old-key-file", old_key_file.string()});
  ASSERT_EQ(code, 0) << output;
  EXPECT_NE(output.find("re-encrypted 3 API keys"), std::string::npos) << output;
  EXPECT_NE(output.find("1 credentials have no API key"), std::string::npos) << output;

  // Running it again finds everything current.
  auto [repeat_code, repeat_output] = RotateKey({{"OPEN_NOTEBOOK_ENCRYPTION_KEY_OLD", "old key"},
                                                 {"OPEN_NOTEBOOK_ENCRYPTION_KEY", "new key"}});
  EXPECT_EQ(repeat_code, 0) << repeat_output;
  EXPECT_NE(repeat_output.find("re-encrypted 0 API keys"), std::string::npos) << repeat_output;

  StartServer({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "new key"}});
  auto listed = Get("/api/credentials");
  ASSERT_EQ(listed.Json().size(), 4u);
  for (const json& credential : listed.Json()) {
    EXPECT_TRUE(credential["decryption_error"].is_null()) << credential.dump();
  }
  StopServer();

  StartServer({{"OPEN_NOTEBOOK_ENCRYPTION_KEY", "old key"}});
  int unreadable = 0;
  for (const json& credential : Get("/api/credentials").Json()) unreadable += credential["decryption_error"].is_string();
  EXPECT_EQ(unreadable, 3) << "the old key no longer opens the rotated rows";
  ExpectKeysNeverLogged();
}

}  // namespace
}  // namespace on
