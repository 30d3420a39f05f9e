#include <gtest/gtest.h>

#include "api/json_body.h"
#include "core/ids.h"
#include "http/cors.h"
#include "http/error_mapping.h"
#include "http/password_guard.h"
#include "http/router.h"

namespace on {
namespace {

TEST(Router, MatchesParameters) {
  http::Router router;
  router.Add("GET", "/api/notebooks/{notebook_id}", [](http::Request&) -> Result<http::Response> { return http::Response{}; });
  http::Request request;
  request.method = "GET";
  request.path = "/api/notebooks/notebook:abc";
  const http::Handler* handler = nullptr;
  std::string allowed;
  EXPECT_EQ(router.Find(request, &handler, &allowed), http::Router::Match::kFound);
  EXPECT_EQ(request.Param("notebook_id"), "notebook:abc");
}

TEST(Router, WrongMethodListsAllowed) {
  http::Router router;
  router.Add("GET", "/api/notes", [](http::Request&) -> Result<http::Response> { return http::Response{}; });
  router.Add("POST", "/api/notes", [](http::Request&) -> Result<http::Response> { return http::Response{}; });
  http::Request request;
  request.method = "PATCH";
  request.path = "/api/notes";
  const http::Handler* handler = nullptr;
  std::string allowed;
  EXPECT_EQ(router.Find(request, &handler, &allowed), http::Router::Match::kWrongMethod);
  EXPECT_EQ(allowed, "GET, POST");
}

TEST(Router, UnknownPath) {
  http::Router router;
  router.Add("GET", "/api/notes", [](http::Request&) -> Result<http::Response> { return http::Response{}; });
  http::Request request;
  request.method = "GET";
  request.path = "/api/notes/extra/segments";
  const http::Handler* handler = nullptr;
  std::string allowed;
  EXPECT_EQ(router.Find(request, &handler, &allowed), http::Router::Match::kNoPath);
}

TEST(Router, ReportsMatchedPattern) {
  http::Router router;
  router.Add("GET", "/api/sources", [](http::Request&) -> Result<http::Response> { return http::Response{}; });
  router.Add("GET", "/api/sources/{source_id}", [](http::Request&) -> Result<http::Response> { return http::Response{}; });
  router.Add("DELETE", "/api/sources/{source_id}", [](http::Request&) -> Result<http::Response> { return http::Response{}; });
  const http::Handler* handler = nullptr;
  std::string allowed;

  http::Request found;
  found.method = "DELETE";
  found.path = "/api/sources/source:abc";
  std::string_view pattern;
  EXPECT_EQ(router.Find(found, &handler, &allowed, &pattern), http::Router::Match::kFound);
  EXPECT_EQ(pattern, "/api/sources/{source_id}");

  http::Request wrong_method;
  wrong_method.method = "PUT";
  wrong_method.path = "/api/sources/source:abc";
  pattern = {};
  EXPECT_EQ(router.Find(wrong_method, &handler, &allowed, &pattern), http::Router::Match::kWrongMethod);
  EXPECT_EQ(pattern, "/api/sources/{source_id}");

  http::Request unknown;
  unknown.method = "GET";
  unknown.path = "/api/sources/source:abc/extra";
  pattern = {};
  EXPECT_EQ(router.Find(unknown, &handler, &allowed, &pattern), http::Router::Match::kNoPath);
  EXPECT_TRUE(pattern.empty());
}

TEST(Query, DecodesPercentAndPlus) {
  auto pairs = http::ParseQuery("order_by=name+asc&x=%E4%BD%A0&bad=%zz");
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[0].second, "name asc");
  EXPECT_EQ(pairs[1].second, "\xE4\xBD\xA0");
  EXPECT_EQ(pairs[2].second, "%zz");
}

TEST(Ids, NormalizeAcceptsBareAndPrefixed) {
  EXPECT_EQ(*NormalizeId("notebook", "abc", "id"), "notebook:abc");
  EXPECT_EQ(*NormalizeId("notebook", "notebook:abc", "id"), "notebook:abc");
}

TEST(Ids, NormalizeRejectsInjection) {
  for (const char* bad : {"notebook:x; DELETE source;", "note:abc", "", "notebook:", "a/b", "x'--", "notebook:\xff"}) {
    auto id = NormalizeId("notebook", bad, "notebook_id");
    ASSERT_FALSE(id.ok()) << bad;
    EXPECT_EQ(id.status().code(), ErrorCode::kInvalidInput);
    EXPECT_NE(id.status().message().find("notebook_id"), std::string::npos);
  }
}

TEST(Ids, NewIdIsValid) {
  const std::string id = NewId("note");
  EXPECT_EQ(id.size(), 25u);
  EXPECT_TRUE(NormalizeId("note", id, "id").ok());
  EXPECT_NE(NewId("note"), id);
}

TEST(JsonBody, RejectsMalformedJson) {
  auto body = api::JsonBody::Parse("{\"name\": ", {"name"});
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().code(), ErrorCode::kValidation);
}

