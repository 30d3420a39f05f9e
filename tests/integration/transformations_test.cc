// Transformations, insights and AI note titles over HTTP against the real binary and the fake
// provider: the seeded defaults, CRUD, the global instructions in the prompt, the playground,
// insight jobs on a long real document split into parts, saving insights as notes, embedding
// insights, generated note titles and provider errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/fake_provider_process.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace on {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A long real document: the package chapter of the Debian FAQ (package debian-faq).
const fs::path kLongDocument = "/usr/share/doc/debian/FAQ/pkg-basics.en.html";

const char* const kTideText =
    "Tides are caused by the gravity of the moon and the sun. Spring tides happen at new and full moon, "
    "when the sun and the moon pull in line; neap tides happen at the quarter moons.";

size_t CountWords(const std::string& text) {
  std::istringstream stream(text);
  size_t words = 0;
  std::string word;
  while (stream >> word) ++words;
  return words;
}

class TransformationsTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> fake_args = {}, std::map<std::string, std::string> extra_env = {}) {
    fake_args.push_back("--record-messages");
    fake_ = std::make_unique<test::FakeProviderProcess>(std::move(fake_args));
    std::map<std::string, std::string> env = {{"OPENAI_COMPATIBLE_BASE_URL", fake_->BaseUrl("/v1")},
                                               {"OPEN_NOTEBOOK_RETRY_WAIT_MIN", "0"},
                                               {"OPEN_NOTEBOOK_RETRY_WAIT_MAX", "1"}};
    for (const auto& [name, value] : extra_env) env[name] = value;
    server_ = std::make_unique<test::ServerProcess>(dir_.path() / "data", env);
    const bool started = server_->Start();
    client_ = std::make_unique<test::HttpClient>(server_->Client());  // valid even when the start failed
    ASSERT_TRUE(started) << server_->log();
    notebook_ = client_->Post("/api/notebooks", {{"name", "Transformations"}}).Json()["id"];
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::string AddModel(const std::string& name, const std::string& type = "language") {
    auto model = client_->Post("/api/models", {{"name", name}, {"provider", "openai_compatible"}, {"type", type}});
    EXPECT_EQ(model.status, 200) << model.body;
    return model.Json().value("id", "");
  }

  void SetDefault(const std::string& slot, const std::string& model_id) {
    auto defaults = client_->Put("/api/models/defaults", {{slot, model_id}});
    EXPECT_EQ(defaults.status, 200) << defaults.body;
  }

  // Registers a language model of the fake provider and makes it the default chat model.
  std::string UseChatModel(const std::string& name = "fake-chat") {
    const std::string id = AddModel(name);
    SetDefault("default_chat_model", id);
    return id;
  }

