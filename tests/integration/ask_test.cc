// Ask over HTTP against the real binary and the fake provider: the event stream and its order,
// the simple variant, malformed search plans, provider errors, cancellation by a closed client,
// heartbeats, the notebook scope and the answer when nothing is found.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>

#include "support/fake_provider_fixture.h"
#include "support/sse_client.h"

namespace on {
namespace {

using nlohmann::json;

using test::kBreadText;
using test::kVirusText;

const char* const kHeronText = "The purple heron code is 7731. Only the lighthouse keeper knows the heron code.";

std::vector<std::string> EventTypes(const std::vector<json>& events) {
  std::vector<std::string> types;
  for (const auto& event : events) types.push_back(event.value("type", "?"));
  return types;
}

class AskTest : public test::FakeProviderTest {
 protected:
  void StartServer(std::map<std::string, std::string> extra_env = {}) {
    extra_env.emplace("OPEN_NOTEBOOK_RETRY_MAX_ATTEMPTS", "2");
    StartWithFakeProvider("Ask", extra_env);
  }

  std::string AddModel(const std::string& name, const std::string& type) { return RegisterModel(name, type); }

  // Registers fake-chat and makes it the default chat model.
  void UseChatModel() { SetDefaultModel("default_chat_model", AddModel("fake-chat", "language")); }

  std::string AddText(const std::string& content, const std::string& notebook, bool embed = false) {
    return AddTextSource(content, notebook, embed);
  }

  test::SseResult Ask(json body) { return test::PostSse(server_->port(), "/api/search/ask", body); }

