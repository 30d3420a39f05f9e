// Notebook chat and source chat over HTTP against the real binary and the fake provider. The
// tests cover sessions, context counts, answers whose citations were in the prompt, and the
// context-window check. They also cover streaming with heartbeats, cancellation, saving an answer
// as a note, and provider errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/fake_provider_fixture.h"
#include "support/sse_client.h"

namespace on {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using test::kBreadText;
using test::kVirusText;

const char* const kRailNote =
    "The railway timetable lists every train between the two cities. Trains leave the station each hour.";

// A text of `paragraphs` distinct paragraphs of about 60 words each, long enough for many chunks.
std::string LongText(int paragraphs, const std::string& last_paragraph = "") {
  static const char* const kWords[] = {"harbour", "lantern", "granite", "meadow", "orchard", "quarry",
                                       "saddle",  "thimble", "willow",  "beacon", "cobalt",  "falcon"};
  std::string text;
  for (int p = 0; p < paragraphs; ++p) {
    text += "Paragraph " + std::to_string(p) + " describes";
    for (int w = 0; w < 60; ++w) text += std::string(" ") + kWords[(p * 7 + w * 5) % 12];
    text += ".\n\n";
  }
  return text + last_paragraph;
}

class ChatTest : public test::FakeProviderTest {
 protected:
  void StartServer(const std::map<std::string, std::string>& extra_env = {}) { StartWithFakeProvider("Chat", extra_env); }

  // Registers a language model of the fake provider; the first one becomes the default.
  std::string AddModel(const std::string& name) {
    const std::string id = RegisterModel(name, "language");
    if (!has_default_) {
      SetDefaultModel("default_chat_model", id);
      has_default_ = true;
    }
    return id;
  }

  // Adds a text source, processed before the response; returns its id.
  std::string AddText(const std::string& content, const std::string& title = "") {
    return AddTextSource(content, notebook_, false, title);
  }

  std::string AddNote(const std::string& title, const std::string& content) {
    auto note = client_->Post("/api/notes", {{"title", title}, {"content", content}, {"notebook_id", notebook_}});
    EXPECT_EQ(note.status, 200) << note.body;
    return note.Json().value("id", "");
  }

  std::string NewSession() {
    auto session = client_->Post("/api/chat/sessions", {{"notebook_id", notebook_}});
    EXPECT_EQ(session.status, 200) << session.body;
    return session.Json().value("id", "");
  }

  // Makes an insight of `source_id` with `transformation_id` as a user does (a job run by the
  // default chat model), waits for it and returns the insight's id.
  std::string AddInsight(const std::string& source_id, const std::string& transformation_id) {
    auto queued = client_->Post("/api/sources/" + source_id + "/insights", {{"transformation_id", transformation_id}});
    EXPECT_EQ(queued.status, 202) << queued.body;
    const std::string job_id = queued.Json().value("command_id", "");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    json job;
    while (std::chrono::steady_clock::now() < deadline) {
      job = client_->Get("/api/commands/jobs/" + job_id).Json();
      if (job.value("status", "") == "completed") return job["result"].value("insight_id", "");
      if (job.value("status", "") == "failed") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "insight job " << job_id << " did not complete: " << job.dump();
    return "";
  }

  json Context(const json& config) {
    json body = {{"notebook_id", notebook_}};
    if (!config.is_null()) body["context_config"] = config;
    auto context = client_->Post("/api/chat/context", body);
    EXPECT_EQ(context.status, 200) << context.body;
    return context.Json();
  }

  // Every id a context shows: sources, their chunks and insights, and notes.
  static std::set<std::string> ContextIdSet(const json& context) {
    std::set<std::string> ids;
    for (const auto& source : context["context"]["sources"]) {
      ids.insert(source["id"].get<std::string>());
      for (const auto& chunk : source.value("chunks", json::array())) ids.insert(chunk["id"].get<std::string>());
      for (const auto& insight : source.value("insights", json::array())) ids.insert(insight["id"].get<std::string>());
    }
    for (const auto& note : context["context"]["notes"]) ids.insert(note["id"].get<std::string>());
    return ids;
  }

  test::SseResult Stream(const std::string& target, const json& body, const test::SseEventCallback& on_event = {}) {
    return test::PostSse(server_->port(), target, body, on_event);
  }

  bool has_default_ = false;
};

TEST_F(ChatTest, SessionCrud) {
  StartServer();
  const std::string model = AddModel("fake-chat");

  auto created = client_->Post("/api/chat/sessions", {{"notebook_id", notebook_}});
  ASSERT_EQ(created.status, 200) << created.body;
  const json session = created.Json();
  EXPECT_TRUE(session["id"].get<std::string>().starts_with("chat_session:"));
  EXPECT_TRUE(session["title"].get<std::string>().starts_with("Chat Session ")) << session.dump();
  EXPECT_EQ(session["notebook_id"], notebook_);
  EXPECT_EQ(session["message_count"], 0);
  EXPECT_TRUE(session["model_override"].is_null());

  auto named = client_->Post("/api/chat/sessions", {{"notebook_id", notebook_}, {"title", "Named"}, {"model_override", model}});
  ASSERT_EQ(named.status, 200) << named.body;
  EXPECT_EQ(named.Json()["model_override"], model);
  const std::string named_id = named.Json()["id"];

  auto list = client_->Get("/api/chat/sessions?notebook_id=" + notebook_);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.Json().size(), 2u);
  EXPECT_EQ(list.Json()[0]["id"], named_id) << "most recently updated first";

