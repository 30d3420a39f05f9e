#include "api/app_context.h"

namespace on::api {

void AppContext::SetReady(std::unique_ptr<storage::Storage> storage) {
  storage_ = std::move(storage);
  SetStartupState("ready");
  ready_.store(true, std::memory_order_release);
}

void AppContext::SetStartupState(std::string state) {
  std::lock_guard lock(state_mutex_);
  startup_state_ = std::move(state);
}

std::string AppContext::startup_state() const {
  std::lock_guard lock(state_mutex_);
  return startup_state_;
}

Status AppContext::Readiness() const {
  if (ready()) return Status::Ok();
  return Status(ErrorCode::kUnavailable, "The API is not ready: " + startup_state() + "; retry shortly");
}

void RegisterRoutes(http::Router& router, AppContext& context) {
  RegisterSystemRoutes(router, context);
  RegisterSettingsRoutes(router, context);
  RegisterMetricsRoutes(router, context);
  RegisterNotebookRoutes(router, context);
  RegisterNoteRoutes(router, context);
  RegisterSourceRoutes(router, context);
  RegisterSearchRoutes(router, context);
  RegisterAskRoutes(router, context);
  RegisterCommandRoutes(router, context);
  RegisterCredentialRoutes(router, context);
  RegisterProviderCallRoutes(router, context);
  RegisterModelRoutes(router, context);
  RegisterEmbeddingRoutes(router, context);
  RegisterChatRoutes(router, context);
  RegisterSourceChatRoutes(router, context);
  RegisterTransformationRoutes(router, context);
  RegisterPodcastRoutes(router, context);
}

}  // namespace on::api
