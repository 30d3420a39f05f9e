// Runs the web UI server: the `frontend` subcommand, and the UI inside `serve`.
#pragma once

#include <memory>
#include <thread>

#include "core/settings.h"
#include "http/frontend_server.h"

namespace on::ops {

// Serves the web UI until SIGTERM or SIGINT, forwarding /api/* to INTERNAL_API_URL. Needs no
// database and no data directory. Returns the process exit code: 1 when a setting is invalid or
// the port is taken.
int RunFrontend(const Settings& settings);

// The web UI server on its own thread, inside another command.
class EmbeddedFrontend {
 public:
  // Listens on FRONTEND_PORT and starts serving, forwarding /api/* to `api`.
  static Result<std::unique_ptr<EmbeddedFrontend>> Start(const Settings& settings, http::HttpEndpoint api);
  ~EmbeddedFrontend();  // drains and joins

  uint16_t port() const { return server_->port(); }
  // Starts draining; the destructor waits for it.
  void Shutdown() { server_->Shutdown(); }

 private:
  explicit EmbeddedFrontend(std::unique_ptr<http::FrontendServer> server) : server_(std::move(server)) {}
  std::unique_ptr<http::FrontendServer> server_;
  std::thread thread_;
};

// The address at which this machine reaches a server that listens on `host`:`port`: loopback for
// a wildcard or loopback host, the host itself otherwise.
http::HttpEndpoint LocalEndpointFor(const std::string& host, uint16_t port);

}  // namespace on::ops