  // Chat completion requests the fake received, in order.
  std::vector<json> ChatRequests() {
    std::vector<json> requests;
    const json log = fake_->Requests();
    for (const auto& entry : log["log"]) {
      if (entry.value("path", "").ends_with("/chat/completions")) requests.push_back(entry);
    }
    return requests;
  }

};

TEST_F(AskTest, StreamsEventsInOrder) {
  StartServer();
  UseChatModel();
  const std::string virus = AddText(kVirusText, notebook_);
  AddText(kBreadText, notebook_);

  auto response = Ask({{"question", "How do influenza viruses spread between people?"}});
  ASSERT_EQ(response.status, 200) << response.body << response.error;
  EXPECT_EQ(response.Header("content-type"), "text/event-stream");
  EXPECT_EQ(response.Header("cache-control"), "no-cache");
  EXPECT_EQ(response.Header("x-accel-buffering"), "no");

  const std::vector<json> events = response.events;
  const std::vector<std::string> types = EventTypes(events);
  ASSERT_GE(types.size(), 4u) << response.Types();
  EXPECT_EQ(types.front(), "strategy");
  EXPECT_EQ(types[types.size() - 2], "final_answer");
  EXPECT_EQ(types.back(), "complete");
  for (size_t i = 1; i + 2 < types.size(); ++i) EXPECT_EQ(types[i], "answer") << response.Types();

  const json& strategy = events.front();
  ASSERT_TRUE(strategy["searches"].is_array());
  EXPECT_GE(strategy["searches"].size(), 1u);
  EXPECT_LE(strategy["searches"].size(), 5u);
  EXPECT_FALSE(strategy["searches"][0]["term"].get<std::string>().empty());
  EXPECT_FALSE(strategy["reasoning"].get<std::string>().empty());
  EXPECT_FALSE(events[1]["content"].get<std::string>().empty());

  const json& complete = events.back();
  EXPECT_EQ(complete["question"], "How do influenza viruses spread between people?");
  EXPECT_EQ(complete["final_answer"], events[events.size() - 2]["content"]);
  EXPECT_EQ(complete["search_type"], "text") << "keyword search without an embedding model";
  ASSERT_FALSE(complete["citations"].empty()) << complete.dump();
  std::set<std::string> shown;
  for (const auto& item : complete["evidence"]) shown.insert(item["id"].get<std::string>());
  for (const auto& citation : complete["citations"]) {
    EXPECT_TRUE(shown.contains(citation["id"].get<std::string>())) << citation.dump();
    EXPECT_EQ(citation["kind"], "chunk");
    EXPECT_FALSE(citation["title"].is_null());
  }
  EXPECT_EQ(complete["citations"][0]["source_id"], virus);
  EXPECT_NE(complete["final_answer"].get<std::string>().find("[" + complete["citations"][0]["id"].get<std::string>() + "]"),
            std::string::npos);
}

TEST_F(AskTest, SimpleVariantReturnsAnswer) {
  StartServer();
  UseChatModel();
  const std::string virus = AddText(kVirusText, notebook_);
  auto response = client_->Post("/api/search/ask/simple", {{"question", "What lowers the risk of influenza infection?"}});
  ASSERT_EQ(response.status, 200) << response.body;
  const json body = response.Json();
  EXPECT_EQ(body["question"], "What lowers the risk of influenza infection?");
  EXPECT_NE(body["answer"].get<std::string>().find("vaccination"), std::string::npos) << body.dump();
  ASSERT_FALSE(body["citations"].empty());
  EXPECT_EQ(body["citations"][0]["source_id"], virus);
  EXPECT_FALSE(body["answers"].empty());

  // The answer saves as an AI note as the UI does it.
  auto note = client_->Post("/api/notes", {{"title", body["question"]}, {"content", body["answer"]}, {"note_type", "ai"},
                                           {"notebook_id", notebook_}});
  EXPECT_EQ(note.status, 200) << note.body;
}

TEST_F(AskTest, RequestErrorsBeforeStreaming) {
  StartServer();
  auto no_model = Ask({{"question", "anything"}});
  EXPECT_EQ(no_model.status, 422) << no_model.body;
  EXPECT_NE(no_model.body.find("default_chat_model"), std::string::npos) << no_model.body;

  UseChatModel();
  EXPECT_EQ(Ask({{"question", "   "}}).status, 400);
  EXPECT_EQ(Ask({{"question", "x"}, {"unknown_field", 1}}).status, 422);
  auto unknown = Ask({{"question", "x"}, {"answer_model", "model:missing"}});
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_NE(unknown.body.find("answer_model"), std::string::npos);
  auto embedding = Ask({{"question", "x"}, {"strategy_model", AddModel("fake-embed-384", "embedding")}});
  EXPECT_EQ(embedding.status, 400) << embedding.body;
  EXPECT_EQ(Ask({{"question", "x"}, {"notebook_id", "notebook:missing"}}).status, 404);
}

TEST_F(AskTest, MalformedPlanRetriedOnce) {
  StartServer();
  UseChatModel();
  AddText(kVirusText, notebook_);
  // The slow fault returns "token1 token2" instead of a plan, which is not JSON.
  fake_->Script("/v1/chat/completions", {"slow=1,2"});
  auto response = Ask({{"question", "How do influenza viruses spread?"}});
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(EventTypes(response.events).back(), "complete") << response.Types();
  const auto requests = ChatRequests();
  ASSERT_GE(requests.size(), 3u);
  EXPECT_EQ(requests[0]["fault"], "slow=1,2");
  EXPECT_NE(server_->log().find("malformed plan"), std::string::npos);
}

TEST_F(AskTest, MalformedPlanTwiceIsError) {
  StartServer();
  UseChatModel();
  AddText(kVirusText, notebook_);
  fake_->Script("/v1/chat/completions", {"slow=1,2", "slow=1,2"});
  auto response = Ask({{"question", "How do influenza viruses spread?"}});
  ASSERT_EQ(response.status, 200);
  const auto events = response.events;
  ASSERT_EQ(EventTypes(events), std::vector<std::string>{"error"}) << response.Types();
  EXPECT_NE(events[0]["message"].get<std::string>().find("malformed search plan twice"), std::string::npos);
  EXPECT_EQ(ChatRequests().size(), 2u) << "one retry, and no answer calls after the failure";
}

TEST_F(AskTest, ProviderErrorReachesUser) {
  StartServer();
  UseChatModel();
  AddText(kVirusText, notebook_);
  const std::string rejecting = AddModel("fake-chat~bad_request", "language");
  auto response = Ask({{"question", "How do influenza viruses spread?"}, {"answer_model", rejecting}});
  ASSERT_EQ(response.status, 200);
  const auto events = response.events;
  ASSERT_EQ(EventTypes(events).back(), "error") << response.Types();
  EXPECT_EQ(EventTypes(events).front(), "strategy");
  EXPECT_NE(events.back()["message"].get<std::string>().find("the fake provider was told to reject this request"),
            std::string::npos)
      << events.back().dump();

  auto simple = client_->Post("/api/search/ask/simple",
                              {{"question", "How do influenza viruses spread?"}, {"final_answer_model", rejecting}});
  EXPECT_EQ(simple.status, 502) << simple.body;
  EXPECT_NE(simple.body.find("told to reject"), std::string::npos) << simple.body;
}

TEST_F(AskTest, NothingFoundSkipsAnswerModel) {
  StartServer();
  UseChatModel();
  AddText(kBreadText, notebook_);
  auto response = Ask({{"question", "Which submarine cables cross the Pacific?"}});
  ASSERT_EQ(response.status, 200);
  const auto events = response.events;
  ASSERT_EQ(EventTypes(events), (std::vector<std::string>{"strategy", "final_answer", "complete"})) << response.Types();
  EXPECT_TRUE(events.back()["found_nothing"].get<bool>());
  EXPECT_NE(events.back()["final_answer"].get<std::string>().find("found nothing"), std::string::npos);
  EXPECT_TRUE(events.back()["citations"].empty());
  EXPECT_EQ(ChatRequests().size(), 1u) << "only the strategy model is called";
}

TEST_F(AskTest, NotebookScopesSearches) {
  StartServer();
  UseChatModel();
  const std::string other = client_->Post("/api/notebooks", {{"name", "Other"}}).Json()["id"];
  const std::string heron = AddText(kHeronText, notebook_);
  AddText(kBreadText, other);

  auto scoped = Ask({{"question", "What is the purple heron code?"}, {"notebook_id", other}});
  const auto scoped_events = scoped.events;
  ASSERT_FALSE(scoped_events.empty());
  EXPECT_TRUE(scoped_events.back()["found_nothing"].get<bool>()) << scoped.body;
  EXPECT_EQ(scoped_events.back()["notebook_id"], other);

  auto inside = Ask({{"question", "What is the purple heron code?"}, {"notebook_id", notebook_}});
  const auto events = inside.events;
  ASSERT_EQ(EventTypes(events).back(), "complete") << inside.Types();
  ASSERT_FALSE(events.back()["citations"].empty());
  for (const auto& citation : events.back()["citations"]) EXPECT_EQ(citation["source_id"], heron);
  EXPECT_NE(events.back()["final_answer"].get<std::string>().find("7731"), std::string::npos);
}

TEST_F(AskTest, ClosedClientCancelsProviderCalls) {
  StartServer();
  UseChatModel();
  AddText(kVirusText, notebook_);
  // Each answer call waits 20 x 500 ms before the fake answers.
  const std::string slow = AddModel("fake-chat~slow=500,20", "language");
  // The client leaves once the strategy has come and the answer calls have reached the fake.
  const test::SseResult left = test::PostSse(
      server_->port(), "/api/search/ask", {{"question", "How do influenza viruses spread?"}, {"answer_model", slow}},
      [&](const json& event) {
        if (event.value("type", "") != "strategy") return true;
        const auto wait_for_answer_call = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (ChatRequests().size() < 2 && std::chrono::steady_clock::now() < wait_for_answer_call) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
      });
  ASSERT_EQ(left.Types(), "strategy") << left.error;
  EXPECT_FALSE(left.ended);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server_->log().find("ask cancelled") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(server_->log().find("ask cancelled because the client closed the connection"), std::string::npos)
      << "a slow answer takes 10 s; cancellation must end the ask well before that\n"
      << server_->log();
  const size_t calls = ChatRequests().size();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(ChatRequests().size(), calls) << "no provider call starts after the client has gone";
  // After the strategy call, only the slow answer calls reached the fake: no final answer call.
  const auto requests = ChatRequests();
  ASSERT_GE(requests.size(), 2u);
  for (size_t i = 1; i < requests.size(); ++i) EXPECT_EQ(requests[i].value("fault", ""), "slow=500,20") << requests[i].dump();
}

TEST_F(AskTest, HeartbeatsWhileWaiting) {
  StartServer({{"OPEN_NOTEBOOK_SSE_HEARTBEAT_SECONDS", "1"}});
  UseChatModel();
  AddText(kVirusText, notebook_);
  // The answer call takes about 2.5 s, so at least one heartbeat falls into it.
  const std::string slow = AddModel("fake-chat~slow=500,5", "language");
  auto response = Ask({{"question", "How do influenza viruses spread?"}, {"answer_model", slow}});
  ASSERT_EQ(response.status, 200);
  EXPECT_GE(response.heartbeats, 1) << response.Types();
  EXPECT_EQ(EventTypes(response.events).back(), "complete");
}

TEST_F(AskTest, StreamEndsWithoutHeartbeatWait) {
  StartServer();
  UseChatModel();
  AddText(kVirusText, notebook_);
  // The default heartbeat is 15 s. An end of stream that waited for it (a lost wake-up of the
  // writer) would make one of these quick asks take that long.
  for (int i = 0; i < 15; ++i) {
    const auto started = std::chrono::steady_clock::now();
    auto response = Ask({{"question", "How do influenza viruses spread?"}});
    const auto elapsed = std::chrono::steady_clock::now() - started;
    ASSERT_EQ(EventTypes(response.events).back(), "complete") << response.Types();
    EXPECT_LT(elapsed, std::chrono::seconds(5)) << "ask " << i;
  }
}

TEST_F(AskTest, HybridSearchWhenVectorsExist) {
  StartServer();
  UseChatModel();
  const std::string embed = AddModel("fake-embed-384", "embedding");
  ASSERT_EQ(client_->Put("/api/models/defaults", {{"default_embedding_model", embed}}).status, 200);
  const std::string virus = AddText(kVirusText, notebook_, true);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (client_->Post("/api/search", {{"query", "virus"}}).Json().value("search_type", "") != "hybrid" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto response = client_->Post("/api/search/ask/simple", {{"question", "How do influenza viruses spread?"}});
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.Json()["search_type"], "hybrid");
  EXPECT_EQ(response.Json()["citations"][0]["source_id"], virus);

  auto passages = client_->Post("/api/search", {{"query", "influenza droplets"}, {"granularity", "passage"}, {"minimum_score", 0}});
  ASSERT_EQ(passages.status, 200) << passages.body;
  const json first = passages.Json()["results"][0];
  EXPECT_EQ(first["type"], "chunk");
  EXPECT_EQ(first["item_id"], virus);
  EXPECT_TRUE(first["id"].get<std::string>().starts_with("chunk:"));
  EXPECT_EQ(client_->Post("/api/search", {{"query", "x"}, {"granularity", "sentence"}}).status, 400);
}

}  // namespace
}  // namespace on
