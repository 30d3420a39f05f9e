// The routes that call a provider (connection and model tests, discovery, sync), over HTTP
// against the real binary and the fake provider.
#include <gtest/gtest.h>

#include "support/fake_provider_process.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace on {
namespace {

using nlohmann::json;

class ProviderCallsTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> fake_args = {}, std::map<std::string, std::string> env = {}) {
    fake_ = std::make_unique<test::FakeProviderProcess>(std::move(fake_args));
    env["OPENAI_COMPATIBLE_BASE_URL"] = fake_->BaseUrl();
    env["OPEN_NOTEBOOK_ENCRYPTION_KEY"] = "test key";
    server_ = std::make_unique<test::ServerProcess>(dir_.path() / "data", env);
    const bool started = server_->Start();
    client_ = std::make_unique<test::HttpClient>(server_->Client());  // valid even when the start failed
    ASSERT_TRUE(started) << server_->log();
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::string AddModel(const std::string& name, const std::string& type) {
    auto model = client_->Post("/api/models", {{"name", name}, {"provider", "openai_compatible"}, {"type", type}});
    EXPECT_EQ(model.status, 200) << model.body;
    return model.Json().value("id", "");
  }

  test::TempDir dir_;
  std::unique_ptr<test::FakeProviderProcess> fake_;
  std::unique_ptr<test::ServerProcess> server_;
  std::unique_ptr<test::HttpClient> client_;
};

TEST_F(ProviderCallsTest, CredentialTestAndDiscovery) {
  StartServer({"--api-key", "right-key"});
  auto good = client_->Post("/api/credentials", {{"name", "Fake"},
                                                 {"provider", "openai_compatible"},
                                                 {"base_url", fake_->BaseUrl("/v1")},
                                                 {"api_key", "right-key"}});
  ASSERT_EQ(good.status, 201) << good.body;
  auto bad = client_->Post("/api/credentials", {{"name", "Wrong key"},
                                                {"provider", "openai_compatible"},
                                                {"base_url", fake_->BaseUrl("/v1")},
                                                {"api_key", "wrong-key"}});
  ASSERT_EQ(bad.status, 201) << bad.body;
  const std::string good_id = good.Json()["id"];
  const std::string bad_id = bad.Json()["id"];

  const json passed = client_->Post("/api/credentials/" + good_id + "/test", json::object()).Json();
  EXPECT_EQ(passed["success"], true) << passed.dump();
  EXPECT_EQ(passed["provider"], "openai_compatible");
  const json failed = client_->Post("/api/credentials/" + bad_id + "/test", json::object()).Json();
  EXPECT_EQ(failed["success"], false) << failed.dump();
  EXPECT_EQ(failed["message"], "Invalid API key");

  const json discovered = client_->Post("/api/credentials/" + good_id + "/discover", json::object()).Json();
  EXPECT_EQ(discovered["credential_id"], good_id);
  std::map<std::string, std::string> types;
  for (const auto& model : discovered["discovered"]) types[model["name"]] = model["model_type"];
  EXPECT_EQ(types["fake-chat"], "language");
  EXPECT_EQ(types["fake-embed-384"], "embedding");
  EXPECT_EQ(types["fake-tts"], "text_to_speech");
  EXPECT_EQ(types["fake-stt"], "speech_to_text");
  EXPECT_EQ(client_->Post("/api/credentials/credential:missing/test", json::object()).status, 404);
}

TEST_F(ProviderCallsTest, SyncRegistersNewModelsOnce) {
  StartServer();
  const json first = client_->Post("/api/models/sync/openai_compatible", json::object()).Json();
  EXPECT_EQ(first["discovered"], 5) << first.dump();
  EXPECT_EQ(first["new"], 5);
  const json second = client_->Post("/api/models/sync/openai_compatible", json::object()).Json();
  EXPECT_EQ(second["new"], 0) << second.dump();
  EXPECT_EQ(second["existing"], 5);
  const json all = client_->Post("/api/models/sync", json::object()).Json();
  EXPECT_EQ(all["results"]["openai_compatible"]["existing"], 5) << all.dump();
  EXPECT_EQ(client_->Get("/api/models?type=embedding").Json().size(), 2u);
  EXPECT_EQ(client_->Get("/api/models/discover/openai_compatible").Json().size(), 5u);
  EXPECT_EQ(client_->Get("/api/models/discover/no_such_provider").status, 404);
}

TEST_F(ProviderCallsTest, ModelTestsMakeARealCallOfEachKind) {
  StartServer();
  const std::string chat_model = AddModel("fake-chat", "language");
  const json chat = client_->Post("/api/models/" + chat_model + "/test", json::object()).Json();
  EXPECT_EQ(chat["success"], true) << chat.dump();
  EXPECT_TRUE(chat["message"].get<std::string>().starts_with("Response: ")) << chat.dump();
  const json embed = client_->Post("/api/models/" + AddModel("fake-embed-768", "embedding") + "/test", json::object()).Json();
  EXPECT_EQ(embed["message"], "Embedding dimensions: 768") << embed.dump();
  const json speech = client_->Post("/api/models/" + AddModel("fake-tts", "text_to_speech") + "/test", json::object()).Json();
  EXPECT_EQ(speech["success"], true) << speech.dump();
  EXPECT_TRUE(speech["message"].get<std::string>().starts_with("Audio generated: ")) << speech.dump();
  const json transcript = client_->Post("/api/models/" + AddModel("fake-stt", "speech_to_text") + "/test", json::object()).Json();
  EXPECT_EQ(transcript["success"], true) << transcript.dump();
  EXPECT_TRUE(transcript["message"].get<std::string>().starts_with("Transcription: ")) << transcript.dump();

  fake_->Script("/v1/chat/completions", {"bad_request"});
  const json rejected = client_->Post("/api/models/" + chat_model + "/test", json::object()).Json();
  EXPECT_EQ(rejected["success"], false) << rejected.dump();
  EXPECT_NE(rejected["message"].get<std::string>().find("Invalid request"), std::string::npos) << rejected.dump();
}

TEST_F(ProviderCallsTest, IdleTimeoutSettingApplies) {
  StartServer({}, {{"OPEN_NOTEBOOK_AI_IDLE_TIMEOUT", "1"}});
  const std::string chat_model = AddModel("fake-chat", "language");
  // The fake reads the request and never responds, so only the 1 s idle limit ends the call.
  fake_->Script("/v1/chat/completions", {"timeout"});
  const json stalled = client_->Post("/api/models/" + chat_model + "/test", json::object()).Json();
  EXPECT_EQ(stalled["success"], false) << stalled.dump();
  EXPECT_NE(stalled["message"].get<std::string>().find("1000 ms"), std::string::npos) << stalled.dump();
  EXPECT_NE(stalled["message"].get<std::string>().find("OPEN_NOTEBOOK_AI_IDLE_TIMEOUT"), std::string::npos)
      << stalled.dump();

  // A response that starts within the limit succeeds.
  const json answered = client_->Post("/api/models/" + chat_model + "/test", json::object()).Json();
  EXPECT_EQ(answered["success"], true) << answered.dump();
}

}  // namespace
}  // namespace on
