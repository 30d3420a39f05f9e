// Tests of FetchUrl against a server on 127.0.0.1. Host names ending in .test resolve only through
// StaticHostResolver, and rejected addresses (10.0.0.1) are rejected before any connection, so no
// packet leaves the loopback interface.
#include "ingest/url_fetcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/local_http_server.h"

namespace on::ingest {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::HttpResponse;
using test::LocalHttpServer;
using test::RedirectResponse;
using test::TextResponse;

class UrlFetcher : public ::testing::Test {
 protected:
  UrlFetcher() {
    options_.connect_timeout = milliseconds(2000);
    options_.total_timeout = milliseconds(5000);
  }

  Result<FetchResponse> Fetch(const std::string& url) { return FetchUrl(url, options_, policy_, resolver_); }

  // "http://<host>:<server port><path>", for URLs whose host goes through resolver_.
  std::string HostUrl(const std::string& host, const std::string& path) const {
    return "http://" + host + ":" + std::to_string(server_.port()) + path;
  }

  LocalHttpServer server_;
  FetchOptions options_;
  UrlPolicy policy_{{"127.0.0.1/32"}};
  StaticHostResolver resolver_;
};

TEST_F(UrlFetcher, FetchesHtml) {
  server_.SetResponse("/page", TextResponse(200, "<html><body>Hello</body></html>", "text/html; charset=utf-8"));

  const Result<FetchResponse> response = Fetch(server_.Url("/page"));

  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->http_status, 200);
  EXPECT_EQ(response->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(response->body, "<html><body>Hello</body></html>");
  EXPECT_EQ(response->final_url, server_.Url("/page"));
  EXPECT_EQ(response->redirects_followed, 0);
  EXPECT_FALSE(response->retry_after.has_value());
}

TEST_F(UrlFetcher, SendsUserAgentAndAccept) {
  server_.SetResponse("/page", TextResponse(200, "ok"));
  options_.user_agent = "OpenNotebookTest/1";

  ASSERT_TRUE(Fetch(server_.Url("/page")).ok());

  const std::vector<test::HttpRequest> requests = server_.Requests("/page");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].headers.at("user-agent"), "OpenNotebookTest/1");
  EXPECT_EQ(requests[0].headers.at("accept"), options_.accept);
}

TEST_F(UrlFetcher, ReturnsErrorStatus) {
  server_.SetResponse("/secret", TextResponse(403, "Forbidden"));

  const Result<FetchResponse> response = Fetch(server_.Url("/secret"));

  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->http_status, 403);
  EXPECT_EQ(response->body, "Forbidden");
}

TEST_F(UrlFetcher, ParsesRetryAfter) {
  HttpResponse busy = TextResponse(503, "busy");
  busy.headers.emplace_back("Retry-After", "7");
  server_.SetResponse("/busy", busy);

  const Result<FetchResponse> response = Fetch(server_.Url("/busy"));

  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->http_status, 503);
  ASSERT_TRUE(response->retry_after.has_value());
  EXPECT_EQ(*response->retry_after, seconds(7));
}

TEST_F(UrlFetcher, FollowsRedirectChain) {
  server_.SetResponse("/a", RedirectResponse("/b", 301));
  server_.SetResponse("/b", RedirectResponse(server_.Url("/c"), 307));
  server_.SetResponse("/c", RedirectResponse("d?x=1", 303));
  server_.SetResponse("/d", TextResponse(200, "final", "text/plain"));

  const Result<FetchResponse> response = Fetch(server_.Url("/a"));

  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->http_status, 200);
  EXPECT_EQ(response->body, "final");
  EXPECT_EQ(response->final_url, server_.Url("/d?x=1"));
  EXPECT_EQ(response->redirects_followed, 3);
  EXPECT_EQ(server_.RequestCount("/d"), 1);
}

TEST_F(UrlFetcher, LimitsRedirects) {
  server_.SetResponse("/loop", RedirectResponse("/loop"));
  options_.max_redirects = 3;

  const Result<FetchResponse> response = Fetch(server_.Url("/loop"));

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), ErrorCode::kUpstream);
  EXPECT_NE(response.status().message().find("too many redirects"), std::string::npos) << response.status().message();
  EXPECT_EQ(server_.RequestCount("/loop"), 4);
}

