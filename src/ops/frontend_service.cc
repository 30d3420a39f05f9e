#include "ops/frontend_service.h"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "ops/signal_watcher.h"

namespace on::ops {
namespace {

void LogListening(const http::FrontendOptions& options, uint16_t port) {
  spdlog::info("web UI on http://{}:{} from {}, forwarding /api to {}", options.host, port, options.web_dir.string(),
               options.upstream.ToString());
  if (!std::filesystem::is_regular_file(options.web_dir / "index.html")) {
    spdlog::warn("the web UI is not built ({} has no index.html): run `make build`, or set OPEN_NOTEBOOK_WEB_DIR",
                 options.web_dir.string());
  }
}

}  // namespace

http::HttpEndpoint LocalEndpointFor(const std::string& host, uint16_t port) {
  if (host == "0.0.0.0" || host.rfind("127.", 0) == 0 || host == "localhost") return {"127.0.0.1", port};
  if (host == "::" || host == "::1") return {"::1", port};
  return {host, port};
}

Result<std::unique_ptr<EmbeddedFrontend>> EmbeddedFrontend::Start(const Settings& settings, http::HttpEndpoint api) {
  ON_ASSIGN_OR_RETURN(auto options, http::FrontendOptionsFrom(settings, api));
  auto server = std::make_unique<http::FrontendServer>(options);
  ON_RETURN_IF_ERROR(server->Listen());
  LogListening(options, server->port());
  std::unique_ptr<EmbeddedFrontend> frontend(new EmbeddedFrontend(std::move(server)));
  http::FrontendServer* raw = frontend->server_.get();
  frontend->thread_ = std::thread([raw] { raw->Run(); });
  return frontend;
}

EmbeddedFrontend::~EmbeddedFrontend() {
  server_->Shutdown();
  if (thread_.joinable()) thread_.join();
}

int RunFrontend(const Settings& settings) {
  auto options = http::FrontendOptionsFrom(settings);
  if (!options.ok()) {
    spdlog::critical("{}", options.status().message());
    return 1;
  }
  http::FrontendServer server(*options);
  if (Status listening = server.Listen(); !listening.ok()) {
    spdlog::critical("{}", listening.message());
    return 1;
  }
  LogListening(*options, server.port());

  SignalWatcher signals(nullptr, "shutting down", [&server] { server.Shutdown(); });
  server.Run();
  signals.Join();
  spdlog::info("web UI stopped");
  return 0;
}

}  // namespace on::ops