  // The bare key works as in the original, which prefixed "chat_session:".
  const std::string bare = session["id"].get<std::string>().substr(std::string("chat_session:").size());
  auto fetched = client_->Get("/api/chat/sessions/" + bare);
  ASSERT_EQ(fetched.status, 200) << fetched.body;
  EXPECT_EQ(fetched.Json()["messages"], json::array());

  // model_override: absent keeps it, null clears it, an unknown model is refused.
  auto renamed = client_->Put("/api/chat/sessions/" + named_id, {{"title", "Renamed"}});
  EXPECT_EQ(renamed.Json()["title"], "Renamed");
  EXPECT_EQ(renamed.Json()["model_override"], model);
  auto cleared = client_->Put("/api/chat/sessions/" + named_id, {{"model_override", nullptr}});
  EXPECT_TRUE(cleared.Json()["model_override"].is_null()) << cleared.body;
  EXPECT_EQ(cleared.Json()["title"], "Renamed");
  EXPECT_EQ(client_->Put("/api/chat/sessions/" + named_id, {{"model_override", "model:missing"}}).status, 404);
  EXPECT_EQ(client_->Put("/api/chat/sessions/" + named_id, {{"title", "  "}}).status, 400);

  EXPECT_EQ(client_->Get("/api/chat/sessions").status, 400);
  EXPECT_EQ(client_->Get("/api/chat/sessions?notebook_id=notebook:missing").status, 404);
  EXPECT_EQ(client_->Post("/api/chat/sessions", {{"notebook_id", "notebook:missing"}}).status, 404);
  EXPECT_EQ(client_->Get("/api/chat/sessions/chat_session:missing").status, 404);

  auto deleted = client_->Delete("/api/chat/sessions/" + named_id);
  ASSERT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.Json()["success"], true);
  EXPECT_EQ(client_->Get("/api/chat/sessions/" + named_id).status, 404);

  // A notebook takes its sessions and their messages with it.
  AddText(kVirusText);
  ASSERT_EQ(client_->Post("/api/chat/execute", {{"session_id", session["id"]}, {"message", "How do viruses spread?"}}).status, 200);
  auto removed = client_->Delete("/api/notebooks/" + notebook_);
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(removed.Json()["deleted_chat_sessions"], 1);
  EXPECT_EQ(client_->Get("/api/chat/sessions/" + session["id"].get<std::string>()).status, 404);
}