TEST_F(UrlFetcher, ReturnsRedirectWithoutLocation) {
  server_.SetResponse("/choices", TextResponse(300, "pick one"));

  const Result<FetchResponse> response = Fetch(server_.Url("/choices"));

  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->http_status, 300);
}

TEST_F(UrlFetcher, RejectsRedirectToPrivateHost) {
  resolver_.SetAnswers("internal.test", {{"10.0.0.1"}});
  server_.SetResponse("/go", RedirectResponse("http://internal.test/"));

  const Result<FetchResponse> response = Fetch(server_.Url("/go"));

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), ErrorCode::kForbidden);
  EXPECT_NE(response.status().message().find("internal.test resolves to 10.0.0.1"), std::string::npos)
      << response.status().message();
  EXPECT_EQ(resolver_.ResolveCount("internal.test"), 1);
}

TEST_F(UrlFetcher, RejectsRedirectToOtherScheme) {
  server_.SetResponse("/go", RedirectResponse("file:///etc/passwd"));

  const Result<FetchResponse> response = Fetch(server_.Url("/go"));

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), ErrorCode::kForbidden);
  EXPECT_NE(response.status().message().find("redirect from"), std::string::npos) << response.status().message();
}

TEST_F(UrlFetcher, ConnectsToResolvedAddress) {
  resolver_.SetAnswers("pinned.test", {{"127.0.0.1"}});
  server_.SetResponse("/page", TextResponse(200, "pinned"));

  const Result<FetchResponse> response = Fetch(HostUrl("pinned.test", "/page"));

  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "pinned");
  const std::vector<test::HttpRequest> requests = server_.Requests("/page");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.at("host"), "pinned.test:" + std::to_string(server_.port()));
}

TEST_F(UrlFetcher, SendsPunycodeHost) {
  resolver_.SetAnswers("xn--bcher-kva.test", {{"127.0.0.1"}});
  server_.SetResponse("/page", TextResponse(200, "idn"));

  const Result<FetchResponse> response = Fetch(HostUrl("b\xC3\xBC" "cher.test", "/page"));

  ASSERT_TRUE(response.ok()) << response.status().ToString();
  const std::vector<test::HttpRequest> requests = server_.Requests("/page");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.at("host"), "xn--bcher-kva.test:" + std::to_string(server_.port()));
}

TEST_F(UrlFetcher, ChecksEveryHopAgainstRebinding) {
  resolver_.SetAnswers("rebind.test", {{"127.0.0.1"}, {"10.0.0.1"}});
  server_.SetResponse("/start", RedirectResponse("/next"));
  server_.SetResponse("/next", TextResponse(200, "must not be reached"));

  const Result<FetchResponse> response = Fetch(HostUrl("rebind.test", "/start"));

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), ErrorCode::kForbidden);
  EXPECT_EQ(resolver_.ResolveCount("rebind.test"), 2);
  EXPECT_EQ(server_.RequestCount("/start"), 1);
  EXPECT_EQ(server_.RequestCount("/next"), 0);
}

TEST_F(UrlFetcher, RejectsHostWithAnyPrivateAddress) {
  resolver_.SetAnswers("mixed.test", {{"127.0.0.1", "10.0.0.1"}});
  server_.SetResponse("/page", TextResponse(200, "must not be reached"));

  const Result<FetchResponse> response = Fetch(HostUrl("mixed.test", "/page"));

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), ErrorCode::kForbidden);
  EXPECT_EQ(server_.RequestCount("/page"), 0);
}

TEST_F(UrlFetcher, RejectsLoopbackWithoutAllowList) {
  server_.SetResponse("/page", TextResponse(200, "must not be reached"));
  policy_.allow_cidrs.clear();

  const Result<FetchResponse> response = Fetch(server_.Url("/page"));

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), ErrorCode::kForbidden);
  EXPECT_NE(response.status().message().find("OPEN_NOTEBOOK_URL_ALLOWLIST"), std::string::npos);
  EXPECT_EQ(server_.RequestCount("/page"), 0);
}

