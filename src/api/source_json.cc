#include "api/source_json.h"

#include "ingest/uploads.h"

namespace on::api {
namespace {

nlohmann::json Optional(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::string StatusOf(const storage::Source& source) { return source.job_status.value_or("completed"); }

nlohmann::json ProcessingInfo(const storage::Source& source) {
  nlohmann::json info = {{"started_at", Optional(source.job_started)},
                         {"completed_at", Optional(source.job_completed)},
                         {"error", Optional(source.job_error)},
                         {"stage", Optional(source.job_stage)},
                         {"percent", source.job_percent ? nlohmann::json(*source.job_percent) : nlohmann::json(nullptr)}};
  // The worker writes progress about twice a second, so a job that ends quickly can keep its
  // first stage; a finished job reports no stage.
  if (source.job_completed) info["stage"] = nullptr;
  if (source.job_status == "completed") info["percent"] = 100;
  return info;
}

}  // namespace

nlohmann::json SourceJson(const AppContext& context, const storage::Source& source, bool with_text) {
  bool file_available = false;
  if (source.asset_file_path) {
    file_available = ingest::ResolveUpload(std::filesystem::path(context.settings()->data_dir) / "uploads",
                                           *source.asset_file_path).ok();
  }
  nlohmann::json body = {
      {"id", source.id},
      {"title", Optional(source.title)},
      {"topics", source.topics},
      {"asset", {{"file_path", Optional(source.asset_file_path)}, {"url", Optional(source.asset_url)}}},
      {"original_filename", Optional(source.original_filename)},
      {"content_kind", Optional(source.content_kind)},
      {"embedded", false},
      {"embedded_chunks", 0},
      {"insights_count", source.insight_count},
      {"chunk_count", source.chunk_count},
      {"created", source.created},
      {"updated", source.updated},
      {"file_available", file_available},
      {"command_id", Optional(source.command_id)},
      {"status", StatusOf(source)},
      {"processing_info", ProcessingInfo(source)},
  };
  if (with_text) {
    body["full_text"] = Optional(source.full_text);
    body["notebooks"] = source.notebooks;
  }
  return body;
}

nlohmann::json SourceStatusJson(AppContext& context, const storage::Source& source) {
  const std::string status = StatusOf(source);
  std::string message;
  if (status == "completed") {
    message = "Source processing completed";
  } else if (status == "failed") {
    message = "Processing failed: " + source.job_error.value_or("unknown error");
  } else if (status == "cancelled") {
    message = "Processing was cancelled";
  } else if (status == "running") {
    message = "Processing: " + source.job_stage.value_or("started");
  } else {
    message = "Queued for processing";
    auto workers = context.storage().jobs().ListWorkers();
    if (workers.ok() && workers->empty()) {
      message = "Queued, but no worker is running: start `open-notebook worker` (or `open-notebook serve`)";
    }
  }
  return {{"status", status},
          {"message", message},
          {"processing_info", ProcessingInfo(source)},
          {"command_id", Optional(source.command_id)}};
}

}  // namespace on::api