TEST_F(ChatTest, ContextModesAndCounts) {
  StartServer();
  const std::string virus = AddText(kVirusText, "Viruses");
  const std::string bread = AddText(kBreadText, "Bread");
  const std::string note = AddNote("Trains", kRailNote);
  AddModel("fake-chat");
  const std::string bread_summary = AddInsight(bread, "transformation:simple_summary");

  // Defaults: a source with insights shows them, one without shows its text; notes in full.
  const json defaults = Context(nullptr);
  ASSERT_EQ(defaults["context"]["sources"].size(), 2u) << defaults.dump();
  for (const auto& source : defaults["context"]["sources"]) {
    if (source["id"] == bread) {
      EXPECT_EQ(source["mode"], "insights");
      EXPECT_FALSE(source.contains("chunks"));
      ASSERT_EQ(source["insights"].size(), 1u);
      EXPECT_EQ(source["insights"][0]["id"], bread_summary);
    } else {
      EXPECT_EQ(source["mode"], "full content");
      ASSERT_EQ(source["chunks"].size(), 1u);
      EXPECT_EQ(source["chunks"][0]["content"], kVirusText);
      EXPECT_TRUE(source["chunks"][0]["id"].get<std::string>().starts_with("chunk:"));
    }
  }
  ASSERT_EQ(defaults["context"]["notes"].size(), 1u);
  EXPECT_EQ(defaults["context"]["notes"][0]["content"], kRailNote);

  const json full = Context({{"sources", {{virus, "full content"}, {bread, "full content"}}}, {"notes", {{note, "not in"}}}});
  const json insights = Context({{"sources", {{virus, "insights"}, {bread, "insights"}}}, {"notes", {{note, "not in"}}}});
  const json none = Context({{"sources", {{virus, "not in"}, {bread, "not in"}}}, {"notes", json::object()}});
  EXPECT_TRUE(full["context"]["notes"].empty());
  EXPECT_GT(full["token_count"].get<int>(), insights["token_count"].get<int>());
  EXPECT_GT(full["char_count"].get<int>(),
            static_cast<int>(std::string(kVirusText).size() + std::string(kBreadText).size()));
  EXPECT_GT(insights["token_count"].get<int>(), 0);
  EXPECT_EQ(none["token_count"], 0);
  EXPECT_EQ(none["char_count"], 0);
  EXPECT_TRUE(none["context"]["sources"].empty());

  // Ids of other notebooks and unknown ids are skipped; bare keys get their prefix.
  const std::string bare = virus.substr(std::string("source:").size());
  const json bare_context = Context({{"sources", {{bare, "full content"}, {"source:elsewhere", "full content"}}}});
  ASSERT_EQ(bare_context["context"]["sources"].size(), 1u);
  EXPECT_EQ(bare_context["context"]["sources"][0]["id"], virus);

  auto bad = client_->Post("/api/chat/context", {{"notebook_id", notebook_}, {"context_config", {{"sources", {{virus, "everything"}}}}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.Json()["detail"].get<std::string>().find("everything"), std::string::npos) << bad.body;
  EXPECT_EQ(client_->Post("/api/chat/context", {{"notebook_id", "notebook:missing"}}).status, 404);
}

TEST_F(ChatTest, ExecuteCitesOnlyWhatWasInContext) {
  StartServer();
  AddModel("fake-chat");
  const std::string virus = AddText(kVirusText, "Viruses");
  AddText(kBreadText, "Bread");
  const std::string note = AddNote("Trains", kRailNote);
  const std::string session = NewSession();

  const json config = {{"sources", {{virus, "full content"}}}, {"notes", {{note, "full content"}}}};
  const std::set<std::string> shown = ContextIdSet(Context(config));
  auto executed = client_->Post("/api/chat/execute", {{"session_id", session},
                                                      {"message", "How do influenza viruses spread between people?"},
                                                      {"context", Context(config)["context"]}});
  ASSERT_EQ(executed.status, 200) << executed.body;
  const json messages = executed.Json()["messages"];
  ASSERT_EQ(messages.size(), 2u) << executed.body;
  EXPECT_EQ(messages[0]["type"], "human");
  EXPECT_EQ(messages[1]["type"], "ai");
  const json citations = messages[1]["citations"];
  ASSERT_FALSE(citations.empty()) << messages[1].dump();
  for (const auto& citation : citations) {
    EXPECT_TRUE(shown.contains(citation["id"].get<std::string>())) << citation.dump();
  }
  EXPECT_EQ(citations[0]["kind"], "chunk");
  EXPECT_EQ(citations[0]["source_id"], virus);
  EXPECT_EQ(citations[0]["chunk_index"], 0);
  EXPECT_NE(messages[1]["content"].get<std::string>().find("[" + citations[0]["id"].get<std::string>() + "]"),
            std::string::npos);

  // The first question names the session; its messages are stored.
  const json stored = client_->Get("/api/chat/sessions/" + session).Json();
  EXPECT_EQ(stored["title"], "How do influenza viruses spread between people?");
  EXPECT_EQ(stored["message_count"], 2);
  EXPECT_EQ(stored["messages"], messages);

  // An id the model copied from the question, not from the context, is removed from the answer.
  auto invented = client_->Post(
      "/api/chat/execute",
      {{"session_id", session},
       {"message", "My colleague wrote note:inventedid42 about droplets spreading influenza viruses.\n\n"
                   "Question: how do droplets spread influenza viruses?"},
       {"context_config", config}});
  ASSERT_EQ(invented.status, 200) << invented.body;
  const json answer = invented.Json()["messages"].back();
  EXPECT_EQ(answer["content"].get<std::string>().find("inventedid42"), std::string::npos) << answer.dump();
  ASSERT_FALSE(answer["citations"].empty()) << answer.dump();
  for (const auto& citation : answer["citations"]) EXPECT_TRUE(shown.contains(citation["id"].get<std::string>()));
  EXPECT_EQ(fake_->RequestCount("/v1/chat/completions"), 2);
}

TEST_F(ChatTest, InventedIdReportedInStream) {
  StartServer();
  AddModel("fake-chat");
  AddText(kVirusText, "Viruses");
  const std::string session = NewSession();
  const test::SseResult result =
      Stream("/api/chat/execute/stream",
             {{"session_id", session},
              {"message", "See source:madeup7 on droplets spreading influenza viruses.\n\n"
                          "Question: how do droplets spread influenza viruses?"}});
  ASSERT_EQ(result.status, 200) << result.body << result.error;
  const auto answers = result.OfType("ai_message");
  ASSERT_EQ(answers.size(), 1u) << result.Types();
  EXPECT_EQ(answers[0]["rejected_citations"], json::array({"source:madeup7"})) << answers[0].dump();
  EXPECT_EQ(answers[0]["content"].get<std::string>().find("madeup7"), std::string::npos);
  EXPECT_FALSE(answers[0]["citations"].empty());
}

TEST_F(ChatTest, WindowRefusedBeforeProviderCall) {
  StartServer({{"OPEN_NOTEBOOK_CONTEXT_WINDOW_TOKENS", "1024"}});
  AddModel("fake-chat");
  AddText(LongText(40), "Long document");
  const std::string session = NewSession();

  for (const std::string route : {"/api/chat/execute", "/api/chat/execute/stream"}) {
    auto refused = client_->Post(route, {{"session_id", session}, {"message", "What does paragraph 3 describe?"}});
    ASSERT_EQ(refused.status, 400) << route << ": " << refused.body;
    const std::string detail = refused.Json()["detail"];
    EXPECT_NE(detail.find("tokens but model fake-chat"), std::string::npos) << detail;
    EXPECT_NE(detail.find("allows 768"), std::string::npos) << detail;  // 1024 less a quarter for the answer
    EXPECT_EQ(refused.Header("content-type"), "application/json") << route;
  }
  EXPECT_EQ(fake_->RequestCount("/v1/chat/completions"), 0) << "no provider call for a prompt that does not fit";
  EXPECT_EQ(client_->Get("/api/chat/sessions/" + session).Json()["message_count"], 0) << "nothing stored";

  // Without the long source the question fits.
  auto fits = client_->Post("/api/chat/execute", {{"session_id", session},
                                                  {"message", "What does paragraph 3 describe?"},
                                                  {"context_config", {{"sources", json::object()}}}});
  EXPECT_EQ(fits.status, 200) << fits.body;
}

TEST_F(ChatTest, StreamSendsTokensHeartbeatsAndCitations) {
  StartServer({{"OPEN_NOTEBOOK_SSE_HEARTBEAT_SECONDS", "1"}});
  AddModel("fake-chat");
  const std::string slow = AddModel("fake-chat~slow=2500,3");
  const std::string virus = AddText(kVirusText, "Viruses");
  const std::string session = NewSession();

  const test::SseResult cited = Stream("/api/chat/execute/stream",
                                       {{"session_id", session}, {"message", "How do influenza viruses spread?"}});
  ASSERT_EQ(cited.status, 200) << cited.body << cited.error;
  EXPECT_EQ(cited.Header("content-type"), "text/event-stream");
  EXPECT_EQ(cited.Header("x-accel-buffering"), "no");
  EXPECT_TRUE(cited.ended);
  const std::string types = cited.Types();
  EXPECT_TRUE(types.starts_with("user_message token ")) << types;
  EXPECT_TRUE(types.ends_with(" token ai_message context_indicators complete")) << types;
  std::string streamed;
  for (const auto& token : cited.OfType("token")) streamed += token["content"].get<std::string>();
  const json answer = cited.OfType("ai_message").at(0);
  EXPECT_EQ(streamed, answer["content"].get<std::string>()) << "the tokens add up to the answer";
  ASSERT_FALSE(answer["citations"].empty());
  EXPECT_EQ(answer["citations"][0]["source_id"], virus);
  const json indicators = cited.OfType("context_indicators").at(0)["data"];
  EXPECT_EQ(indicators["sources"], json::array({virus}));
  EXPECT_EQ(indicators["chunks"], json::array({answer["citations"][0]["id"]}));

  // A slow model: tokens arrive over time, with heartbeats while the stream waits.
  const test::SseResult slow_result = Stream(
      "/api/chat/execute/stream", {{"session_id", session}, {"message", "Anything else?"}, {"model_override", slow}});
  ASSERT_EQ(slow_result.status, 200) << slow_result.error;
  const auto tokens = slow_result.OfType("token");
  ASSERT_EQ(tokens.size(), 3u) << slow_result.Types();
  // Each 2.5 s gap leaves room for two heartbeats. Two in all is the check, because on a loaded
  // machine a gap's second heartbeat may come after the token.
  EXPECT_GE(slow_result.heartbeats, 2) << "heartbeats after 1 s of silence while tokens come 2.5 s apart";
  EXPECT_EQ(slow_result.OfType("ai_message").at(0)["content"], "token1 token2 token3");
  EXPECT_EQ(client_->Get("/api/chat/sessions/" + session).Json()["message_count"], 4);
}

TEST_F(ChatTest, ModelOverridePrecedence) {
  StartServer();
  const std::string default_model = AddModel("fake-chat");
  const std::string session_model = AddModel("fake-chat~slow=1,2");
  AddText(kVirusText);
  const std::string session =
      client_->Post("/api/chat/sessions", {{"notebook_id", notebook_}, {"model_override", session_model}}).Json()["id"];

  // The session's model answers "token1 token2"; the default model cites the context.
  auto by_session = client_->Post("/api/chat/execute", {{"session_id", session}, {"message", "How do viruses spread?"}});
  ASSERT_EQ(by_session.status, 200) << by_session.body;
  EXPECT_EQ(by_session.Json()["messages"].back()["content"], "token1 token2");

  auto by_request = client_->Post("/api/chat/execute", {{"session_id", session},
                                                        {"message", "How do viruses spread?"},
                                                        {"model_override", default_model}});
  ASSERT_EQ(by_request.status, 200) << by_request.body;
  EXPECT_EQ(by_request.Json()["messages"].back()["content"].get<std::string>().rfind("From the context:", 0), 0u);

  ASSERT_EQ(client_->Put("/api/chat/sessions/" + session, {{"model_override", nullptr}}).status, 200);
  auto by_default = client_->Post("/api/chat/execute", {{"session_id", session}, {"message", "How do viruses spread?"}});
  ASSERT_EQ(by_default.status, 200) << by_default.body;
  EXPECT_EQ(by_default.Json()["messages"].back()["content"].get<std::string>().rfind("From the context:", 0), 0u);
  EXPECT_EQ(by_default.Json()["messages"].size(), 6u) << "every question and answer is kept";
}

TEST_F(ChatTest, ClosedClientCancelsProviderCall) {
  StartServer();
  AddModel("fake-chat");
  const std::string slow = AddModel("fake-chat~slow=500,60");
  AddText(kVirusText);
  const std::string session = NewSession();

  const auto started = std::chrono::steady_clock::now();
  const test::SseResult result =
      Stream("/api/chat/execute/stream", {{"session_id", session}, {"message", "Tell me more"}, {"model_override", slow}},
             [](const json& event) { return event.value("type", "") != "token"; });
  ASSERT_EQ(result.status, 200);
  ASSERT_EQ(result.OfType("token").size(), 1u) << result.Types();

  // The server notices the closed connection and cancels the call well before the 30 s answer ends.
  bool cancelled = false;
  while (!cancelled && std::chrono::steady_clock::now() - started < std::chrono::seconds(15)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancelled = server_->log().find("cancelled: the client went away") != std::string::npos;
  }
  EXPECT_TRUE(cancelled) << server_->log();
  const json stored = client_->Get("/api/chat/sessions/" + session).Json();
  ASSERT_EQ(stored["messages"].size(), 1u) << "the question is kept, no partial answer is stored";
  EXPECT_EQ(stored["messages"][0]["type"], "human");
}

TEST_F(ChatTest, ProviderErrorReachesUser) {
  StartServer();
  AddModel("fake-chat");
  const std::string failing = AddModel("fake-chat~bad_request");
  AddText(kVirusText);
  const std::string session = NewSession();

  auto plain = client_->Post("/api/chat/execute", {{"session_id", session}, {"message", "Hi"}, {"model_override", failing}});
  EXPECT_EQ(plain.status, 502) << plain.body;
  EXPECT_NE(plain.body.find("the fake provider was told to reject this request"), std::string::npos) << plain.body;

  const test::SseResult streamed =
      Stream("/api/chat/execute/stream", {{"session_id", session}, {"message", "Hi"}, {"model_override", failing}});
  ASSERT_EQ(streamed.status, 200);
  const auto errors = streamed.OfType("error");
  ASSERT_EQ(errors.size(), 1u) << streamed.Types();
  EXPECT_NE(errors[0]["message"].get<std::string>().find("the fake provider was told to reject this request"),
            std::string::npos)
      << errors[0].dump();
  EXPECT_EQ(errors[0]["status"], 502);

  // No default model and no override: a configuration error naming the fix.
  auto defaults = client_->Put("/api/models/defaults", {{"default_chat_model", nullptr}});
  if (defaults.status == 200) {
    auto unconfigured = client_->Post("/api/chat/execute", {{"session_id", session}, {"message", "Hi"}});
    EXPECT_EQ(unconfigured.status, 422) << unconfigured.body;
  }
  EXPECT_EQ(client_->Post("/api/chat/execute", {{"session_id", session}, {"message", "  "}}).status, 400);
  EXPECT_EQ(client_->Post("/api/chat/execute", {{"message", "Hi"}}).status, 400);
}

TEST_F(ChatTest, SaveAnswerAsNote) {
  StartServer();
  AddModel("fake-chat");
  AddText(kVirusText);
  const std::string session = NewSession();
  auto executed = client_->Post("/api/chat/execute", {{"session_id", session}, {"message", "How do viruses spread?"}});
  ASSERT_EQ(executed.status, 200) << executed.body;
  const json messages = executed.Json()["messages"];
  const std::string question_id = messages[0]["id"];
  const std::string answer_id = messages[1]["id"];
  auto embedding = client_->Post("/api/models", {{"name", "fake-embed-384"}, {"provider", "openai_compatible"}, {"type", "embedding"}});
  ASSERT_EQ(embedding.status, 200) << embedding.body;
  ASSERT_EQ(client_->Put("/api/models/defaults", {{"default_embedding_model", embedding.Json()["id"]}}).status, 200);

  const int calls_before_save = fake_->RequestCount("/v1/chat/completions");
  auto saved = client_->Post("/api/chat/sessions/" + session + "/messages/" + answer_id + "/save-as-note", json::object());
  ASSERT_EQ(saved.status, 200) << saved.body;
  const json note = saved.Json();
  EXPECT_EQ(note["note_type"], "ai");
  EXPECT_EQ(note["content"], messages[1]["content"]);
  EXPECT_EQ(note["notebook_id"], notebook_);
  EXPECT_FALSE(note["command_id"].is_null()) << "the note is queued for embedding like every other note";
  // The title comes from the model: saving made one more chat call.
  EXPECT_EQ(fake_->RequestCount("/v1/chat/completions"), calls_before_save + 1);
  EXPECT_FALSE(note["title"].get<std::string>().empty());
  EXPECT_EQ(client_->Get("/api/notes/" + note["id"].get<std::string>()).Json()["content"], messages[1]["content"]);

  auto titled = client_->Post("/api/chat/sessions/" + session + "/messages/" + answer_id + "/save-as-note",
                              {{"title", "Spread"}});
  EXPECT_EQ(titled.Json()["title"], "Spread");
  EXPECT_EQ(client_->Post("/api/chat/sessions/" + session + "/messages/" + question_id + "/save-as-note", json::object()).status, 400);
  EXPECT_EQ(client_->Post("/api/chat/sessions/" + session + "/messages/chat_message:missing/save-as-note", json::object()).status, 404);
}

TEST_F(ChatTest, SourceChatStreamsWithSourceText) {
  StartServer();
  AddModel("fake-chat");
  const std::string virus = AddText(kVirusText, "Viruses");
  const std::string bread = AddText(kBreadText, "Bread");
  const std::string virus_facts = AddInsight(virus, "transformation:key_insights");
  const std::string base = "/api/sources/" + virus + "/chat/sessions";

  auto created = client_->Post(base, {{"source_id", virus}});
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.Json()["title"], "Source Chat 1");
  EXPECT_EQ(created.Json()["source_id"], virus);
  const std::string session = created.Json()["id"];
  EXPECT_EQ(client_->Post(base, {{"source_id", bread}}).status, 400);

  const test::SseResult result = Stream(base + "/" + session + "/messages", {{"message", "How do influenza viruses spread?"}});
  ASSERT_EQ(result.status, 200) << result.body << result.error;
  const std::string types = result.Types();
  EXPECT_TRUE(types.starts_with("user_message token")) << types;
  EXPECT_TRUE(types.ends_with("ai_message context_indicators complete")) << types;
  const json answer = result.OfType("ai_message").at(0);
  ASSERT_FALSE(answer["citations"].empty()) << answer.dump();
  EXPECT_EQ(answer["citations"][0]["source_id"], virus);
  const json indicators = result.OfType("context_indicators").at(0)["data"];
  EXPECT_EQ(indicators["sources"], json::array({virus}));
  EXPECT_EQ(indicators["insights"], json::array({virus_facts}));
  EXPECT_EQ(indicators["chunks"].size(), 1u);
  EXPECT_TRUE(indicators["notes"].empty());

  // An insight can be cited too.
  const test::SseResult insight_answer =
      Stream(base + "/" + session + "/messages", {{"message", "Does vaccination lower the infection risk?"}});
  ASSERT_EQ(insight_answer.OfType("ai_message").size(), 1u) << insight_answer.Types();
  const json insight_message = insight_answer.OfType("ai_message")[0];
  bool cites_insight = false;
  for (const auto& citation : insight_message["citations"]) {
    cites_insight = cites_insight || citation["id"] == virus_facts;
  }
  EXPECT_TRUE(cites_insight) << insight_message.dump();

  const json stored = client_->Get(base + "/" + session).Json();
  EXPECT_EQ(stored["title"], "How do influenza viruses spread?");
  EXPECT_EQ(stored["messages"].size(), 4u);
  EXPECT_EQ(stored["context_indicators"]["insights"], json::array({virus_facts}));

  // The session belongs to its source only.
  EXPECT_EQ(client_->Get("/api/sources/" + bread + "/chat/sessions/" + session).status, 404);
  EXPECT_EQ(client_->Get("/api/chat/sessions/" + session).status, 404);
  EXPECT_EQ(client_->Post(base + "/" + session + "/messages", {{"message", ""}}).status, 400);

  auto second = client_->Post(base, {{"title", "Second"}});
  auto list = client_->Get(base).Json();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["id"], second.Json()["id"]) << "newest first";
  EXPECT_EQ(client_->Put(base + "/" + session, {{"title", "Renamed"}}).Json()["title"], "Renamed");
  EXPECT_EQ(client_->Delete(base + "/" + session).status, 200);
  EXPECT_EQ(client_->Get(base + "/" + session).status, 404);
}