  std::string AddSource(const std::vector<test::HttpClient::FormField>& extra) {
    std::vector<test::HttpClient::FormField> fields = {{"notebooks", json::array({notebook_}).dump()},
                                                       {"async_processing", "false"}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    auto created = client_->PostForm("/api/sources", fields);
    EXPECT_EQ(created.status, 200) << created.body;
    return created.Json().value("id", "");
  }

  std::string AddText(const std::string& content) { return AddSource({{"type", "text"}, {"content", content}}); }

  std::string AddLongDocument() {
    std::ifstream file(kLongDocument, std::ios::binary);
    std::stringstream bytes;
    bytes << file.rdbuf();
    return AddSource({{"type", "upload"}, {"file", bytes.str(), "pkg-basics.en.html", "", "text/html"}});
  }

  // Waits for job `id` to complete or fail and returns its last state.
  json WaitForJob(const std::string& id, std::chrono::seconds timeout = std::chrono::seconds(120)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    json job;
    while (std::chrono::steady_clock::now() < deadline) {
      job = client_->Get("/api/commands/jobs/" + id).Json();
      const std::string status = job.value("status", "");
      if (status == "completed" || status == "failed" || status == "cancelled") return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "job " << id << " did not finish: " << job.dump();
    return job;
  }

  // Chat requests the fake provider received, oldest first.
  std::vector<json> ChatRequests() {
    std::vector<json> chats;
    const json requests = fake_->Requests();
    for (const auto& entry : requests["log"]) {
      if (entry.value("path", "").ends_with("/chat/completions")) chats.push_back(entry);
    }
    return chats;
  }

  static std::string MessageText(const json& request, const std::string& role) {
    for (const auto& message : request["messages"]) {
      if (message.value("role", "") == role) return message.value("text", "");
    }
    return "";
  }

  std::string TransformationId(const std::string& name) {
    for (const auto& transformation : client_->Get("/api/transformations").Json()) {
      if (transformation["name"] == name) return transformation["id"];
    }
    ADD_FAILURE() << "no transformation named " << name;
    return "";
  }

  test::TempDir dir_;
  std::unique_ptr<test::FakeProviderProcess> fake_;
  std::unique_ptr<test::ServerProcess> server_;
  std::unique_ptr<test::HttpClient> client_;
  std::string notebook_;
};

TEST_F(TransformationsTest, DefaultsSeededSortedByName) {
  StartServer();
  auto list = client_->Get("/api/transformations");
  ASSERT_EQ(list.status, 200) << list.body;
  const json transformations = list.Json();
  ASSERT_EQ(transformations.size(), 6u) << list.body;
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"Analyze Paper", "Paper Analysis"},    {"Dense Summary", "Dense Summary"},
      {"Key Insights", "Key Insights"},       {"Reflections", "Reflection Questions"},
      {"Simple Summary", "Simple Summary"},   {"Table of Contents", "Table of Contents"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    const json& transformation = transformations[i];
    EXPECT_EQ(transformation["name"], expected[i].first);
    EXPECT_EQ(transformation["title"], expected[i].second);
    EXPECT_EQ(transformation["apply_default"], expected[i].first == "Dense Summary") << transformation.dump();
    EXPECT_GT(transformation["prompt"].get<std::string>().size(), 200u) << expected[i].first;
    EXPECT_FALSE(transformation["description"].get<std::string>().empty());
    EXPECT_TRUE(transformation["model_id"].is_null());
  }
  EXPECT_NE(transformations[0]["prompt"].get<std::string>().find("LIMITATIONS"), std::string::npos);
  EXPECT_NE(transformations[2]["prompt"].get<std::string>().find("INSIGHTS"), std::string::npos);
  EXPECT_NE(transformations[3]["prompt"].get<std::string>().find("REFLECTIONS"), std::string::npos);

  auto instructions = client_->Get("/api/transformations/default-prompt");
  ASSERT_EQ(instructions.status, 200);
  EXPECT_GT(instructions.Json()["transformation_instructions"].get<std::string>().size(), 100u);
}

TEST_F(TransformationsTest, CrudStartingFromZeroRows) {
  StartServer();
  for (const auto& transformation : client_->Get("/api/transformations").Json()) {
    EXPECT_EQ(client_->Delete("/api/transformations/" + transformation["id"].get<std::string>()).status, 200);
  }
  EXPECT_EQ(client_->Get("/api/transformations").Json(), json::array());

  const json body = {{"name", "Glossary"}, {"title", "Glossary"}, {"description", "Terms"}, {"prompt", "List the terms."}};
  auto created = client_->Post("/api/transformations", body);
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = created.Json()["id"];
  EXPECT_TRUE(id.starts_with("transformation:"));
  EXPECT_EQ(created.Json()["apply_default"], false);
  auto bravo = client_->Post("/api/transformations", {{"name", "bravo"}, {"title", "B"}, {"prompt", "p"}});
  ASSERT_EQ(bravo.status, 200) << bravo.body;
  auto alpha = client_->Post("/api/transformations", {{"name", "Alpha"}, {"title", "A"}, {"prompt", "p"}});
  ASSERT_EQ(alpha.status, 200) << alpha.body;
  json names = json::array();
  for (const auto& transformation : client_->Get("/api/transformations").Json()) names.push_back(transformation["name"]);
  EXPECT_EQ(names, json({"Alpha", "bravo", "Glossary"}));

  auto updated = client_->Put("/api/transformations/" + id, {{"description", "Key terms"}, {"apply_default", true}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.Json()["description"], "Key terms");
  EXPECT_EQ(updated.Json()["name"], "Glossary");
  EXPECT_EQ(updated.Json()["prompt"], "List the terms.");
  EXPECT_EQ(updated.Json()["apply_default"], true);
  EXPECT_EQ(client_->Get("/api/transformations/" + id).Json()["description"], "Key terms");

  EXPECT_EQ(client_->Post("/api/transformations", {{"name", " "}, {"title", "t"}, {"prompt", "p"}}).status, 400);
  EXPECT_EQ(client_->Post("/api/transformations", {{"name", "n"}, {"title", "t"}}).status, 422);
  EXPECT_EQ(client_->Post("/api/transformations", {{"name", "n"}, {"title", "t"}, {"prompt", "p"}, {"extra", 1}}).status,
            422);
  EXPECT_EQ(client_->Put("/api/transformations/" + id, {{"prompt", ""}}).status, 400);

  EXPECT_EQ(client_->Delete("/api/transformations/" + id).status, 200);
  EXPECT_EQ(client_->Get("/api/transformations/" + id).status, 404);
  EXPECT_EQ(client_->Delete("/api/transformations/" + id).status, 404);
  EXPECT_EQ(client_->Put("/api/transformations/" + id, {{"name", "x"}}).status, 404);
}

TEST_F(TransformationsTest, ModelIdPresenceBased) {
  StartServer();
  const std::string chat = AddModel("fake-chat");
  const std::string embed = AddModel("fake-embed-384", "embedding");

  auto unknown = client_->Post("/api/transformations",
                               {{"name", "n"}, {"title", "t"}, {"prompt", "p"}, {"model_id", "model:doesnotexist"}});
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  auto wrong_type = client_->Post("/api/transformations", {{"name", "n"}, {"title", "t"}, {"prompt", "p"}, {"model_id", embed}});
  EXPECT_EQ(wrong_type.status, 400) << wrong_type.body;

  auto created = client_->Post("/api/transformations", {{"name", "n"}, {"title", "t"}, {"prompt", "p"}, {"model_id", chat}});
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = created.Json()["id"];
  EXPECT_EQ(created.Json()["model_id"], chat);

  auto kept = client_->Put("/api/transformations/" + id, {{"title", "t2"}});
  EXPECT_EQ(kept.Json()["model_id"], chat) << "an absent model_id keeps the model";
  EXPECT_EQ(client_->Put("/api/transformations/" + id, {{"model_id", "model:missing"}}).status, 404);
  EXPECT_EQ(client_->Get("/api/transformations/" + id).Json()["model_id"], chat);
  auto cleared = client_->Put("/api/transformations/" + id, {{"model_id", nullptr}});
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_TRUE(cleared.Json()["model_id"].is_null());

  // Deleting the model clears it from the transformation instead of leaving a dangling id.
  ASSERT_EQ(client_->Put("/api/transformations/" + id, {{"model_id", chat}}).status, 200);
  ASSERT_EQ(client_->Delete("/api/models/" + chat).status, 200);
  EXPECT_TRUE(client_->Get("/api/transformations/" + id).Json()["model_id"].is_null());
}

TEST_F(TransformationsTest, GlobalInstructionsReachThePrompt) {
  StartServer();
  const std::string chat = UseChatModel();
  const std::string marker = "Write every answer as a ship's log entry (marker ZEBRA-7731).";
  auto put = client_->Put("/api/transformations/default-prompt", {{"transformation_instructions", marker}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(client_->Get("/api/transformations/default-prompt").Json()["transformation_instructions"], marker);

  // Template syntax in a prompt is data: it reaches the model exactly as written.
  const std::string prompt = "Summarise {{global_instructions}} {% for i in range(10**9) %}x{% endfor %} briefly.";
  auto created = client_->Post("/api/transformations", {{"name", "Echo"}, {"title", "Echo"}, {"prompt", prompt}});
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = created.Json()["id"];

  const std::string input = "<think>private reasoning words</think> The tide tables list high water times.";
  auto executed = client_->Post("/api/transformations/execute", {{"transformation_id", id}, {"input_text", input}});
  ASSERT_EQ(executed.status, 200) << executed.body;
  const json output = executed.Json();
  EXPECT_EQ(output["transformation_id"], id);
  EXPECT_EQ(output["model_id"], chat);
  EXPECT_NE(output["output"].get<std::string>().find("tide tables"), std::string::npos) << output.dump();
  EXPECT_EQ(output["output"].get<std::string>().find("private reasoning"), std::string::npos) << output.dump();

  const auto chats = ChatRequests();
  ASSERT_EQ(chats.size(), 1u);
  const std::string system = MessageText(chats[0], "system");
  EXPECT_EQ(system.find(marker), 0u) << "the global instructions come first:\n" << system;
  EXPECT_NE(system.find(prompt), std::string::npos) << system;
  EXPECT_EQ(MessageText(chats[0], "user"), input);

  // Empty instructions turn them off.
  ASSERT_EQ(client_->Put("/api/transformations/default-prompt", {{"transformation_instructions", ""}}).status, 200);
  ASSERT_EQ(client_->Post("/api/transformations/execute", {{"transformation_id", id}, {"input_text", "x"}}).status, 200);
  EXPECT_EQ(MessageText(ChatRequests().back(), "system").find("ZEBRA-7731"), std::string::npos);
}

TEST_F(TransformationsTest, PlaygroundModelPrecedence) {
  StartServer();
  const std::string chat = UseChatModel("fake-chat");
  const std::string own = AddModel("fake-own");
  const std::string requested = AddModel("fake-requested");
  const std::string default_transformation = AddModel("fake-transformation");
  const std::string id = TransformationId("Simple Summary");

  auto run = [&](const json& extra) {
    json body = {{"transformation_id", id}, {"input_text", kTideText}};
    if (extra.is_object()) body.update(extra);
    auto result = client_->Post("/api/transformations/execute", body);
    EXPECT_EQ(result.status, 200) << result.body;
    return std::make_pair(result.Json().value("model_id", ""), ChatRequests().back().value("model", ""));
  };

  EXPECT_EQ(run({}), std::make_pair(chat, std::string("fake-chat")));
  SetDefault("default_transformation_model", default_transformation);
  EXPECT_EQ(run({}), std::make_pair(default_transformation, std::string("fake-transformation")));
  ASSERT_EQ(client_->Put("/api/transformations/" + id, {{"model_id", own}}).status, 200);
  EXPECT_EQ(run({}), std::make_pair(own, std::string("fake-own")));
  EXPECT_EQ(run({{"model_id", requested}}), std::make_pair(requested, std::string("fake-requested")));

  EXPECT_EQ(client_->Post("/api/transformations/execute", {{"transformation_id", id}, {"input_text", "x"},
                                                            {"model_id", "model:nope"}}).status, 404);
  EXPECT_EQ(client_->Post("/api/transformations/execute", {{"transformation_id", "transformation:nope"},
                                                            {"input_text", "x"}}).status, 404);
  EXPECT_EQ(client_->Post("/api/transformations/execute", {{"transformation_id", id}, {"input_text", "  "}}).status, 400);
}

TEST_F(TransformationsTest, ProviderErrorReachesUser) {
  StartServer();
  UseChatModel("fake-chat~bad_request");
  const std::string id = TransformationId("Key Insights");
  auto executed = client_->Post("/api/transformations/execute", {{"transformation_id", id}, {"input_text", kTideText}});
  EXPECT_EQ(executed.status, 502) << executed.body;
  EXPECT_NE(executed.body.find("the fake provider was told to reject this request"), std::string::npos) << executed.body;

  const std::string source = AddText(kTideText);
  auto queued = client_->Post("/api/sources/" + source + "/insights", {{"transformation_id", id}});
  ASSERT_EQ(queued.status, 202) << queued.body;
  const json job = WaitForJob(queued.Json()["command_id"]);
  EXPECT_EQ(job["status"], "failed");
  EXPECT_NE(job.value("error_message", "").find("the fake provider was told to reject this request"), std::string::npos)
      << job.dump();
  EXPECT_EQ(client_->Get("/api/sources/" + source + "/insights").Json(), json::array());
}

TEST_F(TransformationsTest, LongDocumentInsightInParts) {
  if (!fs::exists(kLongDocument)) GTEST_SKIP() << "needs the debian-faq package";
  // The model accepts 1,500 words; the server assumes a window of 2,048 tokens, so it sizes the
  // parts itself and no request is rejected.
  StartServer({"--context-words", "1500", "--answer-max-words", "60"}, {{"OPEN_NOTEBOOK_CONTEXT_WINDOW_TOKENS", "2048"}});
  UseChatModel("fake-chat");
  const std::string requested = AddModel("fake-insights");
  const std::string source = AddLongDocument();
  const json stored = client_->Get("/api/sources/" + source).Json();
  ASSERT_GT(CountWords(stored["full_text"].get<std::string>()), 3000u) << "the document must be long";
  EXPECT_EQ(stored["insights_count"], 0);

  const std::string transformation = TransformationId("Dense Summary");
  auto queued = client_->Post("/api/sources/" + source + "/insights",
                              {{"transformation_id", transformation}, {"model_id", requested}});
  ASSERT_EQ(queued.status, 202) << queued.body;
  EXPECT_EQ(queued.Json()["status"], "pending");
  EXPECT_EQ(queued.Json()["source_id"], source);
  const json job = WaitForJob(queued.Json()["command_id"]);
  ASSERT_EQ(job["status"], "completed") << job.dump();
  const json result = job["result"];
  EXPECT_GT(result["parts"].get<int>(), 2) << result.dump();
  RecordProperty("parts", result["parts"].get<int>());
  RecordProperty("model_calls", result["model_calls"].get<int>());
  EXPECT_EQ(result["model_id"], requested);

  const auto chats = ChatRequests();
  ASSERT_GT(chats.size(), 3u);
  bool merged = false;
  for (const auto& chat : chats) {
    EXPECT_EQ(chat["model"], "fake-insights") << "the request's model_id is used for every call";
    EXPECT_EQ(chat["status"], 200) << "parts were sized to fit, so no request was rejected";
    size_t words = 0;
    for (const auto& message : chat["messages"]) words += CountWords(message.value("text", ""));
    EXPECT_LE(words, 1500u);
    if (MessageText(chat, "user").find("## Part 1 of ") == 0) merged = true;
  }
  EXPECT_TRUE(merged) << "the partial results were merged";
  EXPECT_NE(MessageText(chats.front(), "system").find("part 1 of"), std::string::npos);

  auto insights = client_->Get("/api/sources/" + source + "/insights");
  ASSERT_EQ(insights.status, 200);
  ASSERT_EQ(insights.Json().size(), 1u) << insights.body;
  const json insight = insights.Json()[0];
  EXPECT_EQ(insight["id"], result["insight_id"]);
  EXPECT_EQ(insight["insight_type"], "Dense Summary");
  EXPECT_EQ(insight["transformation_id"], transformation);
  EXPECT_FALSE(insight["content"].get<std::string>().empty());
  const std::string insight_id = insight["id"];
  EXPECT_TRUE(insight_id.starts_with("source_insight:"));
  EXPECT_EQ(client_->Get("/api/insights/" + insight_id).Json()["content"], insight["content"]);

  EXPECT_EQ(client_->Get("/api/sources/" + source).Json()["insights_count"], 1);
  bool listed = false;
  for (const auto& row : client_->Get("/api/sources?sort_by=insights_count").Json()) {
    if (row["id"] == source) {
      listed = true;
      EXPECT_EQ(row["insights_count"], 1);
    }
  }
  EXPECT_TRUE(listed);

  auto note = client_->Post("/api/insights/" + insight_id + "/save-as-note", {{"notebook_id", notebook_}});
  ASSERT_EQ(note.status, 200) << note.body;
  EXPECT_EQ(note.Json()["note_type"], "ai");
  EXPECT_EQ(note.Json()["content"], insight["content"]);
  EXPECT_EQ(note.Json()["notebook_id"], notebook_);
  EXPECT_EQ(note.Json()["title"], "Dense Summary from source " + stored["title"].get<std::string>());
  EXPECT_EQ(client_->Post("/api/insights/" + insight_id + "/save-as-note", {{"notebook_id", "notebook:x; DELETE"}}).status,
            400);

  EXPECT_EQ(client_->Delete("/api/insights/" + insight_id).status, 200);
  EXPECT_EQ(client_->Get("/api/insights/" + insight_id).status, 404);
  EXPECT_EQ(client_->Get("/api/sources/" + source).Json()["insights_count"], 0);
}

TEST_F(TransformationsTest, RejectedPartIsSplitAgain) {
  if (!fs::exists(kLongDocument)) GTEST_SKIP() << "needs the debian-faq package";
  // The server assumes the default window, far more than the 1,200 words the model accepts, so
  // the model rejects the first requests and the job retries with smaller parts.
  StartServer({"--context-words", "1200", "--answer-max-words", "40"});
  UseChatModel();
  const std::string source = AddLongDocument();
  auto queued = client_->Post("/api/sources/" + source + "/insights", {{"transformation_id", TransformationId("Key Insights")}});
  ASSERT_EQ(queued.status, 202) << queued.body;
  const json job = WaitForJob(queued.Json()["command_id"]);
  ASSERT_EQ(job["status"], "completed") << job.dump();
  EXPECT_GT(job["result"]["parts"].get<int>(), 1);
  RecordProperty("parts", job["result"]["parts"].get<int>());
  RecordProperty("model_calls", job["result"]["model_calls"].get<int>());

  int rejected = 0;
  for (const auto& chat : ChatRequests()) rejected += chat["status"] == 400 ? 1 : 0;
  EXPECT_GT(rejected, 0) << "the first, too large request was rejected";
  ASSERT_EQ(client_->Get("/api/sources/" + source + "/insights").Json().size(), 1u);
}

TEST_F(TransformationsTest, SourceCreationRunsListedTransformations) {
  StartServer({"--answer-max-words", "30"});
  UseChatModel();
  const std::string dense = TransformationId("Dense Summary");
  const std::string simple = TransformationId("Simple Summary");

  auto unknown = client_->PostForm("/api/sources", {{"type", "text"},
                                                    {"content", kTideText},
                                                    {"transformations", json::array({"transformation:nope"}).dump()}});
  EXPECT_EQ(unknown.status, 404) << unknown.body;

  const std::string source =
      AddSource({{"type", "text"}, {"content", kTideText}, {"transformations", json::array({dense, simple}).dump()}});
  json insights;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    insights = client_->Get("/api/sources/" + source + "/insights").Json();
    if (insights.size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(insights.size(), 2u) << insights.dump();
  std::set<std::string> types;
  for (const auto& insight : insights) types.insert(insight["insight_type"]);
  EXPECT_EQ(types, (std::set<std::string>{"Dense Summary", "Simple Summary"}));

  // Processing the source again keeps its insights and makes no duplicates.
  auto retried = client_->Post("/api/sources/" + source + "/retry", json::object());
  ASSERT_EQ(retried.status, 200) << retried.body;
  WaitForJob(retried.Json()["command_id"]);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(client_->Get("/api/sources/" + source + "/insights").Json().size(), 2u);

  // Deleting the source deletes its insights.
  const std::string insight_id = insights[0]["id"];
  ASSERT_EQ(client_->Delete("/api/sources/" + source).status, 200);
  EXPECT_EQ(client_->Get("/api/insights/" + insight_id).status, 404);
  EXPECT_EQ(client_->Get("/api/sources/" + source + "/insights").status, 404);
}

TEST_F(TransformationsTest, InsightsEmbeddedAndFoundByVectorSearch) {
  StartServer({"--answer-max-words", "40"});
  UseChatModel();
  SetDefault("default_embedding_model", AddModel("fake-embed-384", "embedding"));
  const std::string source = AddText(kTideText);
  auto queued = client_->Post("/api/sources/" + source + "/insights", {{"transformation_id", TransformationId("Simple Summary")}});
  ASSERT_EQ(queued.status, 202) << queued.body;
  const json job = WaitForJob(queued.Json()["command_id"]);
  ASSERT_EQ(job["status"], "completed") << job.dump();
  ASSERT_TRUE(job["result"].contains("embed_command_id")) << job.dump();
  ASSERT_EQ(WaitForJob(job["result"]["embed_command_id"])["status"], "completed");
  const std::string insight_id = job["result"]["insight_id"];

  auto search = client_->Post("/api/search", {{"query", "spring tides moon gravity"}, {"type", "vector"},
                                              {"minimum_score", 0}, {"notebook_id", notebook_}});
  ASSERT_EQ(search.status, 200) << search.body;
  bool found = false;
  const json results = search.Json()["results"];
  for (const auto& hit : results) {
    if (hit["id"] == insight_id) {
      found = true;
      EXPECT_EQ(hit["type"], "insight");
      EXPECT_EQ(hit["parent_id"], source);
      EXPECT_EQ(hit["title"].get<std::string>().rfind("Simple Summary - ", 0), 0u) << hit.dump();
    }
  }
  EXPECT_TRUE(found) << search.body;
  auto without_sources = client_->Post("/api/search", {{"query", "spring tides moon gravity"}, {"type", "vector"},
                                                       {"minimum_score", 0}, {"search_sources", false}});
  const json other_results = without_sources.Json()["results"];
  for (const auto& hit : other_results) EXPECT_NE(hit["id"], insight_id);

  auto rebuild = client_->Post("/api/embeddings/rebuild", {{"mode", "all"}});
  ASSERT_EQ(rebuild.status, 200) << rebuild.body;
  const json rebuilt = WaitForJob(rebuild.Json()["command_id"]);
  ASSERT_EQ(rebuilt["status"], "completed") << rebuilt.dump();
  EXPECT_EQ(rebuilt["result"]["insights_submitted"], 1) << rebuilt.dump();
  auto no_insights = client_->Post("/api/embeddings/rebuild", {{"mode", "all"}, {"include_insights", false}});
  ASSERT_EQ(no_insights.status, 200);
  EXPECT_EQ(WaitForJob(no_insights.Json()["command_id"])["result"]["insights_submitted"], 0);
}

TEST_F(TransformationsTest, InsightRequestValidation) {
  StartServer();
  // Without any language model the request names the setting to fix.
  auto no_model = client_->Post("/api/transformations/execute",
                                {{"transformation_id", TransformationId("Reflections")}, {"input_text", kTideText}});
  EXPECT_EQ(no_model.status, 422) << no_model.body;
  EXPECT_NE(no_model.body.find("default_chat_model"), std::string::npos) << no_model.body;

  UseChatModel();
  const std::string source = AddText(kTideText);
  const std::string id = TransformationId("Reflections");
  EXPECT_EQ(client_->Post("/api/sources/source:missing/insights", {{"transformation_id", id}}).status, 404);
  EXPECT_EQ(client_->Post("/api/sources/" + source + "/insights", {{"transformation_id", "transformation:missing"}}).status,
            404);
  EXPECT_EQ(client_->Post("/api/sources/" + source + "/insights", {{"transformation_id", id}, {"model_id", "model:x"}}).status,
            404);
  EXPECT_EQ(client_->Post("/api/sources/" + source + "/insights", json::object()).status, 422);
  EXPECT_EQ(client_->Get("/api/sources/source:missing/insights").status, 404);
  EXPECT_EQ(client_->Get("/api/insights/source_insight:missing").status, 404);
  EXPECT_EQ(client_->Delete("/api/insights/source_insight:missing").status, 404);
  EXPECT_EQ(client_->Get("/api/insights/not%20an%20id").status, 400);
}

TEST_F(TransformationsTest, AiNoteGetsGeneratedTitle) {
  StartServer();
  UseChatModel();
  const std::string content = "Spring tides happen at new and full moon. " + std::string(kTideText);
  auto note = client_->Post("/api/notes", {{"content", content}, {"note_type", "ai"}, {"notebook_id", notebook_}});
  ASSERT_EQ(note.status, 200) << note.body;
  const std::string title = note.Json()["title"];
  EXPECT_EQ(title.rfind("Fake answer to:", 0), 0u) << "the title comes from the model: " << title;
  EXPECT_LE(CountWords(title), 15u) << title;
  const auto chats = ChatRequests();
  ASSERT_EQ(chats.size(), 1u);
  EXPECT_NE(MessageText(chats[0], "system").find("at most 15 words"), std::string::npos);
  EXPECT_EQ(MessageText(chats[0], "user"), content);

  auto titled = client_->Post("/api/notes", {{"content", content}, {"note_type", "ai"}, {"title", "My title"}});
  EXPECT_EQ(titled.Json()["title"], "My title");
  auto human = client_->Post("/api/notes", {{"content", content}});
  EXPECT_TRUE(human.Json()["title"].is_null());
  EXPECT_EQ(ChatRequests().size(), 1u) << "only untitled AI notes ask the model";

  // The default transformation model is preferred over the chat model.
  SetDefault("default_transformation_model", AddModel("fake-titles"));
  ASSERT_EQ(client_->Post("/api/notes", {{"content", content}, {"note_type", "ai"}}).status, 200);
  EXPECT_EQ(ChatRequests().back()["model"], "fake-titles");
}

TEST_F(TransformationsTest, AiNoteTitleFallsBackWhenModelFails) {
  StartServer();
  const std::string content = "# Moon and tides\n\nThe moon pulls the oceans.";
  auto without_model = client_->Post("/api/notes", {{"content", content}, {"note_type", "ai"}});
  ASSERT_EQ(without_model.status, 200) << without_model.body;
  EXPECT_EQ(without_model.Json()["title"], "Moon and tides");

  UseChatModel("fake-chat~server_error");
  const std::string long_line =
      "One two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen";
  auto failing = client_->Post("/api/notes", {{"content", long_line}, {"note_type", "ai"}});
  ASSERT_EQ(failing.status, 200) << "a failing model never fails the save: " << failing.body;
  EXPECT_EQ(failing.Json()["title"],
            "One two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen...");
  EXPECT_EQ(client_->Get("/api/notes/" + failing.Json()["id"].get<std::string>()).Json()["content"], long_line);
  EXPECT_GE(ChatRequests().size(), 1u) << "the model was asked";
}

}  // namespace
}  // namespace on
