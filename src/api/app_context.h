// The state request handlers share: settings, storage and the start-up state of the process.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "ai/credential_cipher.h"
#include "core/runtime_config.h"
#include "core/settings.h"
#include "http/router.h"
#include "jobs/command_registry.h"
#include "search/vector_search.h"
#include "storage/storage.h"

namespace on::api {

class AppContext {
 public:
  // `config` must outlive the context.
  explicit AppContext(RuntimeConfig& config)
      : config_(&config), vectors_(std::filesystem::path(config.Current()->data_dir) / "vectors") {}
  // A context whose settings never change, for tests.
  explicit AppContext(Settings settings)
      : owned_config_(RuntimeConfig::Fixed(std::move(settings))),
        config_(owned_config_.get()),
        vectors_(std::filesystem::path(config_->Current()->data_dir) / "vectors") {}

  // The settings in effect now; runtime settings may differ between two calls.
  SettingsSnapshot settings() const { return config_->Current(); }
  RuntimeConfig& config() const { return *config_; }

  // The storage, once start-up has opened and migrated it. REQUIRES: ready().
  storage::Storage& storage() const { return *storage_; }

  bool ready() const { return ready_.load(std::memory_order_acquire); }

  // Publishes the storage and marks the application ready to serve.
  void SetReady(std::unique_ptr<storage::Storage> storage);

  // Records why the application is not ready yet ("waiting for database: ...").
  void SetStartupState(std::string state);
  std::string startup_state() const;

  // Ok when ready; kUnavailable with the start-up state otherwise.
  Status Readiness() const;

  // The cipher for stored API keys, or null when no encryption key is configured (credentials
  // with an API key are then rejected).
  const ai::CredentialCipher* cipher() const { return cipher_ ? &*cipher_ : nullptr; }
  // Set once at start-up, before the server accepts requests.
  void SetCipher(std::optional<ai::CredentialCipher> cipher) { cipher_ = std::move(cipher); }

  // The vector indexes of this process, one per embedding model.
  search::VectorSearcher& vectors() { return vectors_; }

  bool auth_enabled = false;
  // Where provider environment variables (OPENAI_API_KEY, ...) are read; tests may replace it
  // before start-up.
  EnvLookup env = ProcessEnv();
  // Commands that jobs may run; set before SetReady and read-only afterwards.
  std::unique_ptr<jobs::CommandRegistry> commands;

 private:
  std::unique_ptr<RuntimeConfig> owned_config_;  // set only by the Settings constructor
  RuntimeConfig* config_;
  std::unique_ptr<storage::Storage> storage_;
  std::optional<ai::CredentialCipher> cipher_;
  search::VectorSearcher vectors_;
  std::atomic<bool> ready_{false};
  mutable std::mutex state_mutex_;
  std::string startup_state_ = "starting";  // guarded by state_mutex_
};

// A handler taking the shared context, as the route files write them.
using ContextHandler = Result<http::Response> (*)(AppContext&, http::Request&);

// Wraps `handler` into a router handler bound to `context`, which must outlive the router.
inline http::Handler Bind(AppContext& context, ContextHandler handler) {
  return [&context, handler](http::Request& request) { return handler(context, request); };
}

// Registers every API route on `router`.
void RegisterRoutes(http::Router& router, AppContext& context);

void RegisterSystemRoutes(http::Router& router, AppContext& context);
void RegisterSettingsRoutes(http::Router& router, AppContext& context);
void RegisterMetricsRoutes(http::Router& router, AppContext& context);
void RegisterNotebookRoutes(http::Router& router, AppContext& context);
void RegisterNoteRoutes(http::Router& router, AppContext& context);
void RegisterSourceRoutes(http::Router& router, AppContext& context);
void RegisterSearchRoutes(http::Router& router, AppContext& context);
void RegisterAskRoutes(http::Router& router, AppContext& context);
void RegisterCommandRoutes(http::Router& router, AppContext& context);
void RegisterCredentialRoutes(http::Router& router, AppContext& context);
void RegisterModelRoutes(http::Router& router, AppContext& context);
void RegisterEmbeddingRoutes(http::Router& router, AppContext& context);
void RegisterProviderCallRoutes(http::Router& router, AppContext& context);
void RegisterChatRoutes(http::Router& router, AppContext& context);
void RegisterSourceChatRoutes(http::Router& router, AppContext& context);
void RegisterTransformationRoutes(http::Router& router, AppContext& context);
void RegisterPodcastRoutes(http::Router& router, AppContext& context);

}  // namespace on::api