TEST_F(ChatTest, SourceChatPicksMatchingChunksWithinBudget) {
  StartServer({{"OPEN_NOTEBOOK_SOURCE_CHAT_CONTEXT_TOKENS", "800"}});
  AddModel("fake-chat");
  const std::string long_source =
      AddText(LongText(60, "The zeppelin hangar at the far end stores the spare propellers."), "Long");
  const json source = client_->Get("/api/sources/" + long_source).Json();
  const int chunk_count = source.value("chunk_count", 0);
  ASSERT_GT(chunk_count, 10) << source.dump();
  const std::string base = "/api/sources/" + long_source + "/chat/sessions";
  const std::string session = client_->Post(base, json::object()).Json()["id"];

  const test::SseResult result = Stream(base + "/" + session + "/messages", {{"message", "Where are the spare propellers stored?"}});
  ASSERT_EQ(result.OfType("ai_message").size(), 1u) << result.Types() << result.body;
  const json chunks = result.OfType("context_indicators").at(0)["data"]["chunks"];
  EXPECT_LT(static_cast<int>(chunks.size()), chunk_count) << "only what fits the budget";
  const std::string last_chunk = "chunk:" + long_source.substr(7) + "_" + std::to_string(chunk_count - 1);
  EXPECT_NE(std::find(chunks.begin(), chunks.end(), json(last_chunk)), chunks.end()) << chunks.dump();
  const json answer = result.OfType("ai_message").at(0);
  ASSERT_FALSE(answer["citations"].empty()) << answer.dump();
  EXPECT_EQ(answer["citations"][0]["id"], last_chunk);
}