TEST_F(UrlFetcher, RejectsPrivateLiteral) {
  const Result<FetchResponse> response = Fetch("http://10.0.0.1/");

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), ErrorCode::kForbidden);
}

TEST_F(UrlFetcher, RejectsCredentials) {
  const Result<FetchResponse> response = Fetch("http://user:pw@127.0.0.1:" + std::to_string(server_.port()) + "/");

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), ErrorCode::kInvalidInput);
}

TEST_F(UrlFetcher, TriesNextAddress) {
  // Nothing listens on ::1 at the server's port, so the first attempt is refused.
  resolver_.SetAnswers("dual.test", {{"::1", "127.0.0.1"}});
  policy_.allow_cidrs.push_back("::1/128");
  server_.SetResponse("/page", TextResponse(200, "second address"));

  const Result<FetchResponse> response = Fetch(HostUrl("dual.test", "/page"));

  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "second address");
}

TEST_F(UrlFetcher, IgnoresProxyVariables) {
  server_.SetResponse("/page", TextResponse(200, "direct"));
  const std::string dead_proxy = "http://127.0.0.1:" + std::to_string(test::ClosedLocalPort());
  for (const char* name : {"http_proxy", "HTTPS_PROXY", "ALL_PROXY"}) setenv(name, dead_proxy.c_str(), 1);

  const Result<FetchResponse> response = Fetch(server_.Url("/page"));

  for (const char* name : {"http_proxy", "HTTPS_PROXY", "ALL_PROXY"}) unsetenv(name);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "direct");
}

TEST_F(UrlFetcher, LimitsDeclaredBodySize) {
  server_.SetResponse("/big", TextResponse(200, std::string(100 * 1024, 'x')));
  options_.max_body_bytes = 10 * 1024;

  const Result<FetchResponse> response = Fetch(server_.Url("/big"));

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), ErrorCode::kPayloadTooLarge);
  EXPECT_NE(response.status().message().find("10240 bytes"), std::string::npos) << response.status().message();
}

TEST_F(UrlFetcher, LimitsStreamedBodySize) {
  HttpResponse big = TextResponse(200, std::string(4 * 1024 * 1024, 'x'));
  big.close_delimited = true;
  server_.SetResponse("/big", big);
  options_.max_body_bytes = 64 * 1024;

  const Result<FetchResponse> response = Fetch(server_.Url("/big"));

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), ErrorCode::kPayloadTooLarge);
}

TEST_F(UrlFetcher, AcceptsBodyAtLimit) {
  HttpResponse exact = TextResponse(200, std::string(4096, 'x'));
  exact.close_delimited = true;
  server_.SetResponse("/exact", exact);
  options_.max_body_bytes = 4096;

  const Result<FetchResponse> response = Fetch(server_.Url("/exact"));

  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body.size(), 4096u);
}

TEST_F(UrlFetcher, TimesOutWaitingForHeaders) {
  HttpResponse slow = TextResponse(200, "late");
  slow.delay_before_headers = milliseconds(3000);
  server_.SetResponse("/slow", slow);
  options_.total_timeout = milliseconds(300);

  const auto start = std::chrono::steady_clock::now();
  const Result<FetchResponse> response = Fetch(server_.Url("/slow"));
  const auto elapsed = std::chrono::steady_clock::now() - start;

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), ErrorCode::kTimeout);
  EXPECT_LT(elapsed, milliseconds(2000));
}

TEST_F(UrlFetcher, TimesOutOnSlowBody) {
  HttpResponse trickle = TextResponse(200, std::string(100, 'x'));
  trickle.chunk_bytes = 1;
  trickle.chunk_delay = milliseconds(100);
  server_.SetResponse("/trickle", trickle);
  options_.low_speed_bytes_per_second = 1000;
  options_.low_speed_time = seconds(1);

  const auto start = std::chrono::steady_clock::now();
  const Result<FetchResponse> response = Fetch(server_.Url("/trickle"));
  const auto elapsed = std::chrono::steady_clock::now() - start;

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), ErrorCode::kTimeout);
  EXPECT_LT(elapsed, milliseconds(4000));
}

