// POST /api/embed, POST /api/embeddings/rebuild and GET /api/embeddings/rebuild/{command_id}/status.
#include <nlohmann/json.hpp>

#include "ai/embedding_service.h"
#include "api/app_context.h"
#include "api/json_body.h"
#include "core/ids.h"
#include "jobs/embed_commands.h"

namespace on::api {
namespace {

Result<ai::EmbeddingSetup> RequireEmbeddingModel(AppContext& context) {
  ON_ASSIGN_OR_RETURN(auto setup, ai::DefaultEmbeddingSetup(context.storage(), context.cipher(), context.env));
  if (!setup) {
    return Status(ErrorCode::kConfiguration,
                  "no embedding model is configured: choose one with PUT /api/models/defaults (default_embedding_model)");
  }
  return std::move(*setup);
}

// Both paths queue a job: embedding calls a provider and can take minutes, so it never runs in
// the request. `async_processing` is accepted for compatibility.
Result<http::Response> Embed(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"item_id", "item_type", "async_processing"}));
  ON_ASSIGN_OR_RETURN(std::string item_id, body.RequiredString("item_id", 128));
  ON_ASSIGN_OR_RETURN(std::string item_type, body.RequiredString("item_type", 16));
  ON_ASSIGN_OR_RETURN(auto async_processing, body.Bool("async_processing"));
  (void)async_processing;
  if (item_type != "source" && item_type != "note" && item_type != "insight") {
    return InvalidInput("item_type '" + item_type + "' is invalid: use source, note or insight");
  }
  ON_RETURN_IF_ERROR(RequireEmbeddingModel(context).status());
  const std::string table = item_type == "insight" ? "source_insight" : item_type;
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId(table, item_id, "item_id"));

  std::string command_id;
  if (item_type == "source") {
    ON_RETURN_IF_ERROR(context.storage().GetSource(id, false).status());
    ON_ASSIGN_OR_RETURN(command_id, jobs::SubmitEmbedSource(context.storage(), id));
  } else if (item_type == "insight") {
    ON_RETURN_IF_ERROR(context.storage().GetInsight(id).status());
    ON_ASSIGN_OR_RETURN(command_id, jobs::SubmitEmbedInsight(context.storage(), id));
  } else {
    ON_RETURN_IF_ERROR(context.storage().GetNote(id).status());
    ON_ASSIGN_OR_RETURN(command_id, jobs::SubmitEmbedNote(context.storage(), id));
  }
  return http::JsonResponse({{"success", true},
                             {"message", "Embedding queued for " + id},
                             {"item_id", id},
                             {"item_type", item_type},
                             {"command_id", command_id}});
}

Result<http::Response> Rebuild(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"mode", "include_sources", "include_notes",
                                                                "include_insights"}));
  ON_ASSIGN_OR_RETURN(auto mode, body.String("mode", 16));
  ON_ASSIGN_OR_RETURN(auto include_sources, body.Bool("include_sources"));
  ON_ASSIGN_OR_RETURN(auto include_notes, body.Bool("include_notes"));
  ON_ASSIGN_OR_RETURN(auto include_insights, body.Bool("include_insights"));
  const std::string rebuild_mode = mode.value_or("existing");
  if (rebuild_mode != "existing" && rebuild_mode != "all") {
    return InvalidInput("mode '" + rebuild_mode + "' is invalid: use existing or all");
  }
  ON_ASSIGN_OR_RETURN(auto setup, RequireEmbeddingModel(context));

  storage::JobSpec spec;
  spec.app = "open_notebook";
  spec.command = "rebuild_embeddings";
  spec.input_json = nlohmann::json{{"mode", rebuild_mode},
                                   {"include_sources", include_sources.value_or(true)},
                                   {"include_notes", include_notes.value_or(true)},
                                   {"include_insights", include_insights.value_or(true)}}
                        .dump();
  spec.dedupe_key = "rebuild_embeddings";
  ON_ASSIGN_OR_RETURN(auto submitted, context.storage().jobs().Submit(spec));
  ON_ASSIGN_OR_RETURN(int64_t total, context.storage().CountEmbeddableItems());
  return http::JsonResponse({{"command_id", submitted.job.id},
                             {"total_items", total},
                             {"message", submitted.created ? "Rebuild started with " + setup.key
                                                           : "A rebuild is already running"}});
}

// Progress counts vectors of the current model against everything there is to embed, so it
// moves as the embed jobs the rebuild queued finish.
Result<http::Response> RebuildStatus(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("command", request.Param("command_id"), "command id"));
  ON_ASSIGN_OR_RETURN(storage::Job job, context.storage().jobs().Get(id));
  if (job.command != "rebuild_embeddings") return NotFound("embedding rebuild " + id + " was not found");

  nlohmann::json progress = {{"processed", 0}, {"total", 0}, {"percentage", 0.0}};
  ON_ASSIGN_OR_RETURN(auto setup, ai::DefaultEmbeddingSetup(context.storage(), context.cipher(), context.env));
  if (setup) {
    ON_ASSIGN_OR_RETURN(auto state, context.storage().GetEmbeddingState(setup->key));
    ON_ASSIGN_OR_RETURN(int64_t total, context.storage().CountEmbeddableItems());
    const int64_t processed = std::min(state.count, total);
    progress = {{"processed", processed},
                {"total", total},
                {"percentage", total == 0 ? 100.0 : 100.0 * static_cast<double>(processed) / static_cast<double>(total)}};
  }
  // The rebuild job ends once it has queued the embed jobs, but the rebuild goes on until they
  // finish. A client stops polling at "completed", so it would otherwise keep a partial count.
  std::string_view status = storage::JobStatusName(job.status);
  if (job.status == storage::JobStatus::kCompleted) {
    for (const char* command : {"embed_source", "embed_note", "embed_insight"}) {
      for (const storage::JobStatus pending : {storage::JobStatus::kQueued, storage::JobStatus::kRunning}) {
        storage::JobQuery query;
        query.command = command;
        query.status = pending;
        query.limit = 1;
        ON_ASSIGN_OR_RETURN(auto jobs, context.storage().jobs().List(query));
        if (!jobs.empty()) status = storage::JobStatusName(storage::JobStatus::kRunning);
      }
    }
  }
  nlohmann::json stats = nlohmann::json::object();
  if (job.result_json) stats = nlohmann::json::parse(*job.result_json, nullptr, false);
  return http::JsonResponse({{"command_id", job.id},
                             {"status", status},
                             {"progress", progress},
                             {"stats", stats},
                             {"started_at", job.started ? nlohmann::json(*job.started) : nlohmann::json()},
                             {"completed_at", job.completed ? nlohmann::json(*job.completed) : nlohmann::json()},
                             {"error_message", job.error_message ? nlohmann::json(*job.error_message) : nlohmann::json()}});
}

}  // namespace

void RegisterEmbeddingRoutes(http::Router& router, AppContext& context) {
  router.Add("POST", "/api/embed", Bind(context, Embed));
  router.Add("POST", "/api/embeddings/rebuild", Bind(context, Rebuild));
  router.Add("GET", "/api/embeddings/rebuild/{command_id}/status", Bind(context, RebuildStatus));
}

}  // namespace on::api