// After ingesting the Debian FAQ, 20 of its questions asked through chat each get an answer with
// citations, and each citation names a chunk that exists and was in the prompt's context.
TEST_F(ChatTest, DebianFaqQuestionsGetCheckedCitations) {
  const fs::path faq_dir = "/usr/share/doc/debian/FAQ";
  if (!fs::exists(faq_dir)) GTEST_SKIP() << "install debian-faq";
  // The whole FAQ (about 50,000 tokens) is in the prompt, so the model is given a large window.
  StartServer({{"OPEN_NOTEBOOK_ACCESS_LOG", "false"}, {"OPEN_NOTEBOOK_CONTEXT_WINDOW_TOKENS", "128000"}});
  AddModel("fake-chat");

  std::vector<fs::path> chapters;
  for (const auto& entry : fs::directory_iterator(faq_dir)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".en.html") && name != "index.en.html") chapters.push_back(entry.path());
  }
  std::sort(chapters.begin(), chapters.end());
  ASSERT_GE(chapters.size(), 10u);
  std::vector<std::string> questions;
  const std::regex heading(R"(<h2 class="title"[^>]*>([\s\S]*?)</h2>)");
  for (const auto& path : chapters) {
    std::ifstream file(path, std::ios::binary);
    std::stringstream page;
    page << file.rdbuf();
    auto created = client_->PostForm("/api/sources", {{"type", "upload"},
                                                      {"async_processing", "false"},
                                                      {"notebooks", json::array({notebook_}).dump()},
                                                      {"file", page.str(), path.filename().string(), "", ""}});
    ASSERT_EQ(created.status, 200) << path << ": " << created.body;
    const std::string text = page.str();
    for (std::sregex_iterator it(text.begin(), text.end(), heading), end; it != end; ++it) {
      std::string title = std::regex_replace((*it)[1].str(), std::regex("<[^>]+>"), "");
      title = std::regex_replace(title, std::regex(R"(^\s*[0-9]+\.[0-9]+\.(\xC2\xA0|\s)*)"), "");
      title = std::regex_replace(title, std::regex(R"(\s+)"), " ");
      if (!title.empty() && title.back() == '?') questions.push_back(title);
    }
  }
  ASSERT_GE(questions.size(), 20u);

  // Every chapter in full: the whole FAQ is the context of every question.
  json config = {{"sources", json::object()}};
  for (const auto& source : client_->Get("/api/sources?notebook_id=" + notebook_ + "&limit=100").Json()) {
    config["sources"][source["id"].get<std::string>()] = "full content";
  }
  const json context = Context(config);
  const std::set<std::string> shown = ContextIdSet(context);
  std::printf("debian-faq chat context: %zu passages, %d tokens\n", shown.size(), context["token_count"].get<int>());

  int answered = 0;
  for (size_t i = 0; i < 20; ++i) {
    const std::string& question = questions[i * questions.size() / 20];
    const test::SseResult result =
        Stream("/api/chat/execute/stream", {{"notebook_id", notebook_}, {"message", question}, {"context_config", config}});
    ASSERT_EQ(result.status, 200) << question << ": " << result.body << result.error;
    const auto answers = result.OfType("ai_message");
    ASSERT_EQ(answers.size(), 1u) << question << ": " << result.Types();
    const json& answer = answers[0];
    EXPECT_FALSE(answer["citations"].empty()) << question << ": " << answer.dump();
    EXPECT_TRUE(answer["rejected_citations"].empty()) << question << ": " << answer.dump();
    for (const auto& citation : answer["citations"]) {
      const std::string id = citation["id"];
      EXPECT_TRUE(shown.contains(id)) << question << " cites " << id << ", which was not in the context";
      // The cited chunk exists: its source has a chunk with that index.
      const json source = client_->Get("/api/sources/" + citation["source_id"].get<std::string>()).Json();
      EXPECT_LT(citation["chunk_index"].get<int>(), source.value("chunk_count", 0)) << id;
    }
    answered += answer["citations"].empty() ? 0 : 1;
  }
  std::printf("debian-faq chat: %d of 20 answers carry checked citations\n", answered);
  EXPECT_EQ(answered, 20);
}

}  // namespace
}  // namespace on

