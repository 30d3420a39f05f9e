// Embeddings and vector search over HTTP against the real binary and the fake provider:
// embedding jobs, vector and hybrid search, the notebook scope, deletions, a change of model,
// and provider faults.
#include <gtest/gtest.h>

#include <thread>

#include "support/data_dir_database.h"
#include "support/fake_provider_fixture.h"
#include "support/test_backend.h"

namespace on {
namespace {

using nlohmann::json;

using test::kBreadText;
using test::kVirusText;

const char* const kRailText =
    "The railway timetable lists every train between the two cities. Trains leave the station each hour "
    "and the journey takes ninety minutes.";

class EmbeddingsTest : public test::FakeProviderTest {
 protected:
  void StartServer(std::vector<std::string> fake_args = {}) { StartWithFakeProvider("Embeddings", {}, std::move(fake_args)); }

  // Registers an embedding model of the fake provider and makes it the default.
  std::string UseEmbeddingModel(const std::string& name) {
    const std::string id = RegisterModel(name, "embedding");
    SetDefaultModel("default_embedding_model", id);
    return id;
  }

  // Adds a text source with embedding on, processed before the response; returns its id.
  std::string AddText(const std::string& content, const std::string& notebook) {
    return AddTextSource(content, notebook, true);
  }

  json Search(const std::string& query, const std::string& type, std::optional<std::string> notebook = std::nullopt) {
    json body = {{"query", query}, {"minimum_score", 0}};
    if (!type.empty()) body["type"] = type;
    if (notebook) body["notebook_id"] = *notebook;
    auto result = client_->Post("/api/search", body);
    EXPECT_EQ(result.status, 200) << result.body;
    return result.Json();
  }

  // Waits until every queued embedding job is done: the jobs list has none queued or running.
  void WaitForEmbedJobs() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      bool busy = false;
      for (const char* status : {"queued", "running"}) {
        auto jobs = client_->Get(std::string("/api/commands/jobs?status_filter=") + status).Json();
        for (const auto& job : jobs) {
          const std::string command = job.value("command", "");
          if (command.find("embed") != std::string::npos) busy = true;
        }
      }
      if (!busy) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "embedding jobs did not finish within 60 s";
  }

