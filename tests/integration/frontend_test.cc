// The web UI server against the real binary: files of a built UI, the client-route fallback,
// GET /config, /api forwarding (JSON and a server-sent event stream) and refused paths.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <thread>

#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "support/local_http_server.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace on {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// A built UI in miniature, with a secret next to (not inside) it for the traversal checks.
fs::path MakeWebDir(const fs::path& base) {
  const fs::path web = base / "site" / "dist";
  WriteFile(web / "index.html", "<!doctype html><title>Open Notebook</title><div id=root></div>");
  WriteFile(web / "assets" / "index-3f9a1c.js", "console.log('app')");
  WriteFile(web / "assets" / "index-3f9a1c.css", "body{margin:0}");
  WriteFile(web / "favicon.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
  WriteFile(base / "site" / "secret.txt", "top secret value");
  fs::create_symlink(base / "site" / "secret.txt", web / "linked-secret.txt");
  return web;
}

// Polls GET /health on `port` until it returns 200, for up to 10 s.
bool WaitForHealth(uint16_t port) {
  test::HttpClient client(port);
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (client.Get("/health").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

class FrontendServeTest : public ::testing::Test {
 protected:
  void Start(std::map<std::string, std::string> env = {}) {
    web_ = MakeWebDir(dir_.path());
    env["OPEN_NOTEBOOK_WEB_DIR"] = web_.string();
    server_ = std::make_unique<test::ServerProcess>(dir_.path() / "data", env);
    ASSERT_TRUE(server_->Start()) << server_->log();
    ASSERT_TRUE(WaitForHealth(server_->ui_port())) << server_->log();
  }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->Stop(), 0) << server_->log();
    }
  }
  test::HttpClient Ui() const { return test::HttpClient(server_->ui_port()); }

  test::TempDir dir_;
  fs::path web_;
  std::unique_ptr<test::ServerProcess> server_;
};