namespace on {
namespace {

// 200 chat streams at once, each answered by a model that sends 20 tokens 100 ms apart: every
// stream completes with the whole answer.
TEST_F(ChatTest, TwoHundredConcurrentStreamsComplete) {
  StartServer({{"OPEN_NOTEBOOK_ACCESS_LOG", "false"}});
  AddModel("fake-chat");
  const std::string slow = AddModel("fake-chat~slow=100,20");
  AddText(kVirusText);
  constexpr int kStreams = 200;
  std::vector<std::string> sessions;
  for (int i = 0; i < kStreams; ++i) sessions.push_back(NewSession());

  std::vector<test::SseResult> results(kStreams);
  std::vector<std::thread> clients;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kStreams; ++i) {
    clients.emplace_back([&, i] {
      results[i] = test::PostSse(server_->port(), "/api/chat/execute/stream",
                                 {{"session_id", sessions[i]}, {"message", "Stream " + std::to_string(i)},
                                  {"model_override", slow}});
    });
  }
  for (auto& client : clients) client.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%d concurrent chat streams of 2 s each finished in %.1f s\n", kStreams, seconds);

  int complete = 0;
  for (int i = 0; i < kStreams; ++i) {
    const auto& result = results[i];
    const auto answers = result.OfType("ai_message");
    const bool ok = result.status == 200 && result.ended && answers.size() == 1 &&
                    answers[0]["content"] == "token1 token2 token3 token4 token5 token6 token7 token8 token9 token10 "
                                             "token11 token12 token13 token14 token15 token16 token17 token18 token19 token20" &&
                    result.OfType("token").size() == 20 && result.OfType("complete").size() == 1;
    EXPECT_TRUE(ok) << "stream " << i << ": status " << result.status << " " << result.error << " " << result.Types();
    complete += ok ? 1 : 0;
  }
  EXPECT_EQ(complete, kStreams);
  EXPECT_EQ(fake_->RequestCount("/v1/chat/completions"), kStreams);
}

// One token every 2 s for 60 s: the provider's idle time-out never fires while tokens keep
// coming, and the client sees each one as it arrives. Runs under the ctest label "slow".
TEST_F(ChatTest, DISABLED_MinuteLongStreamCompletes) {
  StartServer();
  AddModel("fake-chat");
  const std::string slow = AddModel("fake-chat~slow=2000,30");
  const std::string session = NewSession();
  const test::SseResult result =
      Stream("/api/chat/execute/stream", {{"session_id", session}, {"message", "Take your time"}, {"model_override", slow}});
  ASSERT_EQ(result.status, 200) << result.error;
  ASSERT_EQ(result.OfType("token").size(), 30u) << result.Types();
  ASSERT_EQ(result.OfType("complete").size(), 1u) << result.Types();
  const auto& times = result.event_times;
  EXPECT_GE(times.back() - times.front(), std::chrono::seconds(55)) << "tokens were sent as they came, not at the end";
}

}  // namespace
}  // namespace on