TEST_F(UrlFetcher, ReportsRefusedConnection) {
  const std::string url = "http://127.0.0.1:" + std::to_string(test::ClosedLocalPort()) + "/";

  const Result<FetchResponse> response = Fetch(url);

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), ErrorCode::kUpstream);
  EXPECT_NE(response.status().message().find("could not connect"), std::string::npos) << response.status().message();
}

TEST_F(UrlFetcher, ReportsUnresolvedHost) {
  const Result<FetchResponse> response = Fetch(HostUrl("nowhere.test", "/"));

  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), ErrorCode::kUpstream);
  EXPECT_NE(response.status().message().find("nowhere.test"), std::string::npos) << response.status().message();
}

TEST_F(UrlFetcher, ServesReplySequence) {
  server_.SetResponses("/flaky", {TextResponse(503, "busy"), TextResponse(503, "busy"), TextResponse(200, "ok")});

  std::vector<long> statuses;
  for (int i = 0; i < 4; ++i) {
    const Result<FetchResponse> response = Fetch(server_.Url("/flaky"));
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    statuses.push_back(response->http_status);
  }

  EXPECT_EQ(statuses, (std::vector<long>{503, 503, 200, 200}));
  EXPECT_EQ(server_.RequestCount("/flaky"), 4);
}

TEST(SystemHostResolver, ResolvesAddressLiteral) {
  SystemHostResolver resolver;

  const Result<std::vector<std::string>> addresses = resolver.Resolve("127.0.0.1");

  ASSERT_TRUE(addresses.ok()) << addresses.status().ToString();
  EXPECT_EQ(*addresses, std::vector<std::string>{"127.0.0.1"});
}

TEST(StaticHostResolver, RepeatsLastAnswer) {
  StaticHostResolver resolver;
  resolver.SetAnswers("Host.TEST", {{"192.0.2.1"}, {"192.0.2.2"}});

  EXPECT_EQ(*resolver.Resolve("host.test"), std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(*resolver.Resolve("HOST.test"), std::vector<std::string>{"192.0.2.2"});
  EXPECT_EQ(*resolver.Resolve("host.test"), std::vector<std::string>{"192.0.2.2"});
  EXPECT_EQ(resolver.ResolveCount("host.test"), 3);
  EXPECT_EQ(resolver.Resolve("other.test").status().code(), ErrorCode::kUpstream);
}

TEST(TransientHttpStatus, ClassifiesStatuses) {
  for (long status : {408L, 425L, 429L, 500L, 502L, 503L, 504L, 599L}) {
    EXPECT_TRUE(IsTransientHttpStatus(status)) << status;
  }
  for (long status : {200L, 301L, 400L, 401L, 403L, 404L, 410L, 451L, 600L}) {
    EXPECT_FALSE(IsTransientHttpStatus(status)) << status;
  }
}

TEST(RetryAfter, ParsesSeconds) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(ParseRetryAfter("120", now), seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), seconds(0));
}

TEST(RetryAfter, ParsesHttpDates) {
  // 1445412480 is Wed, 21 Oct 2015 07:28:00 GMT.
  const auto now = std::chrono::system_clock::from_time_t(1445412480 - 90);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now), seconds(90));
  EXPECT_EQ(ParseRetryAfter("Wednesday, 21-Oct-15 07:28:00 GMT", now), seconds(90));
  EXPECT_EQ(ParseRetryAfter("Wed Oct 21 07:28:00 2015", now), seconds(90));
}

TEST(RetryAfter, PastDateIsZero) {
  const auto now = std::chrono::system_clock::from_time_t(1445412480 + 3600);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now), seconds(0));
}

TEST(RetryAfter, RejectsInvalidValues) {
  const auto now = std::chrono::system_clock::now();
  for (const char* value : {"", "soon", "-5", "1.5", "12abc", "99999999999999999999999"}) {
    EXPECT_FALSE(ParseRetryAfter(value, now).has_value()) << "'" << value << "'";
  }
}

}  // namespace
}  // namespace on::ingest
