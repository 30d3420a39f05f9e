#include "support/fake_provider_fixture.h"

#include <nlohmann/json.hpp>

namespace on::test {

using nlohmann::json;

void FakeProviderTest::StartWithFakeProvider(const std::string& notebook_name,
                                             const std::map<std::string, std::string>& extra_env,
                                             std::vector<std::string> fake_args) {
  fake_ = std::make_unique<FakeProviderProcess>(std::move(fake_args));
  std::map<std::string, std::string> env = {{"OPENAI_COMPATIBLE_BASE_URL", fake_->BaseUrl("/v1")},
                                             {"OPEN_NOTEBOOK_RETRY_WAIT_MIN", "0"},
                                             {"OPEN_NOTEBOOK_RETRY_WAIT_MAX", "1"}};
  for (const auto& [name, value] : extra_env) env[name] = value;
  server_ = std::make_unique<ServerProcess>(dir_.path() / "data", env);
  ASSERT_TRUE(server_->Start()) << server_->log();
  client_ = std::make_unique<HttpClient>(server_->Client());
  auto notebook = client_->Post("/api/notebooks", {{"name", notebook_name}, {"description", "Test notebook"}});
  ASSERT_EQ(notebook.status, 200) << notebook.body;
  notebook_ = notebook.Json().value("id", "");
}

void FakeProviderTest::TearDown() {
  if (server_) server_->Stop();
}

std::string FakeProviderTest::RegisterModel(const std::string& name, const std::string& type) {
  auto model = client_->Post("/api/models", {{"name", name}, {"provider", "openai_compatible"}, {"type", type}});
  EXPECT_EQ(model.status, 200) << model.body;
  return model.Json().value("id", "");
}

void FakeProviderTest::SetDefaultModel(const std::string& field, const std::string& model_id) {
  auto defaults = client_->Put("/api/models/defaults", {{field, model_id}});
  EXPECT_EQ(defaults.status, 200) << defaults.body;
}

std::string FakeProviderTest::AddTextSource(const std::string& content, const std::string& notebook, bool embed,
                                            const std::string& title) {
  std::vector<HttpClient::FormField> fields = {{"type", "text"},
                                               {"content", content},
                                               {"embed", embed ? "true" : "false"},
                                               {"notebooks", json::array({notebook}).dump()},
                                               {"async_processing", "false"}};
  if (!title.empty()) fields.push_back({"title", title});
  auto created = client_->PostForm("/api/sources", fields);
  EXPECT_EQ(created.status, 200) << created.body;
  return created.Json().value("id", "");
}

}  // namespace on::test
