// Notebooks and notes over HTTP against the real binary, with the password off and on.
#include <gtest/gtest.h>

#include <thread>

#include "support/server_process.h"
#include "support/temp_dir.h"

namespace on {
namespace {

using nlohmann::json;

class ApiTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    std::map<std::string, std::string> env = {{"OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB", "1"}};
    if (GetParam()) env["OPEN_NOTEBOOK_PASSWORD"] = kPassword;
    server_ = std::make_unique<test::ServerProcess>(dir_.path() / "data", env);
    const bool started = server_->Start();
    client_ = std::make_unique<test::HttpClient>(server_->Client());  // valid even when the start failed
    ASSERT_TRUE(started) << server_->log();
    if (GetParam()) client_->set_password(kPassword);
  }

  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->Stop(), 0) << server_->log();
    }
  }

  json CreateNotebook(const std::string& name) {
    auto created = client_->Post("/api/notebooks", {{"name", name}, {"description", "about " + name}});
    EXPECT_EQ(created.status, 200) << created.body;
    return created.Json();
  }

  static constexpr const char* kPassword = "correct horse battery staple";
  test::TempDir dir_;
  std::unique_ptr<test::ServerProcess> server_;
  std::unique_ptr<test::HttpClient> client_;
};

TEST_P(ApiTest, NotebookLifecycle) {
  json notebook = CreateNotebook("Research");
  const std::string id = notebook["id"];
  EXPECT_EQ(id.rfind("notebook:", 0), 0u);
  EXPECT_EQ(notebook["source_count"], 0);
  EXPECT_EQ(notebook["archived"], false);

  auto fetched = client_->Get("/api/notebooks/" + id);
  ASSERT_EQ(fetched.status, 200);
  EXPECT_EQ(fetched.Json()["name"], "Research");

  auto updated = client_->Put("/api/notebooks/" + id, {{"name", "Renamed"}, {"archived", true}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.Json()["name"], "Renamed");
  EXPECT_EQ(updated.Json()["archived"], true);

  auto archived = client_->Get("/api/notebooks?archived=true");
  ASSERT_EQ(archived.status, 200);
  EXPECT_EQ(archived.Json().size(), 1u);
  EXPECT_EQ(client_->Get("/api/notebooks?archived=false").Json().size(), 0u);

  auto preview = client_->Get("/api/notebooks/" + id + "/delete-preview");
  ASSERT_EQ(preview.status, 200);
  EXPECT_EQ(preview.Json()["notebook_name"], "Renamed");

  auto deleted = client_->Delete("/api/notebooks/" + id);
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.Json()["deleted_notes"], 0);
  EXPECT_EQ(client_->Get("/api/notebooks/" + id).status, 404);
}

TEST_P(ApiTest, NotebookOrderBy) {
  CreateNotebook("b-second");
  CreateNotebook("A-first");
  auto by_name = client_->Get("/api/notebooks?order_by=name%20asc");
  ASSERT_EQ(by_name.status, 200);
  EXPECT_EQ(by_name.Json()[0]["name"], "A-first");

  auto bad = client_->Get("/api/notebooks?order_by=name;DROP%20TABLE%20notebook");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.Json()["detail"].get<std::string>().find("order_by"), std::string::npos);
  EXPECT_EQ(client_->Get("/api/notebooks?order_by=created%20sideways").status, 400);
}

TEST_P(ApiTest, NoteLifecycle) {
  const std::string notebook_id = CreateNotebook("Notes")["id"];
  auto created = client_->Post("/api/notes", {{"title", "First"}, {"content", "# Hello\nworld"}, {"notebook_id", notebook_id}});
  ASSERT_EQ(created.status, 200) << created.body;
  const json note = created.Json();
  EXPECT_EQ(note["note_type"], "human");
  EXPECT_TRUE(note["command_id"].is_null());
  const std::string note_id = note["id"];

  auto listed = client_->Get("/api/notes?notebook_id=" + notebook_id);
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.Json().size(), 1u);
  EXPECT_EQ(client_->Get("/api/notebooks/" + notebook_id).Json()["note_count"], 1);

  auto updated = client_->Put("/api/notes/" + note_id, {{"content", "changed"}, {"note_type", "ai"}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.Json()["content"], "changed");
  EXPECT_EQ(updated.Json()["title"], "First");

  ASSERT_EQ(client_->Delete("/api/notes/" + note_id).status, 200);
  EXPECT_EQ(client_->Get("/api/notes/" + note_id).status, 404);
  EXPECT_EQ(client_->Delete("/api/notes/" + note_id).status, 404);
}

