// Provider registry, provider URL checks, model configuration and default-model storage.
#include <gtest/gtest.h>

#include <map>

#include "ai/model_config.h"
#include "ai/provider_registry.h"
#include "ingest/ssrf_guard.h"
#include "storage/sqlite/sqlite_storage.h"
#include "support/temp_dir.h"

namespace on {
namespace {

EnvLookup MapEnv(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto found = values.find(std::string(name));
    if (found == values.end()) return std::nullopt;
    return found->second;
  };
}

TEST(ProviderRegistry, HasEveryProviderOnce) {
  EXPECT_EQ(ai::Providers().size(), 22u);
  for (const auto& provider : ai::Providers()) {
    EXPECT_EQ(ai::FindProvider(provider.name), &provider);
    EXPECT_FALSE(provider.modalities.empty()) << provider.name;
  }
  EXPECT_EQ(ai::Providers().front().name, "openai");
  EXPECT_EQ(ai::FindProvider("OpenAI"), nullptr);
}

TEST(ProviderRegistry, EnvConfiguredRules) {
  const auto& openai = *ai::FindProvider("openai");
  EXPECT_FALSE(ai::EnvConfigured(openai, MapEnv({})));
  EXPECT_FALSE(ai::EnvConfigured(openai, MapEnv({{"OPENAI_API_KEY", ""}})));
  EXPECT_TRUE(ai::EnvConfigured(openai, MapEnv({{"OPENAI_API_KEY", "sk"}})));

  const auto& google = *ai::FindProvider("google");
  EXPECT_TRUE(ai::EnvConfigured(google, MapEnv({{"GEMINI_API_KEY", "g"}})));

  const auto& azure = *ai::FindProvider("azure");
  EXPECT_FALSE(ai::EnvConfigured(azure, MapEnv({{"AZURE_OPENAI_API_KEY", "k"}, {"AZURE_OPENAI_ENDPOINT", "e"}})));
  EXPECT_TRUE(ai::EnvConfigured(azure, MapEnv({{"AZURE_OPENAI_API_KEY", "k"}, {"AZURE_OPENAI_ENDPOINT", "e"},
                                               {"AZURE_OPENAI_API_VERSION", "v"}})));
}

TEST(ProviderRegistry, ReadsEnvSettings) {
  auto ollama = ai::ReadEnvProviderSettings(*ai::FindProvider("ollama"), MapEnv({{"OLLAMA_API_BASE", "http://127.0.0.1:11434"}}));
  EXPECT_EQ(ollama.base_url, "http://127.0.0.1:11434");
  EXPECT_FALSE(ollama.api_key);

  auto compatible = ai::ReadEnvProviderSettings(
      *ai::FindProvider("openai_compatible"),
      MapEnv({{"OPENAI_COMPATIBLE_BASE_URL", "http://127.0.0.1:1234/v1"}, {"OPENAI_COMPATIBLE_API_KEY", "lm"}}));
  EXPECT_EQ(compatible.base_url, "http://127.0.0.1:1234/v1");
  EXPECT_EQ(compatible.api_key, "lm");
}

TEST(ProviderUrl, AllowsLocalAndPublicServers) {
  for (const char* url : {"http://127.0.0.1:11434", "http://localhost:1234/v1", "http://192.168.1.20:8080/v1",
                          "http://10.0.0.5", "http://[::1]:11434", "https://api.openai.com/v1",
                          "http://[fd12:3456::1]:8000"}) {
    EXPECT_TRUE(ingest::CheckProviderUrl("base_url", url).ok()) << url;
  }
}

TEST(ProviderUrl, RejectsMetadataAndNonHttp) {
  for (const char* url : {"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://[fd00:ec2::254]/",
                          "http://metadata.google.internal/computeMetadata/v1/", "http://0.0.0.0:11434",
                          "http://[::ffff:169.254.169.254]/", "file:///etc/passwd", "ftp://example.com/",
                          "gopher://127.0.0.1/", "http://user:pass@127.0.0.1/", "not a url"}) {
    Status status = ingest::CheckProviderUrl("base_url", url);
    EXPECT_EQ(status.code(), ErrorCode::kInvalidInput) << url;
    EXPECT_NE(status.message().find("base_url"), std::string::npos) << status.message();
    EXPECT_EQ(status.message().find("pass@"), std::string::npos) << status.message();
  }
}

TEST(ProviderUrl, ChecksResolvedAddresses) {
  EXPECT_TRUE(ingest::CheckProviderAddress("ollama.lan", "192.168.1.2").ok());
  EXPECT_TRUE(ingest::CheckProviderAddress("localhost", "127.0.0.1").ok());
  EXPECT_EQ(ingest::CheckProviderAddress("evil.test", "169.254.169.254").code(), ErrorCode::kForbidden);
}

class ModelStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::sqlite::ConnectionOptions options;
    options.path = (dir_.path() / "test.db").string();
    options.synchronous = "normal";
    auto opened = storage::sqlite::SqliteStorage::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
    ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  }

  storage::Model AddModel(const std::string& name, const std::string& provider, const std::string& type,
                          std::optional<std::string> credential_id = std::nullopt) {
    storage::Model model;
    model.name = name;
    model.provider = provider;
    model.type = type;
    model.credential_id = std::move(credential_id);
    auto created = storage_->CreateModel(model);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : storage::Model{};
  }

  test::TempDir dir_;
  std::unique_ptr<storage::sqlite::SqliteStorage> storage_;
};