  // Rows of the embedding table by model, read from the database file.
  std::map<std::string, std::pair<int, int>> StoredModels() {
    std::map<std::string, std::pair<int, int>> models;  // model -> (rows, dimension)
    const test::SqlResult rows = test::QueryDataDir(
        dir_.path() / "data", "SELECT model, count(*), max(dimension), min(dimension) FROM embedding GROUP BY model");
    EXPECT_EQ(rows.error, "");
    for (const test::SqlRow& row : rows.rows) {
      EXPECT_EQ(row[2], row[3]) << "one dimension per model";
      models[row[0].value_or("")] = {std::stoi(row[1].value_or("0")), std::stoi(row[2].value_or("0"))};
    }
    return models;
  }

};

TEST_F(EmbeddingsTest, VectorAndHybridSearchFindByMeaning) {
  StartServer();
  EXPECT_EQ(Search("virus", "").value("search_type", ""), "text") << "keyword search until an embedding model is set";
  UseEmbeddingModel("fake-embed-384");
  const std::string virus = AddText(kVirusText, notebook_);
  AddText(kBreadText, notebook_);
  AddText(kRailText, notebook_);
  WaitForEmbedJobs();

  const json vector = Search("how do viruses spread between people", "vector");
  EXPECT_EQ(vector["search_type"], "vector");
  ASSERT_FALSE(vector["results"].empty());
  EXPECT_EQ(vector["results"][0]["id"], virus);
  EXPECT_GT(vector["results"][0]["similarity"].get<double>(), vector["results"].back()["similarity"].get<double>());
  EXPECT_NE(vector["results"][0]["snippet"].get<std::string>().find("<mark>"), std::string::npos);

  const json hybrid = Search("virus transmission", "");
  EXPECT_EQ(hybrid["search_type"], "hybrid") << "hybrid is the default once vectors exist";
  ASSERT_FALSE(hybrid["results"].empty());
  EXPECT_EQ(hybrid["results"][0]["id"], virus);
  EXPECT_EQ(hybrid["results"][0]["keyword_rank"], 1);
  EXPECT_EQ(hybrid["results"][0]["vector_rank"], 1);
  EXPECT_EQ(StoredModels().at("openai_compatible/fake-embed-384"), std::make_pair(3, 384));
}

TEST_F(EmbeddingsTest, NotebookScopeAndDeletedSources) {
  StartServer();
  UseEmbeddingModel("fake-embed-384");
  const std::string other_notebook = client_->Post("/api/notebooks", {{"name", "Other"}}).Json()["id"];
  const std::string virus = AddText(kVirusText, notebook_);
  const std::string other_virus = AddText(std::string(kVirusText) + " Masks help too.", other_notebook);
  WaitForEmbedJobs();

  const json scoped = Search("virus infection", "vector", other_notebook);
  ASSERT_EQ(scoped["results"].size(), 1u) << scoped.dump();
  EXPECT_EQ(scoped["results"][0]["id"], other_virus);

  ASSERT_EQ(client_->Delete("/api/sources/" + virus).status, 200);
  for (const std::string type : {"vector", "hybrid"}) {
    const json found = Search("virus infection", type);
    ASSERT_FALSE(found["results"].empty()) << type << ": the other notebook's source is still there";
    for (const auto& result : found["results"]) EXPECT_NE(result["id"], virus) << type;
  }
}

TEST_F(EmbeddingsTest, NoteEmbeddedThroughEmbedEndpoint) {
  StartServer();
  UseEmbeddingModel("fake-embed-384");
  auto note = client_->Post("/api/notes", {{"title", "Trains"}, {"content", kRailText}, {"notebook_id", notebook_}});
  ASSERT_EQ(note.status, 200) << note.body;
  const std::string note_id = note.Json()["id"];
  auto embed = client_->Post("/api/embed", {{"item_id", note_id}, {"item_type", "note"}});
  ASSERT_EQ(embed.status, 200) << embed.body;
  EXPECT_TRUE(embed.Json()["command_id"].get<std::string>().starts_with("command:"));
  WaitForEmbedJobs();

  const json found = Search("train timetable", "vector");
  ASSERT_FALSE(found["results"].empty());
  EXPECT_EQ(found["results"][0]["id"], note_id);
  EXPECT_EQ(found["results"][0]["type"], "note");

  EXPECT_EQ(client_->Post("/api/embed", {{"item_id", "note:missing"}, {"item_type", "note"}}).status, 404);
  EXPECT_EQ(client_->Post("/api/embed", {{"item_id", note_id}, {"item_type", "chunk"}}).status, 400);
}

TEST_F(EmbeddingsTest, ChangingModelRebuildsWithoutMixingDimensions) {
  StartServer();
  UseEmbeddingModel("fake-embed-384");
  const std::string virus = AddText(kVirusText, notebook_);
  AddText(kBreadText, notebook_);
  WaitForEmbedJobs();
  ASSERT_EQ(StoredModels().at("openai_compatible/fake-embed-384").second, 384);

  UseEmbeddingModel("fake-embed-768");
  // No vector of the new model exists yet: the default falls back to keyword search, and vector
  // search finds nothing rather than comparing 768-dimension queries with 384-dimension vectors.
  EXPECT_EQ(Search("virus", "")["search_type"], "text");
  EXPECT_TRUE(Search("virus", "vector")["results"].empty());

  // Each embed job of the rebuild waits a second for its vectors, so the status is read while
  // they run. The status is "running" until they finish, although the rebuild job is done.
  fake_->Script("/v1/embeddings", {"slow=500,2", "slow=500,2"});
  auto rebuild = client_->Post("/api/embeddings/rebuild", {{"mode", "existing"}});
  ASSERT_EQ(rebuild.status, 200) << rebuild.body;
  const std::string command = rebuild.Json()["command_id"];
  json status;
  bool seen_running = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    status = client_->Get("/api/embeddings/rebuild/" + command + "/status").Json();
    seen_running = seen_running || status["status"] == "running";
    if (status["status"] == "completed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(seen_running);
  WaitForEmbedJobs();
  EXPECT_EQ(status["status"], "completed") << status.dump();
  EXPECT_EQ(status["progress"]["percentage"], 100.0) << "completed only with every vector stored: " << status.dump();
  EXPECT_EQ(status["progress"]["processed"], status["progress"]["total"]) << status.dump();

  const auto models = StoredModels();
  EXPECT_EQ(models.at("openai_compatible/fake-embed-768"), std::make_pair(2, 768))
      << client_->Get("/api/commands/jobs?limit=100").body;
  EXPECT_EQ(models.at("openai_compatible/fake-embed-384"), std::make_pair(2, 384));
  const json found = Search("how do viruses spread", "vector");
  ASSERT_FALSE(found["results"].empty());
  EXPECT_EQ(found["results"][0]["id"], virus);
}

TEST_F(EmbeddingsTest, LongTextsCutErrorsFailOnce) {
  // Inputs of more than 40 words get the provider's context-length error.
  StartServer({"--embed-max-words", "40"});
  UseEmbeddingModel("fake-embed-384");
  std::string long_text;
  for (int i = 0; i < 6; ++i) long_text += std::string(kVirusText) + " ";
  const std::string virus = AddText(long_text, notebook_);
  WaitForEmbedJobs();
  int rejected = 0;
  const json requests = fake_->Requests();
  for (const auto& entry : requests["log"]) {
    if (entry["path"] == "/v1/embeddings" && entry["status"] == 400) ++rejected;
  }
  EXPECT_GT(rejected, 0) << "the provider rejected the long text at least once, so it was cut: " << requests.dump();
  const json found = Search("virus transmission", "vector");
  ASSERT_FALSE(found["results"].empty());
  EXPECT_EQ(found["results"][0]["id"], virus);

  fake_->Reset();
  fake_->Script("/v1/embeddings", {"bad_request"});
  const std::string bread = AddText(kBreadText, notebook_);
  WaitForEmbedJobs();
  EXPECT_EQ(fake_->RequestCount("/v1/embeddings"), 1) << "a permanent 400 is not retried";
  auto jobs = client_->Get("/api/commands/jobs?status_filter=failed").Json();
  ASSERT_EQ(jobs.size(), 1u) << jobs.dump();
  EXPECT_NE(jobs[0].value("error_message", "").find("Invalid request"), std::string::npos) << jobs.dump();
  const json after_failure = Search("sourdough bread", "vector");
  ASSERT_FALSE(after_failure["results"].empty()) << "the virus text is still found";
  for (const auto& result : after_failure["results"]) EXPECT_NE(result["id"], bread);
}

}  // namespace
}  // namespace on