TEST(JsonBody, NamesFieldWithInvalidUtf8) {
  auto body = api::JsonBody::Parse("{\"description\": \"ok\", \"name\": \"bad \xC3\x28 text\"}", {"name", "description"});
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.status().message().find("'name'"), std::string::npos) << body.status().message();
}

TEST(JsonBody, RejectsUnknownField) {
  auto body = api::JsonBody::Parse(R"({"name":"a","owner":"b"})", {"name"});
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.status().message().find("'owner'"), std::string::npos);
}

TEST(JsonBody, RejectsWrongTypeAndLength) {
  auto body = api::JsonBody::Parse(R"({"name":5,"description":"abcdef"})", {"name", "description"});
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->String("name", 10).status().code(), ErrorCode::kValidation);
  EXPECT_EQ(body->String("description", 3).status().code(), ErrorCode::kValidation);
  EXPECT_TRUE(body->String("description", 6).ok());
}

TEST(JsonBody, RejectsNonObject) {
  EXPECT_FALSE(api::JsonBody::Parse("[1,2]", {}).ok());
  EXPECT_FALSE(api::JsonBody::Parse("\"text\"", {}).ok());
}

TEST(ErrorMapping, EveryCodeHasStatus) {
#define ON_CHECK_STATUS(name, number, description) \
  EXPECT_GE(http::HttpStatusFor(ErrorCode::name), 200) << #name;
  ON_ERROR_CODES(ON_CHECK_STATUS)
#undef ON_CHECK_STATUS
  EXPECT_EQ(http::HttpStatusFor(ErrorCode::kNotFound), 404);
  EXPECT_EQ(http::HttpStatusFor(ErrorCode::kValidation), 422);
  EXPECT_EQ(http::HttpStatusFor(ErrorCode::kPayloadTooLarge), 413);
}

TEST(ErrorMapping, InternalDetailIsGeneric) {
  auto response = http::ErrorResponse(DatabaseError("no such table: secret_internal_table"));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body.find("secret_internal_table"), std::string::npos);
}

TEST(PasswordGuard, DisabledWithoutPassword) {
  http::PasswordGuard guard("", 5, std::chrono::seconds(30));
  std::chrono::seconds retry{0};
  EXPECT_TRUE(guard.Check("1.2.3.4", std::nullopt, &retry).ok());
}

TEST(PasswordGuard, MessagesFollowReference) {
  http::PasswordGuard guard("secret", 5, std::chrono::seconds(30));
  std::chrono::seconds retry{0};
  EXPECT_EQ(guard.Check("a", std::nullopt, &retry).message(), "Missing authorization header");
  EXPECT_EQ(guard.Check("a", "Basic abc", &retry).message(), "Invalid authorization header format");
  EXPECT_EQ(guard.Check("a", "Bearer wrong", &retry).message(), "Invalid password");
  EXPECT_TRUE(guard.Check("a", "bearer secret", &retry).ok());
}

TEST(PasswordGuard, ThrottlesRepeatedFailures) {
  http::PasswordGuard guard("secret", 3, std::chrono::seconds(30));
  std::chrono::seconds retry{0};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(guard.Check("10.9.9.9", "Bearer nope", &retry).code(), ErrorCode::kUnauthenticated);
  Status locked = guard.Check("10.9.9.9", "Bearer secret", &retry);
  EXPECT_EQ(locked.code(), ErrorCode::kRateLimited);
  EXPECT_GE(retry.count(), 29);
  EXPECT_TRUE(guard.Check("10.9.9.10", "Bearer secret", &retry).ok()) << "another address is not locked";
}

TEST(Cors, WildcardNeverSendsCredentials) {
  http::CorsPolicy cors("*");
  http::Request request;
  request.headers = {{"origin", "https://evil.test"}};
  http::Response response;
  cors.Apply(request, response);
  bool credentials = false;
  for (const auto& [name, value] : response.headers) credentials |= name == "Access-Control-Allow-Credentials";
  EXPECT_FALSE(credentials);
}

TEST(Cors, ListedOriginGetsCredentials) {
  http::CorsPolicy cors("https://notes.example.test, https://other.test");
  http::Request request;
  request.headers = {{"origin", "https://notes.example.test"}};
  http::Response response;
  cors.Apply(request, response);
  std::string origin, credentials;
  for (const auto& [name, value] : response.headers) {
    if (name == "Access-Control-Allow-Origin") origin = value;
    if (name == "Access-Control-Allow-Credentials") credentials = value;
  }
  EXPECT_EQ(origin, "https://notes.example.test");
  EXPECT_EQ(credentials, "true");
}

TEST(Cors, UnlistedOriginGetsNothing) {
  http::CorsPolicy cors("https://notes.example.test");
  http::Request request;
  request.headers = {{"origin", "https://evil.test"}};
  http::Response response;
  cors.Apply(request, response);
  for (const auto& [name, value] : response.headers) EXPECT_NE(name, "Access-Control-Allow-Origin");
}

}  // namespace
}  // namespace on