// The UI lists a notebook's notes a page at a time: pages follow the order of the full list, never
// overlap, and hold only that notebook's notes.
TEST_P(ApiTest, NotesArePaged) {
  const std::string notebook_id = CreateNotebook("Paged notes")["id"];
  const std::string other_id = CreateNotebook("Other notes")["id"];
  for (int i = 0; i < 7; ++i) {
    ASSERT_EQ(client_->Post("/api/notes", {{"content", "page note " + std::to_string(i)}, {"notebook_id", notebook_id}}).status,
              200);
  }
  ASSERT_EQ(client_->Post("/api/notes", {{"content", "elsewhere"}, {"notebook_id", other_id}}).status, 200);

  const json all = client_->Get("/api/notes?notebook_id=" + notebook_id).Json();
  ASSERT_EQ(all.size(), 7u);
  std::vector<std::string> paged;
  std::vector<size_t> sizes;
  for (int offset = 0; offset < 9; offset += 3) {
    auto page = client_->Get("/api/notes?notebook_id=" + notebook_id + "&limit=3&offset=" + std::to_string(offset));
    ASSERT_EQ(page.status, 200) << page.body;
    sizes.push_back(page.Json().size());
    for (const auto& note : page.Json()) paged.push_back(note["id"]);
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 3, 1}));
  ASSERT_EQ(paged.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(paged[i], all[i]["id"]) << "position " << i;

  // Invalid query values get 422, as on GET /api/sources.
  auto zero = client_->Get("/api/notes?notebook_id=" + notebook_id + "&limit=0");
  EXPECT_EQ(zero.status, 422);
  EXPECT_NE(zero.body.find("limit"), std::string::npos) << zero.body;
  EXPECT_EQ(client_->Get("/api/notes?limit=101").status, 422);
  EXPECT_EQ(client_->Get("/api/notes?limit=5&offset=-1").status, 422);
}

TEST_P(ApiTest, DeletingNotebookDeletesItsNotes) {
  const std::string notebook_id = CreateNotebook("Temp")["id"];
  for (int i = 0; i < 3; ++i) client_->Post("/api/notes", {{"content", "n" + std::to_string(i)}, {"notebook_id", notebook_id}});
  auto deleted = client_->Delete("/api/notebooks/" + notebook_id + "?delete_exclusive_sources=true");
  ASSERT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.Json()["deleted_notes"], 3);
  EXPECT_EQ(client_->Get("/api/notes").Json().size(), 0u);
  EXPECT_EQ(client_->Get("/api/notes?notebook_id=" + notebook_id).status, 404);
}