TEST_F(FrontendServeTest, ServesFilesWithCachingAndSecurityHeaders) {
  Start();
  auto index = Ui().Get("/");
  ASSERT_EQ(index.status, 200) << server_->log();
  EXPECT_NE(index.body.find("<div id=root>"), std::string::npos);
  EXPECT_EQ(index.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.Header("cache-control"), "no-cache");
  EXPECT_NE(index.Header("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_NE(index.Header("content-security-policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(index.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(index.Header("referrer-policy"), "no-referrer");
  EXPECT_EQ(index.Header("x-frame-options"), "DENY");

  auto script = Ui().Get("/assets/index-3f9a1c.js");
  ASSERT_EQ(script.status, 200);
  EXPECT_EQ(script.body, "console.log('app')");
  EXPECT_EQ(script.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(script.Header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Ui().Get("/assets/index-3f9a1c.css").Header("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(Ui().Get("/favicon.svg").Header("content-type"), "image/svg+xml");

  auto head = Ui().Send("HEAD", "/assets/index-3f9a1c.js");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(Ui().Send("POST", "/", "x").status, 405);
}

TEST_F(FrontendServeTest, ClientRoutesFallBackToIndex) {
  Start();
  for (const std::string route : {"/notebooks", "/notebooks/notebook:abc", "/search?q=x", "/assets/", "/assets"}) {
    auto page = Ui().Get(route);
    EXPECT_EQ(page.status, 200) << route;
    EXPECT_NE(page.body.find("<div id=root>"), std::string::npos) << route;
  }
  // A missing script must not come back as HTML, and a directory is never listed.
  EXPECT_EQ(Ui().Get("/assets/index-000000.js").status, 404);
  EXPECT_EQ(Ui().Get("/assets/old-chunk").status, 404);
  EXPECT_EQ(Ui().Get("/missing.png").status, 404);
  EXPECT_EQ(Ui().Get("/assets/").body.find("index-3f9a1c"), std::string::npos);
}

TEST_F(FrontendServeTest, RefusesPathsOutsideTheUiDirectory) {
  Start();
  for (const std::string target : {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt",
                                   "/assets/%2e%2e/%2e%2e/secret.txt", "/..%5csecret.txt", "/linked-secret.txt",
                                   "/%00index.html"}) {
    auto response = Ui().Send("GET", target);
    EXPECT_EQ(response.status, 404) << target;
    EXPECT_EQ(response.body.find("top secret"), std::string::npos) << target;
  }
}

// Sends `request` on a new connection to `port` and returns the status line of the response.
std::string StatusLineFor(uint16_t port, const std::string& request) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(socket, asio::buffer(request));
  asio::streambuf buffer;
  boost::system::error_code error;
  asio::read_until(socket, buffer, "\r\n", error);
  std::string line(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
  return line.substr(0, line.find("\r\n"));
}

TEST_F(FrontendServeTest, RespondsToBadRequestsBeforeClosing) {
  Start({{"OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB", "1"}});
  const uint16_t port = server_->ui_port();
  EXPECT_EQ(StatusLineFor(port, "NOT HTTP AT ALL\r\n\r\n"), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(StatusLineFor(port, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(40 * 1024, 'a') + "\r\n\r\n"),
            "HTTP/1.1 431 Request Header Fields Too Large");
  // Rejected from the header alone: the 2 MB body is never sent.
  EXPECT_EQ(StatusLineFor(port, "POST /api/sources HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n"),
            "HTTP/1.1 413 Payload Too Large");
  EXPECT_EQ(Ui().Get("/").status, 200) << "the server still serves";
}

TEST_F(FrontendServeTest, ConfigIgnoresForgedHost) {
  Start();
  auto config = Ui().Send("GET", "/config", "", {{"Host", "attacker.example:5055"}, {"X-Forwarded-Host", "attacker.example"}});
  ASSERT_EQ(config.status, 200);
  EXPECT_EQ(config.Json(), nlohmann::json({{"apiUrl", ""}}));
  EXPECT_EQ(config.Header("cache-control"), "no-store");
}

TEST_F(FrontendServeTest, ConfigReturnsTheConfiguredApiUrl) {
  Start({{"API_URL", "https://notes.example.com/"}});
  auto config = Ui().Send("GET", "/config", "", {{"Host", "attacker.example"}});
  ASSERT_EQ(config.status, 200);
  EXPECT_EQ(config.Json()["apiUrl"], "https://notes.example.com");
  // The browser may call that origin, and only that one besides its own.
  EXPECT_NE(Ui().Get("/").Header("content-security-policy").find("connect-src 'self' https://notes.example.com;"),
            std::string::npos);
  // Podcast audio streams from the API, or from a blob: URL when a password is set.
  EXPECT_NE(Ui().Get("/").Header("content-security-policy").find("media-src 'self' blob: https://notes.example.com;"),
            std::string::npos);
}

TEST_F(FrontendServeTest, ForwardsApiToOwnApi) {
  Start({{"OPEN_NOTEBOOK_PASSWORD", "s3cret-words"}});
  test::HttpClient ui = Ui();
  // The API checks the password, and the UI server passes its response through.
  auto refused = ui.Get("/api/notebooks");
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.Header("www-authenticate"), "Bearer");

  ui.set_password("s3cret-words");
  auto created = ui.Post("/api/notebooks", {{"name", "Through the UI port"}});
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = created.Json()["id"];

  test::HttpClient api = server_->Client();
  api.set_password("s3cret-words");
  auto direct = api.Get("/api/notebooks/" + id);
  ASSERT_EQ(direct.status, 200);
  EXPECT_EQ(direct.Json()["name"], "Through the UI port");

  auto listed = ui.Get("/api/notebooks?order_by=name%20asc");
  ASSERT_EQ(listed.status, 200);
  ASSERT_TRUE(listed.Json().is_array());
  EXPECT_EQ(listed.Json().size(), 1u);
  EXPECT_EQ(ui.Get("/api/auth/status").Json()["auth_enabled"], true);
  EXPECT_EQ(ui.Get("/api/no-such-route").status, 404);
}

TEST_F(FrontendServeTest, TakenUiPortStopsStartUp) {
  test::TempDir other;
  asio::io_context io;
  tcp::acceptor blocker(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t taken = blocker.local_endpoint().port();
  test::ServerProcess server(other.path() / "data", {{"FRONTEND_PORT", std::to_string(taken)}});
  server.Spawn();
  EXPECT_EQ(server.WaitExit(std::chrono::seconds(30)), 1);
  EXPECT_NE(server.log().find("the web UI cannot listen on 127.0.0.1:" + std::to_string(taken)), std::string::npos)
      << server.log();
}

// An API stand-in that sends one event, then waits until the test has seen it through the UI
// server before it sends the second and closes (no Content-Length: the body ends at close).
class SteppedEventSource {
 public:
  SteppedEventSource() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~SteppedEventSource() {
    if (!released_) second_.set_value();
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void ReleaseSecondEvent() { second_.set_value(); released_ = true; }
  std::string request() { return request_future_.get(); }
  bool released() const { return released_; }

 private:
  void Serve() {
    boost::system::error_code error;
    tcp::socket socket(io_);
    acceptor_.accept(socket, error);
    if (error) return;
    asio::streambuf buffer;
    asio::read_until(socket, buffer, "\r\n\r\n", error);
    request_.set_value(std::string(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data())));
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
    asio::write(socket, asio::buffer(head + "event: token\ndata: first\n\n"), error);
    second_future_.wait();
    asio::write(socket, asio::buffer(std::string("event: done\ndata: second\n\n")), error);
    socket.shutdown(tcp::socket::shutdown_both, error);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::promise<std::string> request_;
  std::future<std::string> request_future_ = request_.get_future();
  std::promise<void> second_;
  std::future<void> second_future_ = second_.get_future();
  std::atomic<bool> released_{false};
  std::thread thread_;
};

TEST(FrontendCommandTest, StreamsServerSentEventsAsTheyArrive) {
  test::TempDir dir;
  const fs::path web = MakeWebDir(dir.path());
  SteppedEventSource upstream;
  test::ServerProcess frontend(dir.path() / "data",
                               {{"OPEN_NOTEBOOK_WEB_DIR", web.string()},
                                {"INTERNAL_API_URL", "http://127.0.0.1:" + std::to_string(upstream.port())}},
                               {"frontend"});
  frontend.Spawn();
  ASSERT_TRUE(WaitForHealth(frontend.ui_port())) << frontend.log();

  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), frontend.ui_port()));
  const std::string request =
      "POST /api/search/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer pw\r\n"
      "X-Forwarded-For: 10.9.9.9\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  asio::write(socket, asio::buffer(request));

  // The second event is held back until the first has come through. A buffering proxy would
  // deliver nothing, so the read below would fail at the socket's 20 s timeout.
  asio::streambuf buffer;
  struct timeval timeout{20, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  boost::system::error_code error;
  asio::read_until(socket, buffer, "data: first", error);
  ASSERT_FALSE(error) << error.message() << "\n" << frontend.log();
  EXPECT_FALSE(upstream.released());
  std::string received(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
  EXPECT_NE(received.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(received.find("Content-Type: text/event-stream"), std::string::npos);
  // A body that ended at the API's close is re-framed so the browser's connection stays usable.
  EXPECT_NE(received.find("Transfer-Encoding: chunked"), std::string::npos);

  upstream.ReleaseSecondEvent();
  asio::read_until(socket, buffer, "0\r\n\r\n", error);
  ASSERT_FALSE(error) << error.message();
  received.assign(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
  EXPECT_NE(received.find("data: second"), std::string::npos);

  const std::string forwarded = upstream.request();
  EXPECT_NE(forwarded.find("POST /api/search/ask HTTP/1.1"), std::string::npos);
  EXPECT_NE(forwarded.find("Authorization: Bearer pw"), std::string::npos);
  // The test connects from loopback, as nginx on this machine would, so the chain it sent is kept
  // and the UI server's peer is appended. A remote peer's header is dropped (ClientAddress tests).
  EXPECT_NE(forwarded.find("X-Forwarded-For: 10.9.9.9, 127.0.0.1"), std::string::npos) << forwarded;
  EXPECT_EQ(frontend.Stop(), 0) << frontend.log();
}

TEST(FrontendCommandTest, ForwardsJsonAndNamesAnUnreachableApi) {
  test::TempDir dir;
  const fs::path web = MakeWebDir(dir.path());
  test::LocalHttpServer api;
  api.SetResponse("/api/notebooks", test::TextResponse(200, R"([{"id":"notebook:1"}])", "application/json"));
  test::ServerProcess frontend(
      dir.path() / "data",
      {{"OPEN_NOTEBOOK_WEB_DIR", web.string()}, {"INTERNAL_API_URL", api.Url("")}}, {"frontend"});
  frontend.Spawn();
  ASSERT_TRUE(WaitForHealth(frontend.ui_port())) << frontend.log();
  test::HttpClient ui(frontend.ui_port());
  auto listed = ui.Get("/api/notebooks?archived=false");
  ASSERT_EQ(listed.status, 200) << frontend.log();
  EXPECT_EQ(listed.Json()[0]["id"], "notebook:1");
  ASSERT_EQ(api.Requests("/api/notebooks").size(), 1u);
  EXPECT_EQ(api.Requests("/api/notebooks")[0].target, "/api/notebooks?archived=false");
  EXPECT_EQ(frontend.Stop(), 0) << frontend.log();

  test::ServerProcess orphan(
      dir.path() / "data2",
      {{"OPEN_NOTEBOOK_WEB_DIR", web.string()},
       {"INTERNAL_API_URL", "http://127.0.0.1:" + std::to_string(test::ClosedLocalPort())}},
      {"frontend"});
  orphan.Spawn();
  ASSERT_TRUE(WaitForHealth(orphan.ui_port())) << orphan.log();
  auto unreachable = test::HttpClient(orphan.ui_port()).Get("/api/notebooks");
  EXPECT_EQ(unreachable.status, 502);
  EXPECT_NE(unreachable.Json()["detail"].get<std::string>().find("INTERNAL_API_URL"), std::string::npos);
  EXPECT_EQ(orphan.Stop(), 0) << orphan.log();
}

TEST(FrontendCommandTest, RefusesAnInvalidInternalApiUrl) {
  test::TempDir dir;
  test::ServerProcess frontend(dir.path() / "data", {{"INTERNAL_API_URL", "https://api.example.com/v1"}}, {"frontend"});
  frontend.Spawn();
  EXPECT_EQ(frontend.WaitExit(std::chrono::seconds(20)), 1);
  EXPECT_NE(frontend.log().find("INTERNAL_API_URL 'https://api.example.com/v1' must start with http://"),
            std::string::npos)
      << frontend.log();
}

}  // namespace
}  // namespace on
