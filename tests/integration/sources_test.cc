// Sources over HTTP against the real binary: creation, processing, search, files and faults.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "support/data_dir_database.h"
#include "support/local_http_server.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace on {
namespace {

using nlohmann::json;
using Field = test::HttpClient::FormField;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

class SourcesTest : public ::testing::Test {
 protected:
  void StartServer(std::map<std::string, std::string> env = {}) {
    env.emplace("OPEN_NOTEBOOK_URL_ALLOWLIST", "127.0.0.1/32");
    env.emplace("OPEN_NOTEBOOK_RETRY_WAIT_MIN", "0");
    env.emplace("OPEN_NOTEBOOK_RETRY_WAIT_MAX", "1");
    server_ = std::make_unique<test::ServerProcess>(dir_.path() / "data", env);
    const bool started = server_->Start();
    client_ = std::make_unique<test::HttpClient>(server_->Client());  // valid even when the start failed
    ASSERT_TRUE(started) << server_->log();
    notebook_ = client_->Post("/api/notebooks", {{"name", "Sources"}}).Json()["id"];
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  json AddText(const std::string& content, bool async = false) {
    auto created = client_->PostForm("/api/sources", {{"type", "text"},
                                                      {"content", content},
                                                      {"notebooks", json::array({notebook_}).dump()},
                                                      {"async_processing", async ? "true" : "false"}});
    EXPECT_EQ(created.status, 200) << created.body;
    return created.Json();
  }

  // Polls the source's status until it is final; returns the last status body.
  json WaitFinal(const std::string& id, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    json status;
    while (std::chrono::steady_clock::now() < deadline) {
      status = client_->Get("/api/sources/" + id + "/status").Json();
      const std::string state = status.value("status", "");
      if (state == "completed" || state == "failed" || state == "cancelled") return status;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return status;
  }

  json Search(const std::string& query, const std::optional<std::string>& notebook = std::nullopt) {
    json body = {{"query", query}, {"type", "text"}, {"minimum_score", 0}};
    if (notebook) body["notebook_id"] = *notebook;
    auto result = client_->Post("/api/search", body);
    EXPECT_EQ(result.status, 200) << result.body;
    return result.Json();
  }

  test::TempDir dir_;
  std::unique_ptr<test::ServerProcess> server_;
  std::unique_ptr<test::HttpClient> client_;
  std::string notebook_;
};

TEST_F(SourcesTest, TextSourceIsProcessedAndSearchable) {
  StartServer();
  json source = AddText("# Lighthouse keeping\n\nThe purple heron code is 7731. Keepers trim the lamp wick at dusk.");
  EXPECT_EQ(source["status"], "completed");
  EXPECT_EQ(source["title"], "Lighthouse keeping");
  EXPECT_GE(source["chunk_count"].get<int>(), 1);

  json results = Search("purple heron");
  ASSERT_EQ(results["results"].size(), 1u);
  EXPECT_EQ(results["results"][0]["id"], source["id"]);
  EXPECT_NE(results["results"][0]["snippet"].get<std::string>().find("<mark>"), std::string::npos);

  const std::string other = client_->Post("/api/notebooks", {{"name", "Other"}}).Json()["id"];
  EXPECT_EQ(Search("purple heron", other)["results"].size(), 0u) << "scoped to another notebook";
  EXPECT_EQ(Search("purple heron", notebook_)["results"].size(), 1u);
  EXPECT_EQ(client_->Get("/api/notebooks/" + notebook_).Json()["source_count"], 1);
}

TEST_F(SourcesTest, NotesAndSourcesFoundTogether) {
  StartServer();
  for (int i = 0; i < 3; ++i) AddText("Generalized linear models: glm fits logistic regression, part " + std::to_string(i) + ".");
  auto note = client_->Post("/api/notes", {{"title", "Regression plan"}, {"content", "Try glm on the survey data."},
                                           {"notebook_id", notebook_}});
  ASSERT_EQ(note.status, 200);

  // Default minimum_score: chunk and note scores come from different indexes and are each scaled
  // to their own best hit, so a note is not drowned by many matching sources.
  auto response = client_->Post("/api/search", {{"query", "glm"}, {"type", "text"}});
  ASSERT_EQ(response.status, 200);
  const json results = response.Json()["results"];
  bool found_note = false;
  for (const auto& result : results) found_note = found_note || result["type"] == "note";
  EXPECT_TRUE(found_note) << results.dump();
  EXPECT_EQ(results.size(), 4u);
}

TEST_F(SourcesTest, ChineseAndJapaneseWordsAreFound) {
  StartServer();
  const std::string japanese = AddText("私は日本語を勉強します。東京に住んでいます。")["id"];
  const std::string chinese = AddText("我们研究感冒病毒的传播。")["id"];
  for (const auto& [query, expected] : std::vector<std::pair<std::string, std::string>>{
           {"東京", japanese}, {"勉強", japanese}, {"感冒", chinese}}) {
    json results = Search(query);
    ASSERT_FALSE(results["results"].empty()) << query;
    EXPECT_EQ(results["results"][0]["id"], expected) << query;
  }
}

TEST_F(SourcesTest, UploadKeepsFileNamesExactly) {
  StartServer();
  const std::string chinese_name = "第1组资料.txt";
  const std::string arabic_name = "تقرير.md";
  auto first = client_->PostForm("/api/sources", {{"type", "upload"},
                                                  {"notebooks", json::array({notebook_}).dump()},
                                                  {"file", "Notes about rivers and deltas.", "fallback.txt", chinese_name, "text/plain"}});
  ASSERT_EQ(first.status, 200) << first.body;
  auto second = client_->PostForm("/api/sources", {{"type", "upload"},
                                                   {"file", "# Report\n\nQuarterly numbers.", arabic_name, "", "text/markdown"}});
  ASSERT_EQ(second.status, 200) << second.body;
  auto third = client_->PostForm("/api/sources", {{"type", "upload"},
                                                  {"file", "Another file with the same name.", "", chinese_name, "text/plain"}});
  ASSERT_EQ(third.status, 200) << third.body;

  json source = client_->Get("/api/sources/" + first.Json()["id"].get<std::string>()).Json();
  EXPECT_EQ(source["original_filename"], chinese_name);
  EXPECT_TRUE(source["file_available"].get<bool>());
  EXPECT_EQ(client_->Get("/api/sources/" + second.Json()["id"].get<std::string>()).Json()["original_filename"], arabic_name);
  EXPECT_NE(source["asset"]["file_path"], third.Json()["asset"]["file_path"]) << "same name, two files";

  auto download = client_->Get("/api/sources/" + first.Json()["id"].get<std::string>() + "/download");
  ASSERT_EQ(download.status, 200);
  EXPECT_EQ(download.body, "Notes about rivers and deltas.");
  EXPECT_EQ(download.Header("content-type"), "application/octet-stream");
  EXPECT_NE(download.Header("content-disposition").find("filename*=UTF-8''%E7%AC%AC1"), std::string::npos)
      << download.Header("content-disposition");

  const auto stored = dir_.path() / "data" / "uploads" / source["asset"]["file_path"].get<std::string>();
  ASSERT_TRUE(std::filesystem::exists(stored));
  ASSERT_EQ(client_->Delete("/api/notebooks/" + notebook_ + "?delete_exclusive_sources=true").status, 200);
  EXPECT_FALSE(std::filesystem::exists(stored)) << "deleting the notebook removes its exclusive source's file";
}

TEST_F(SourcesTest, UnsupportedUploadIs415AndStoresNothing) {
  StartServer();
  const std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89", 33);
  auto rejected = client_->PostForm("/api/sources", {{"type", "upload"}, {"file", png, "picture.png", "", "image/png"}});
  EXPECT_EQ(rejected.status, 415) << rejected.body;
  EXPECT_EQ(client_->Get("/api/sources").Json().size(), 0u);
  const auto uploads = dir_.path() / "data" / "uploads";
  EXPECT_TRUE(!std::filesystem::exists(uploads) || std::filesystem::is_empty(uploads));
}

TEST_F(SourcesTest, BadRequestsNameTheProblem) {
  StartServer();
  EXPECT_EQ(client_->PostForm("/api/sources", {{"type", "link"}}).status, 400);
  EXPECT_EQ(client_->PostForm("/api/sources", {{"type", "upload"}}).status, 400);
  EXPECT_EQ(client_->PostForm("/api/sources", {{"type", "text"}, {"content", "  "}}).status, 400);
  EXPECT_EQ(client_->PostForm("/api/sources", {{"type", "video"}}).status, 400);
  EXPECT_EQ(client_->PostForm("/api/sources", {{"type", "text"}, {"content", "x"}, {"notebooks", "[1,2"}}).status, 422);
  json many = json::array();
  for (int i = 0; i < 51; ++i) many.push_back("notebook:n" + std::to_string(i));
  EXPECT_EQ(client_->PostForm("/api/sources", {{"type", "text"}, {"content", "x"}, {"notebooks", many.dump()}}).status, 422);
  EXPECT_EQ(client_->PostForm("/api/sources", {{"type", "text"}, {"content", "x"}, {"notebook_id", notebook_},
                                               {"notebooks", json::array({notebook_}).dump()}}).status, 422);
  EXPECT_EQ(client_->PostForm("/api/sources", {{"type", "text"}, {"content", "x"},
                                               {"notebooks", R"(["notebook:missing"])"}}).status, 404);
  auto private_url = client_->PostForm("/api/sources", {{"type", "link"}, {"url", "http://169.254.169.254/latest/meta-data"}});
  EXPECT_EQ(private_url.status, 400);
  EXPECT_NE(private_url.body.find("link-local"), std::string::npos) << private_url.body;
  EXPECT_EQ(client_->Get("/api/sources?sort_by=owner").status, 400);
  EXPECT_EQ(client_->Get("/api/sources?limit=101").status, 422);
  EXPECT_EQ(client_->Get("/api/sources").Json().size(), 0u) << "nothing was stored";
}

TEST_F(SourcesTest, ImageOnlyPdfFailsOnceWithReason) {
  StartServer();
  const std::string pdf = ReadFile(std::string(ON_SOURCE_DIR) + "/tests/data/extract/image_only.pdf");
  ASSERT_FALSE(pdf.empty());
  auto created = client_->PostForm("/api/sources", {{"type", "upload"}, {"async_processing", "true"},
                                                    {"file", pdf, "scan.pdf", "", "application/pdf"}});
  ASSERT_EQ(created.status, 200) << created.body;
  json status = WaitFinal(created.Json()["id"]);
  EXPECT_EQ(status["status"], "failed");
  EXPECT_NE(status["message"].get<std::string>().find("no extractable text"), std::string::npos) << status.dump();
  auto job = client_->Get("/api/commands/jobs/" + status["command_id"].get<std::string>()).Json();
  EXPECT_EQ(job["attempts"], 1) << job.dump();

  auto sync = client_->PostForm("/api/sources", {{"type", "upload"}, {"file", pdf, "scan.pdf", "", "application/pdf"}});
  EXPECT_EQ(sync.status, 400) << "synchronous processing returns the permanent error at once: " << sync.body;
  EXPECT_NE(sync.body.find("no extractable text"), std::string::npos);
}

TEST_F(SourcesTest, UrlForbiddenFailsWithStatus) {
  test::LocalHttpServer site;
  site.SetResponse("/private", test::TextResponse(403, "<html><body>Access denied - please log in</body></html>", "text/html"));
  StartServer();
  auto created = client_->PostForm("/api/sources", {{"type", "link"}, {"url", site.Url("/private")}, {"async_processing", "true"}});
  ASSERT_EQ(created.status, 200) << created.body;
  json status = WaitFinal(created.Json()["id"]);
  EXPECT_EQ(status["status"], "failed");
  EXPECT_NE(status["message"].get<std::string>().find("HTTP 403"), std::string::npos) << status.dump();
  EXPECT_EQ(site.RequestCount("/private"), 1) << "a 403 is not retried";
}

TEST_F(SourcesTest, UrlUnavailableTwiceThenCompletes) {
  test::LocalHttpServer site;
  site.SetResponses("/flaky", {test::TextResponse(503, "busy"), test::TextResponse(503, "busy"),
                               test::TextResponse(200, "<html><head><title>River delta</title></head><body><main><p>"
                                                       "Sediment builds the delta over centuries.</p></main></body></html>",
                                                  "text/html; charset=utf-8")});
  StartServer();
  auto created = client_->PostForm("/api/sources", {{"type", "link"}, {"url", site.Url("/flaky")}, {"async_processing", "true"}});
  ASSERT_EQ(created.status, 200) << created.body;
  json status = WaitFinal(created.Json()["id"]);
  EXPECT_EQ(status["status"], "completed") << status.dump();
  EXPECT_EQ(site.RequestCount("/flaky"), 3);
  json source = client_->Get("/api/sources/" + created.Json()["id"].get<std::string>()).Json();
  EXPECT_EQ(source["title"], "River delta");
  EXPECT_NE(source["full_text"].get<std::string>().find("Sediment builds the delta"), std::string::npos);
}

TEST_F(SourcesTest, DeletedSourcesAreNeverFound) {
  StartServer();
  const std::string kept = AddText("Otters hold hands while sleeping on the river.")["id"];
  const std::string removed = AddText("The purple heron code is 7731.")["id"];
  ASSERT_EQ(Search("purple heron")["results"].size(), 1u);

  ASSERT_EQ(client_->Delete("/api/sources/" + removed).status, 200);
  EXPECT_EQ(Search("purple heron")["results"].size(), 0u);
  EXPECT_EQ(client_->Get("/api/sources/" + removed).status, 404);

  auto deleted = client_->Delete("/api/notebooks/" + notebook_ + "?delete_exclusive_sources=true");
  ASSERT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.Json()["deleted_sources"], 1);
  EXPECT_EQ(Search("otters")["results"].size(), 0u);
  EXPECT_EQ(client_->Get("/api/sources/" + kept).status, 404);
}

TEST_F(SourcesTest, RetryQueuesOneJob) {
  test::LocalHttpServer site;
  // The page responds slowly to the retried fetch, so the second click comes while the job still
  // runs. A fast response can complete the job between the two requests, and a retry of a
  // completed source processes it again.
  test::HttpResponse slow = test::TextResponse(200, "Now it is here, plain text.");
  slow.delay_before_headers = std::chrono::milliseconds(3000);
  site.SetResponses("/later", {test::TextResponse(404, "missing"), slow});
  StartServer();
  auto created = client_->PostForm("/api/sources", {{"type", "link"}, {"url", site.Url("/later")}, {"async_processing", "true"}});
  const std::string id = created.Json()["id"];
  ASSERT_EQ(WaitFinal(id)["status"], "failed");

  auto first = client_->Send("POST", "/api/sources/" + id + "/retry");
  auto second = client_->Send("POST", "/api/sources/" + id + "/retry");
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(first.Json()["command_id"], second.Json()["command_id"]) << "a double click queues one job";
  EXPECT_EQ(WaitFinal(id)["status"], "completed");
  EXPECT_EQ(site.RequestCount("/later"), 2);
}

TEST_F(SourcesTest, LinkUnlinkAndList) {
  StartServer();
  const std::string id = AddText("Linked text.")["id"];
  const std::string other = client_->Post("/api/notebooks", {{"name", "Second"}}).Json()["id"];
  ASSERT_EQ(client_->Send("POST", "/api/notebooks/" + other + "/sources/" + id).status, 200);
  ASSERT_EQ(client_->Send("POST", "/api/notebooks/" + other + "/sources/" + id).status, 200) << "idempotent";
  EXPECT_EQ(client_->Get("/api/sources?notebook_id=" + other).Json().size(), 1u);
  EXPECT_EQ(client_->Get("/api/notebooks/" + notebook_ + "/delete-preview").Json()["shared_source_count"], 1);
  ASSERT_EQ(client_->Send("DELETE", "/api/notebooks/" + other + "/sources/" + id).status, 200);
  EXPECT_EQ(client_->Get("/api/sources?notebook_id=" + other).Json().size(), 0u);
  EXPECT_EQ(client_->Send("POST", "/api/notebooks/notebook:missing/sources/" + id).status, 404);

  AddText("Second text.");
  auto page = client_->Get("/api/sources?limit=1&offset=1&sort_by=created&sort_order=asc").Json();
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0]["title"], "Second text.");
}