TEST_P(ApiTest, BadInputStatusCodes) {
  // 400: semantic problems.
  EXPECT_EQ(client_->Post("/api/notebooks", {{"name", "   "}}).status, 400);
  EXPECT_EQ(client_->Post("/api/notes", {{"content", ""}}).status, 400);
  EXPECT_EQ(client_->Post("/api/notes", {{"content", "x"}, {"note_type", "robot"}}).status, 400);
  EXPECT_EQ(client_->Get("/api/notebooks/notebook:x;%20DELETE%20source;").status, 400);
  EXPECT_EQ(client_->Get("/api/notes/notebook:abc").status, 400);

  // 404: well-formed ids that do not exist.
  EXPECT_EQ(client_->Get("/api/notebooks/notebook:doesnotexist").status, 404);
  EXPECT_EQ(client_->Put("/api/notebooks/notebook:doesnotexist", {{"name", "x"}}).status, 404);
  EXPECT_EQ(client_->Post("/api/notes", {{"content", "x"}, {"notebook_id", "notebook:missing"}}).status, 404);
  EXPECT_EQ(client_->Get("/api/no-such-route").status, 404);

  // 422: wrong shape, with the field named.
  auto wrong_type = client_->Post("/api/notebooks", {{"name", 42}});
  EXPECT_EQ(wrong_type.status, 422);
  EXPECT_NE(wrong_type.Json()["detail"].get<std::string>().find("'name'"), std::string::npos);
  auto unknown = client_->Post("/api/notebooks", {{"name", "x"}, {"colour", "red"}});
  EXPECT_EQ(unknown.status, 422);
  EXPECT_NE(unknown.Json()["detail"].get<std::string>().find("'colour'"), std::string::npos);
  auto too_long = client_->Post("/api/notebooks", {{"name", std::string(600, 'n')}});
  EXPECT_EQ(too_long.status, 422);
  EXPECT_EQ(client_->Post("/api/notebooks", json::array({1, 2})).status, 422);
  EXPECT_EQ(client_->Get("/api/recently-viewed?limit=500").status, 422);

  std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
  if (GetParam()) headers.emplace_back("Authorization", std::string("Bearer ") + kPassword);
  auto malformed = client_->Send("POST", "/api/notebooks", "{\"name\": \"unterminated", headers);
  EXPECT_EQ(malformed.status, 422);
  auto bad_utf8 = client_->Send("POST", "/api/notebooks", "{\"name\": \"bad \xff\xfe\"}", headers);
  EXPECT_EQ(bad_utf8.status, 422);
  EXPECT_NE(bad_utf8.Json()["detail"].get<std::string>().find("'name'"), std::string::npos) << bad_utf8.body;

  // Nothing above created anything.
  EXPECT_EQ(client_->Get("/api/notebooks").Json().size(), 0u);
  EXPECT_EQ(client_->Get("/api/notes").Json().size(), 0u);
}

TEST_P(ApiTest, BodyOverLimitGets413WithCors) {
  std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"},
                                                              {"Origin", "https://ui.example.test"}};
  if (GetParam()) headers.emplace_back("Authorization", std::string("Bearer ") + kPassword);
  const std::string big = "{\"name\":\"" + std::string(2u << 20, 'x') + "\"}";
  auto rejected = client_->Send("POST", "/api/notebooks", big, headers);
  EXPECT_EQ(rejected.status, 413);
  EXPECT_EQ(rejected.Json()["detail"], "Request body exceeds the maximum allowed upload size");
  EXPECT_EQ(rejected.Header("access-control-allow-origin"), "*");
  EXPECT_EQ(client_->Get("/api/notebooks").Json().size(), 0u);
}

TEST_P(ApiTest, RecentlyViewedNewestFirst) {
  const std::string first = CreateNotebook("one")["id"];
  const std::string second = CreateNotebook("two")["id"];
  client_->Get("/api/notebooks/" + first);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  client_->Get("/api/notebooks/" + second);
  json recent;
  for (int attempt = 0; attempt < 50; ++attempt) {  // stamping is asynchronous
    recent = client_->Get("/api/recently-viewed").Json();
    if (recent.size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0]["id"], second);
  EXPECT_EQ(recent[0]["type"], "notebook");
}

TEST_P(ApiTest, PublicRoutesNeedNoPassword) {
  test::HttpClient anonymous = server_->Client();
  EXPECT_EQ(anonymous.Get("/health").status, 200);
  auto config = anonymous.Get("/api/config");
  ASSERT_EQ(config.status, 200);
  EXPECT_EQ(config.Json()["dbStatus"], "online");
  EXPECT_EQ(config.body.find(kPassword), std::string::npos);
  auto auth = anonymous.Get("/api/auth/status");
  ASSERT_EQ(auth.status, 200);
  EXPECT_EQ(auth.Json()["auth_enabled"], GetParam());
  EXPECT_EQ(anonymous.Send("OPTIONS", "/api/notebooks").status, 204);
}

