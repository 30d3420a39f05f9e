// The HTTP server's event streams, on a real server on 127.0.0.1: the cap on open streams, and a
// shutdown that tells running producers to stop.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "http/cors.h"
#include "http/password_guard.h"
#include "http/pipeline.h"
#include "http/router.h"
#include "http/server.h"
#include "support/http_client.h"
#include "support/sse_client.h"

namespace on {
namespace {

using nlohmann::json;

// Waits up to a minute for `done`; a test that hangs fails instead.
template <typename Predicate>
bool WaitFor(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Records what SendJson passes to Send.
class RecordingStream final : public http::EventStream {
 public:
  bool Send(std::string_view data) override {
    sent.emplace_back(data);
    return true;
  }
  bool closed() const override { return false; }
  void OnClose(std::function<void()>) override {}

  std::vector<std::string> sent;
};

TEST(EventStreams, SendJsonIsOneLine) {
  RecordingStream stream;
  EXPECT_TRUE(stream.SendJson({{"type", "token"}, {"content", "a\nb"}}));
  ASSERT_EQ(stream.sent.size(), 1u);
  EXPECT_EQ(stream.sent[0], "{\"content\":\"a\\nb\",\"type\":\"token\"}");
}

TEST(EventStreams, SendJsonReplacesInvalidUtf8) {
  RecordingStream stream;
  // A model may stop in the middle of a character; the event still goes out.
  EXPECT_TRUE(stream.SendJson({{"content", std::string("caf\xC3")}}));
  ASSERT_EQ(stream.sent.size(), 1u);
  EXPECT_EQ(stream.sent[0], "{\"content\":\"caf\xEF\xBF\xBD\"}");
}

// A server whose POST /events sends one event and then waits until the client or the server
// closes the stream.
class EventStreamServer {
 public:
  explicit EventStreamServer(int max_event_streams)
      : cors_(""), guard_("", 5, std::chrono::seconds(60)), pipeline_(router_, cors_, guard_, {}) {
    router_.Add("POST", "/events", [this](http::Request&) -> Result<http::Response> {
      return http::EventStreamResponse([this](http::EventStream& events) {
        auto closed = std::make_shared<std::atomic<bool>>(false);
        events.OnClose([this, closed] {
          std::lock_guard lock(mutex_);
          closed->store(true);
          changed_.notify_all();
        });
        events.SendJson({{"type", "started"}});
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return closed->load(); });
        stopped_producers_ += 1;
      });
    });
    // Sends events of 1 MiB until the server gives up on a client that does not read them.
    router_.Add("POST", "/flood", [this](http::Request&) -> Result<http::Response> {
      return http::EventStreamResponse([this](http::EventStream& events) {
        const std::string piece(1u << 20, 'x');
        int sent = 0;
        while (sent < 1000 && events.SendJson({{"piece", piece}})) ++sent;
        std::lock_guard lock(mutex_);
        flood_sent_ = sent;
      });
    });
    http::ServerOptions options;
    options.port = 0;
    options.access_log = false;
    options.max_event_streams = max_event_streams;
    options.shutdown_timeout = std::chrono::seconds(30);
    server_ = std::make_unique<http::Server>(options, pipeline_);
    const Status listening = server_->Listen();
    EXPECT_TRUE(listening.ok()) << listening.ToString();
    runner_ = std::thread([this] { server_->Run(); });
  }

  ~EventStreamServer() { Stop(); }

  void Stop() {
    if (!runner_.joinable()) return;
    server_->Shutdown();
    runner_.join();
  }

  uint16_t port() const { return server_->port(); }
  // Events the flood producer sent before Send failed; -1 while it runs.
  int flood_sent() {
    std::lock_guard lock(mutex_);
    return flood_sent_;
  }
  int stopped_producers() {
    std::lock_guard lock(mutex_);
    return stopped_producers_;
  }

 private:
  http::Router router_;
  http::CorsPolicy cors_;
  http::PasswordGuard guard_;
  http::Pipeline pipeline_;
  std::unique_ptr<http::Server> server_;
  std::thread runner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int stopped_producers_ = 0;  // guarded by mutex_
  int flood_sent_ = -1;        // guarded by mutex_
};

TEST(EventStreams, CapRejectsAndShutdownStops) {
  EventStreamServer server(1);
  std::atomic<bool> started = false;
  test::SseResult first;
  std::thread client([&] {
    first = test::PostSse(server.port(), "/events", json::object(), [&](const json&) {
      started = true;
      return true;
    });
  });
  ASSERT_TRUE(WaitFor([&] { return started.load(); })) << "the first stream never sent its event";

  const test::HttpResult second = test::HttpClient(server.port()).Post("/events", json::object());
  EXPECT_EQ(second.status, 503) << second.body;
  EXPECT_NE(second.body.find("Too many event streams are open (1)"), std::string::npos) << second.body;
  EXPECT_EQ(server.stopped_producers(), 0);

  // The first producer returns only when its stream is closed, so the shutdown must close it.
  server.Stop();
  client.join();
  EXPECT_EQ(server.stopped_producers(), 1);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.Types(), "started");
}

TEST(EventStreams, ClosedClientFreesPlace) {
  EventStreamServer server(1);
  // The callback returns false on the first event, which closes the connection.
  const test::SseResult first =
      test::PostSse(server.port(), "/events", json::object(), [](const json&) { return false; });
  EXPECT_EQ(first.Types(), "started");
  ASSERT_TRUE(WaitFor([&] { return server.stopped_producers() == 1; }))
      << "the producer was not notified that its client closed the connection";

  // Its place is free again once the producer has returned.
  test::SseResult second;
  ASSERT_TRUE(WaitFor([&] {
    second = test::PostSse(server.port(), "/events", json::object(), [](const json&) { return false; });
    return second.status == 200;
  })) << second.status << " " << second.body;
  EXPECT_EQ(second.Types(), "started");
}

TEST(EventStreams, ClientThatStopsReadingIsDropped) {
  EventStreamServer server(1);
  // The client reads one event and then stops reading until the producer has given up.
  const test::SseResult result = test::PostSse(server.port(), "/flood", json::object(), [&](const json&) {
    WaitFor([&] { return server.flood_sent() >= 0; });
    return false;
  });
  EXPECT_EQ(result.status, 200);
  ASSERT_GE(server.flood_sent(), 0) << "the producer kept sending to a client that did not read";
  EXPECT_LT(server.flood_sent(), 1000);
}

}  // namespace
}  // namespace on