TEST_F(ModelStorageTest, DuplicateIgnoresCase) {
  AddModel("GPT-4o", "openai", "language");
  storage::Model duplicate{.name = "gpt-4O", .provider = "openai", .type = "language"};
  auto second = storage_->CreateModel(duplicate);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kInvalidInput);

  duplicate.type = "embedding";
  EXPECT_TRUE(storage_->CreateModel(duplicate).ok()) << "another type is another model";
}

TEST_F(ModelStorageTest, DefaultSlotChangeStampsTime) {
  const auto chat = AddModel("m1", "openai", "language");
  const auto embedding = AddModel("e1", "openai", "embedding");
  const auto embedding2 = AddModel("e2", "openai", "embedding");

  auto before = ai::DefaultModels(*storage_);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->slots.size(), 7u);
  EXPECT_FALSE(before->ModelId("default_embedding_model"));

  auto set = storage_->SetDefaultModels({{"default_embedding_model", embedding.id}, {"default_chat_model", chat.id}});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->ModelId("default_embedding_model"), embedding.id);
  const std::string first_change = set->Updated("default_embedding_model");
  EXPECT_GT(first_change, before->Updated("default_embedding_model"));

  // Setting the same model again is not a change.
  auto same = storage_->SetDefaultModels({{"default_embedding_model", embedding.id}});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->Updated("default_embedding_model"), first_change);

  auto changed = storage_->SetDefaultModels({{"default_embedding_model", embedding2.id}});
  ASSERT_TRUE(changed.ok());
  EXPECT_GT(changed->Updated("default_embedding_model"), first_change);

  EXPECT_EQ(ai::EffectiveDefaultModel(*changed, "default_transformation_model"), chat.id);
  EXPECT_FALSE(ai::EffectiveDefaultModel(*changed, "default_text_to_speech_model"));

  // Deleting the model empties its slot and stamps the change.
  ASSERT_TRUE(storage_->DeleteModel(embedding2.id).ok());
  auto after_delete = storage_->GetDefaultModels();
  ASSERT_TRUE(after_delete.ok());
  EXPECT_FALSE(after_delete->ModelId("default_embedding_model"));
  EXPECT_GT(after_delete->Updated("default_embedding_model"), changed->Updated("default_embedding_model"));
}