TEST_P(ApiTest, PasswordRequiredWhenSet) {
  test::HttpClient anonymous = server_->Client();
  auto missing = anonymous.Get("/api/notebooks");
  if (!GetParam()) {
    EXPECT_EQ(missing.status, 200);
    return;
  }
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.Json()["detail"], "Missing authorization header");
  EXPECT_EQ(missing.Header("www-authenticate"), "Bearer");

  auto wrong_scheme = anonymous.Send("GET", "/api/notebooks", "", {{"Authorization", "Basic abc"}});
  EXPECT_EQ(wrong_scheme.status, 401);
  EXPECT_EQ(wrong_scheme.Json()["detail"], "Invalid authorization header format");

  auto wrong = anonymous.Send("GET", "/openapi.json", "", {{"Authorization", "Bearer nope"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.Json()["detail"], "Invalid password");
  EXPECT_EQ(client_->Get("/openapi.json").status, 200);
}

TEST_P(ApiTest, WrongPasswordsAreThrottled) {
  if (!GetParam()) GTEST_SKIP() << "throttling applies only with a password";
  test::HttpClient anonymous = server_->Client();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(anonymous.Send("GET", "/api/notebooks", "", {{"Authorization", "Bearer guess" + std::to_string(i)}}).status, 401);
  }
  auto throttled = anonymous.Send("GET", "/api/notebooks", "", {{"Authorization", std::string("Bearer ") + kPassword}});
  EXPECT_EQ(throttled.status, 429);
  EXPECT_FALSE(throttled.Header("retry-after").empty());
  EXPECT_EQ(server_->log().find(kPassword), std::string::npos) << "the password must never be logged";
}

// Behind the web UI server or nginx every request arrives from loopback with the client in
// X-Forwarded-For: one client's wrong passwords must not lock out another.
TEST_P(ApiTest, ThrottlingPerForwardedClient) {
  if (!GetParam()) GTEST_SKIP() << "throttling applies only with a password";
  test::HttpClient proxy = server_->Client();
  for (int i = 0; i < 5; ++i) {
    auto wrong = proxy.Send("GET", "/api/notebooks", "",
                            {{"Authorization", "Bearer guess" + std::to_string(i)}, {"X-Forwarded-For", "198.51.100.1, 127.0.0.1"}});
    EXPECT_EQ(wrong.status, 401);
  }
  auto guesser = proxy.Send("GET", "/api/notebooks", "",
                            {{"Authorization", std::string("Bearer ") + kPassword}, {"X-Forwarded-For", "198.51.100.1"}});
  EXPECT_EQ(guesser.status, 429);
  auto other_user = proxy.Send("GET", "/api/notebooks", "",
                               {{"Authorization", std::string("Bearer ") + kPassword}, {"X-Forwarded-For", "198.51.100.2"}});
  EXPECT_EQ(other_user.status, 200);
}

TEST_P(ApiTest, CorsPreflightAndErrorHeaders) {
  auto preflight = server_->Client().Send("OPTIONS", "/api/notebooks", "",
                                          {{"Origin", "https://ui.example.test"}, {"Access-Control-Request-Method", "POST"},
                                           {"Access-Control-Request-Headers", "authorization, content-type"}});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.Header("access-control-allow-origin"), "*");
  EXPECT_TRUE(preflight.Header("access-control-allow-credentials").empty());

  auto not_found = server_->Client().Send("GET", "/api/notebooks/notebook:none", "",
                                          {{"Origin", "https://ui.example.test"}});
  EXPECT_EQ(not_found.Header("access-control-allow-origin"), "*");
  EXPECT_FALSE(not_found.Header("x-request-id").empty());
}

INSTANTIATE_TEST_SUITE_P(Auth, ApiTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? std::string("PasswordOn") : std::string("PasswordOff"); });

}  // namespace
}  // namespace on
