// A test fixture for API tests that need a language or embedding model. It runs the real server with
// the fake AI provider as its OpenAI-compatible provider, creates a notebook, and adds models and
// text sources through the API as a user does.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/fake_provider_process.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace on::test {

// Short texts on unrelated subjects, so a search or a citation can only be right one way.
inline constexpr const char* kVirusText =
    "Influenza viruses spread from person to person through droplets. Virus transmission is highest "
    "in crowded rooms, and vaccination lowers the risk of infection.";
inline constexpr const char* kBreadText =
    "Sourdough bread needs flour, water, salt and a starter. Knead the dough, let it rise overnight, "
    "and bake it in a hot oven until the crust is dark.";

class FakeProviderTest : public ::testing::Test {
 protected:
  // Starts the fake provider (with `fake_args`) and the server, and creates the notebook
  // `notebook_name` as notebook_. Retries wait at most 1 s.
  void StartWithFakeProvider(const std::string& notebook_name, const std::map<std::string, std::string>& extra_env = {},
                             std::vector<std::string> fake_args = {});
  void TearDown() override;

  // Registers a model of the fake provider ("language", "embedding", ...) and returns its id.
  std::string RegisterModel(const std::string& name, const std::string& type);
  // Sets one default model ("default_chat_model", "default_embedding_model", ...).
  void SetDefaultModel(const std::string& field, const std::string& model_id);
  // Adds a text source to `notebook`, processed before the response, and returns its id.
  std::string AddTextSource(const std::string& content, const std::string& notebook, bool embed,
                            const std::string& title = "");

  TempDir dir_;
  std::unique_ptr<FakeProviderProcess> fake_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
  std::string notebook_;
};

}  // namespace on::test