TEST_F(ModelStorageTest, DefaultSlotChecksType) {
  const auto embedding = AddModel("e1", "openai", "embedding");
  auto wrong = storage_->SetDefaultModels({{"default_chat_model", embedding.id}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(storage_->SetDefaultModels({{"default_chat_model", "model:missing"}}).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(storage_->SetDefaultModels({{"no_such_slot", std::nullopt}}).status().code(), ErrorCode::kInvalidInput);
}

TEST_F(ModelStorageTest, ResolveModelConfigFromCredential) {
  auto cipher = ai::CredentialCipher::FromSecret("test key");
  ASSERT_TRUE(cipher.ok());
  storage::Credential credential;
  credential.id = "credential:abc";
  credential.name = "LM Studio";
  credential.provider = "openai_compatible";
  credential.base_url = "http://127.0.0.1:1234/v1";
  credential.num_ctx = 32768;
  credential.api_key = cipher->Seal("lm-key", credential.id);
  ASSERT_TRUE(storage_->CreateCredential(credential).ok());
  const auto model = AddModel("qwen2.5-7b", "openai_compatible", "language", credential.id);

  auto config = ai::ResolveModelConfig(*storage_, &*cipher, MapEnv({}), model.id);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->provider, "openai_compatible");
  EXPECT_EQ(config->model_name, "qwen2.5-7b");
  EXPECT_EQ(config->api_key, "lm-key");
  EXPECT_EQ(config->base_url, "http://127.0.0.1:1234/v1");
  EXPECT_EQ(config->num_ctx, 32768);
  EXPECT_EQ(config->credential_id, credential.id);

  auto without_key = ai::ResolveModelConfig(*storage_, nullptr, MapEnv({}), model.id);
  ASSERT_FALSE(without_key.ok());
  EXPECT_EQ(without_key.status().code(), ErrorCode::kConfiguration);
  EXPECT_NE(without_key.status().message().find("OPEN_NOTEBOOK_ENCRYPTION_KEY"), std::string::npos);

  auto other_key = ai::CredentialCipher::FromSecret("other key");
  ASSERT_TRUE(other_key.ok());
  EXPECT_EQ(ai::ResolveModelConfig(*storage_, &*other_key, MapEnv({}), model.id).status().code(),
            ErrorCode::kConfiguration);
}

TEST_F(ModelStorageTest, ResolveModelConfigFromEnvironment) {
  const auto model = AddModel("llama3.2", "ollama", "language");
  auto config = ai::ResolveModelConfig(*storage_, nullptr, MapEnv({{"OLLAMA_API_BASE", "http://127.0.0.1:11434"}}), model.id);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->base_url, "http://127.0.0.1:11434");
  EXPECT_FALSE(config->credential_id);

  const auto openai = AddModel("gpt-4o-mini", "openai", "language");
  auto from_env = ai::ResolveModelConfig(*storage_, nullptr, MapEnv({{"OPENAI_API_KEY", "sk-env"}}), openai.id);
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->api_key, "sk-env");

  EXPECT_EQ(ai::ResolveModelConfig(*storage_, nullptr, MapEnv({}), "model:missing").status().code(), ErrorCode::kNotFound);
}

TEST_F(ModelStorageTest, UnlinkedModelUsesProviderCredential) {
  storage::Credential credential;
  credential.id = "credential:ollama1";
  credential.name = "Local";
  credential.provider = "ollama";
  credential.base_url = "http://127.0.0.1:11434";
  ASSERT_TRUE(storage_->CreateCredential(credential).ok());
  const auto model = AddModel("nomic-embed-text", "ollama", "embedding");

  auto config = ai::ResolveModelConfig(*storage_, nullptr, MapEnv({{"OLLAMA_API_BASE", "http://127.0.0.1:9"}}), model.id);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->base_url, "http://127.0.0.1:11434");
  EXPECT_EQ(config->credential_id, credential.id);
}

TEST_F(ModelStorageTest, StoredMetadataUrlRejectedOnUse) {
  storage::Credential credential;
  credential.id = "credential:bad";
  credential.name = "Edited outside the API";
  credential.provider = "ollama";
  credential.base_url = "http://169.254.169.254/";
  ASSERT_TRUE(storage_->CreateCredential(credential).ok());
  const auto model = AddModel("llama3.2", "ollama", "language", credential.id);
  EXPECT_EQ(ai::ResolveModelConfig(*storage_, nullptr, MapEnv({}), model.id).status().code(), ErrorCode::kInvalidInput);
}

TEST_F(ModelStorageTest, ResealRollsBackOnError) {
  auto cipher = ai::CredentialCipher::FromSecret("k1");
  ASSERT_TRUE(cipher.ok());
  for (const char* id : {"credential:one", "credential:two"}) {
    storage::Credential credential{.id = id, .name = id, .provider = "openai"};
    credential.api_key = cipher->Seal("key", id);
    ASSERT_TRUE(storage_->CreateCredential(credential).ok());
  }
  int calls = 0;
  auto failed = storage_->ResealApiKeys([&](const storage::Credential&) -> Result<std::optional<storage::SealedApiKey>> {
    if (++calls == 2) return InvalidInput("second row fails");
    return std::optional<storage::SealedApiKey>(storage::SealedApiKey{"x", "y", "z"});
  });
  EXPECT_FALSE(failed.ok());
  for (const char* id : {"credential:one", "credential:two"}) {
    auto stored = storage_->GetCredential(id);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->api_key->key_version, cipher->key_version()) << id << " was changed by a failed rotation";
  }
}

}  // namespace
}  // namespace on