TEST_F(SourcesTest, WorkerKilledMidProcessingLosesNothing) {
  test::TempDir docs;
  StartServer({{"OPEN_NOTEBOOK_JOB_LEASE_SECONDS", "2"}});
  std::string paragraph;
  for (int i = 0; i < 3000; ++i) paragraph += "Sentence number " + std::to_string(i) + " about tides and estuaries. ";
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    auto created = client_->PostForm("/api/sources", {{"type", "text"}, {"content", paragraph + " Document " + std::to_string(i)},
                                                      {"async_processing", "true"}});
    ASSERT_EQ(created.status, 200);
    ids.push_back(created.Json()["id"]);
  }
  server_->Kill();  // while most of the 50 are still queued or running

  server_ = std::make_unique<test::ServerProcess>(dir_.path() / "data", std::map<std::string, std::string>{
                                                                            {"OPEN_NOTEBOOK_JOB_LEASE_SECONDS", "2"}});
  const bool started = server_->Start();
  client_ = std::make_unique<test::HttpClient>(server_->Client());  // valid even when the start failed
  ASSERT_TRUE(started) << server_->log();
  for (const auto& id : ids) {
    json status = WaitFinal(id, std::chrono::seconds(120));
    EXPECT_TRUE(status["status"] == "completed" || (status["status"] == "failed" && !status["message"].get<std::string>().empty()))
        << id << " " << status.dump();
  }

  const test::SqlResult duplicated = test::QueryDataDir(
      dir_.path() / "data",
      "SELECT count(*) FROM (SELECT source_id, chunk_index FROM source_chunk GROUP BY 1, 2 HAVING count(*) > 1) d");
  ASSERT_EQ(duplicated.error, "");
  ASSERT_EQ(duplicated.rows.size(), 1u);
  EXPECT_EQ(duplicated.rows[0][0], "0") << "no chunk is duplicated";
}

}  // namespace
}  // namespace on
