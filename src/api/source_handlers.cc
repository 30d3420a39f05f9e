// Sources: /api/sources... and notebook links /api/notebooks/{id}/sources/{id}.
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/app_context.h"
#include "api/json_body.h"
#include "api/source_json.h"
#include "core/ids.h"
#include "http/multipart.h"
#include "ingest/extractor.h"
#include "ingest/ssrf_guard.h"
#include "ingest/uploads.h"

namespace on::api {
namespace {

constexpr size_t kMaxListItems = 50;
constexpr size_t kMaxTitleLength = 1000;
constexpr size_t kMaxUrlLength = 8192;

// The fields of a new source, from multipart form data or JSON.
struct SourceForm {
  std::string type;
  std::optional<std::string> url;
  std::optional<std::string> content;
  std::optional<std::string> title;
  std::vector<std::string> notebooks;
  std::string transformations_json = "[]";
  // Unset when the request leaves 'embed' out: OPEN_NOTEBOOK_DEFAULT_EMBEDDING_OPTION decides.
  std::optional<bool> embed;
  bool async_processing = false;
  std::optional<std::string> file_name;
  std::string_view file_data;
  bool has_file = false;
};

Result<bool> ParseFormBool(std::string_view field, std::string_view value) {
  std::string lower(value);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "0" || lower == "no" || lower == "off" || lower.empty()) return false;
  return ValidationError("field '" + std::string(field) + "' must be true or false, not '" + std::string(value.substr(0, 32)) + "'");
}

// Parses a JSON array of ids (notebooks, transformations), at most 50 entries.
Result<std::vector<std::string>> ParseIdArray(std::string_view field, std::string_view text, std::string_view table) {
  const auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_array()) return ValidationError("field '" + std::string(field) + "' must be a JSON array of ids");
  if (parsed.size() > kMaxListItems) {
    return ValidationError("field '" + std::string(field) + "' has " + std::to_string(parsed.size()) + " entries; at most 50 are allowed");
  }
  std::vector<std::string> ids;
  for (const auto& item : parsed) {
    if (!item.is_string()) return ValidationError("field '" + std::string(field) + "' must contain only strings");
    ON_ASSIGN_OR_RETURN(std::string id, NormalizeId(table, item.get<std::string>(), field));
    ids.push_back(std::move(id));
  }
  return ids;
}

Result<SourceForm> FormFromMultipart(const http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string boundary, http::MultipartBoundary(request.Header("content-type").value_or("")));
  ON_ASSIGN_OR_RETURN(auto parts, http::ParseMultipart(request.body, boundary));

  SourceForm form;
  std::optional<std::string> legacy_notebook;
  bool has_notebooks = false;
  for (const auto& part : parts) {
    const std::string_view value = part.data;
    if (part.name == "file") {
      form.has_file = true;
      form.file_name = part.filename.value_or("upload");
      form.file_data = value;
      continue;
    }
    if (value.size() > kMaxUrlLength && part.name != "content") {
      return ValidationError("field '" + part.name + "' is too long");
    }
    if (part.name == "type") form.type = std::string(value);
    else if (part.name == "url") form.url = std::string(value);
    else if (part.name == "content") form.content = std::string(value);
    else if (part.name == "title") form.title = std::string(value);
    else if (part.name == "notebook_id") legacy_notebook = std::string(value);
    else if (part.name == "notebooks") {
      has_notebooks = true;
      ON_ASSIGN_OR_RETURN(form.notebooks, ParseIdArray("notebooks", value, "notebook"));
    } else if (part.name == "transformations") {
      ON_ASSIGN_OR_RETURN(auto ids, ParseIdArray("transformations", value, "transformation"));
      form.transformations_json = nlohmann::json(ids).dump();
    } else if (part.name == "embed") {
      ON_ASSIGN_OR_RETURN(form.embed, ParseFormBool("embed", value));
    } else if (part.name == "async_processing") {
      ON_ASSIGN_OR_RETURN(form.async_processing, ParseFormBool("async_processing", value));
    } else if (part.name == "delete_source") {
      ON_RETURN_IF_ERROR(ParseFormBool("delete_source", value).status());
    } else {
      return ValidationError("field '" + part.name.substr(0, 64) +
                             "' is not accepted; accepted fields: type, url, content, title, notebook_id, notebooks, "
                             "transformations, embed, delete_source, async_processing, file");
    }
  }
  if (legacy_notebook && has_notebooks) return ValidationError("send either 'notebook_id' or 'notebooks', not both");
  if (legacy_notebook && !legacy_notebook->empty()) {
    ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("notebook", *legacy_notebook, "notebook_id"));
    form.notebooks.push_back(id);
  }
  return form;
}

Result<SourceForm> FormFromJson(const http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"type", "url", "content", "title", "notebook_id", "notebooks",
                                                                "transformations", "embed", "delete_source",
                                                                "async_processing", "file_path"}));
  SourceForm form;
  ON_ASSIGN_OR_RETURN(form.type, body.RequiredString("type", 16));
  ON_ASSIGN_OR_RETURN(form.url, body.String("url", kMaxUrlLength));
  ON_ASSIGN_OR_RETURN(form.content, body.String("content", 64u << 20));
  ON_ASSIGN_OR_RETURN(form.title, body.String("title", kMaxTitleLength));
  ON_ASSIGN_OR_RETURN(auto embed, body.Bool("embed"));
  ON_ASSIGN_OR_RETURN(auto async_processing, body.Bool("async_processing"));
  ON_RETURN_IF_ERROR(body.Bool("delete_source").status());
  form.embed = embed;
  form.async_processing = async_processing.value_or(false);
  if (body.Has("file_path") && !body.IsNull("file_path")) {
    return InvalidInput("file_path is not accepted: upload the file with POST /api/sources as multipart form data");
  }
  ON_ASSIGN_OR_RETURN(auto legacy_notebook, body.String("notebook_id", 128));
  if (body.Has("notebooks") && !body.IsNull("notebooks")) {
    if (legacy_notebook) return ValidationError("send either 'notebook_id' or 'notebooks', not both");
    ON_ASSIGN_OR_RETURN(form.notebooks, ParseIdArray("notebooks", body.object()["notebooks"].dump(), "notebook"));
  }
  if (legacy_notebook) {
    ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("notebook", *legacy_notebook, "notebook_id"));
    form.notebooks.push_back(id);
  }
  if (body.Has("transformations") && !body.IsNull("transformations")) {
    ON_ASSIGN_OR_RETURN(auto ids, ParseIdArray("transformations", body.object()["transformations"].dump(), "transformation"));
    form.transformations_json = nlohmann::json(ids).dump();
  }
  return form;
}

std::filesystem::path UploadsDir(const AppContext& context) {
  return std::filesystem::path(context.settings()->data_dir) / "uploads";
}

// Checks the form and turns it into what storage creates. Stores an uploaded file.
Result<storage::SourceCreate> PrepareSource(AppContext& context, const SourceForm& form) {
  storage::SourceCreate source;
  source.notebooks = form.notebooks;
  source.transformations_json = form.transformations_json;
  source.embed = form.embed.value_or(context.settings()->default_embedding_option == "always");
  // Unknown transformations are rejected now, not when they would run after processing.
  for (const auto& id : nlohmann::json::parse(form.transformations_json)) {
    ON_RETURN_IF_ERROR(context.storage().GetTransformation(id.get<std::string>()).status());
  }
  source.job_app = "open_notebook";
  source.job_command = "process_source";
  source.job_max_attempts = static_cast<int>(context.settings()->retry_max_attempts);
  if (form.title && !TrimWhitespace(*form.title).empty()) source.title = TrimWhitespace(*form.title);

  if (form.type == "link") {
    if (!form.url || TrimWhitespace(*form.url).empty()) return InvalidInput("url is required for a source of type link");
    const std::string url = TrimWhitespace(*form.url);
    ON_ASSIGN_OR_RETURN(auto parts, ingest::ParseFetchUrl(url));
    ON_ASSIGN_OR_RETURN(auto policy, ingest::ParseUrlPolicy(context.settings()->url_allowlist));
    // A literal address is checked now; host names are resolved and checked when fetched.
    if (parts.host_is_address) {
      Status allowed = ingest::CheckAddress(parts.host, parts.host, policy);
      if (!allowed.ok()) return InvalidInput(allowed.message());
    }
    source.url = url;
  } else if (form.type == "upload") {
    if (!form.has_file) {
      return InvalidInput("file is required for a source of type upload; send it to POST /api/sources as "
                          "multipart/form-data");
    }
    if (form.file_data.empty()) return InvalidInput("the uploaded file '" + form.file_name.value_or("") + "' is empty");
    const std::string original = ingest::NormalizeNfc(form.file_name.value_or("upload"));
    const std::string_view head = form.file_data.substr(0, ingest::kDetectionHeadBytes);
    ON_RETURN_IF_ERROR(ingest::DetectKind(original, head).status());
    ON_ASSIGN_OR_RETURN(source.file_path, ingest::StoreUpload(UploadsDir(context), original, form.file_data));
    source.original_filename = original;
  } else if (form.type == "text") {
    if (!form.content || TrimWhitespace(*form.content).empty()) return InvalidInput("content is required for a source of type text");
    source.text = *form.content;
  } else if (form.type.empty()) {
    return InvalidInput("field 'type' is required: use link, upload or text");
  } else {
    return InvalidInput("type '" + form.type.substr(0, 32) + "' is invalid: use link, upload or text");
  }
  return source;
}

// Waits for a synchronously processed source to finish; bounded by the sync timeout.
Result<storage::Source> WaitForProcessing(AppContext& context, const std::string& id) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(context.settings()->sync_processing_timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    ON_ASSIGN_OR_RETURN(storage::Source source, context.storage().GetSource(id, true));
    const std::string status = source.job_status.value_or("");
    if (status == "completed" || status == "failed" || status == "cancelled") return source;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status(ErrorCode::kTimeout, "processing did not finish within " +
                                         std::to_string(context.settings()->sync_processing_timeout_s) +
                                         " s; it continues in the background: poll GET /api/sources/" + id + "/status");
}

void RemoveSourceFile(AppContext& context, const std::optional<std::string>& file_path) {
  if (file_path) ingest::RemoveUpload(UploadsDir(context), *file_path);
}

Result<http::Response> CreateFromForm(AppContext& context, const SourceForm& form) {
  ON_ASSIGN_OR_RETURN(storage::SourceCreate prepared, PrepareSource(context, form));
  auto created = context.storage().CreateSource(prepared);
  if (!created.ok()) {
    RemoveSourceFile(context, prepared.file_path);
    return created.status();
  }
  if (form.async_processing) return http::JsonResponse(SourceJson(context, *created, true));

  ON_ASSIGN_OR_RETURN(storage::Source finished, WaitForProcessing(context, created->id));
  if (finished.job_status == "completed") return http::JsonResponse(SourceJson(context, finished, true));

  // A source that failed synchronous processing is not kept, so the caller can simply try again.
  auto deleted = context.storage().DeleteSource(finished.id);
  if (deleted.ok()) RemoveSourceFile(context, deleted->file_path);
  ErrorCode code = ErrorCodeFromName(finished.job_error_code.value_or("Internal"));
  return Status(code, "Processing failed: " + finished.job_error.value_or("unknown error"));
}

Result<http::Response> CreateSource(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(SourceForm form, FormFromMultipart(request));
  return CreateFromForm(context, form);
}

Result<http::Response> CreateSourceJson(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(SourceForm form, FormFromJson(request));
  return CreateFromForm(context, form);
}

Result<storage::SourceSortField> ParseSortField(std::string_view name) {
  if (name == "created") return storage::SourceSortField::kCreated;
  if (name == "updated") return storage::SourceSortField::kUpdated;
  if (name == "title") return storage::SourceSortField::kTitle;
  if (name == "type") return storage::SourceSortField::kType;
  if (name == "insights_count") return storage::SourceSortField::kInsights;
  if (name == "embedded") return storage::SourceSortField::kEmbedded;
  return InvalidInput("sort_by '" + std::string(name.substr(0, 32)) +
                      "' is invalid: use type, title, created, updated, insights_count or embedded");
}

Result<http::Response> ListSources(AppContext& context, http::Request& request) {
  storage::SourceQuery query;
  if (auto notebook = request.Query("notebook_id")) {
    ON_ASSIGN_OR_RETURN(query.notebook_id, NormalizeId("notebook", *notebook, "notebook_id"));
  }
  ON_ASSIGN_OR_RETURN(auto limit, QueryInt(request, "limit", 1, 100));
  ON_ASSIGN_OR_RETURN(auto offset, QueryInt(request, "offset", 0, 1'000'000'000));
  ON_ASSIGN_OR_RETURN(query.sort, ParseSortField(request.Query("sort_by").value_or("updated")));
  const std::string_view order = request.Query("sort_order").value_or("desc");
  if (order != "asc" && order != "desc") return InvalidInput("sort_order must be asc or desc");
  query.descending = order == "desc";
  query.limit = static_cast<int>(limit.value_or(50));
  query.offset = static_cast<int>(offset.value_or(0));

  ON_ASSIGN_OR_RETURN(auto sources, context.storage().ListSources(query));
  nlohmann::json list = nlohmann::json::array();
  for (const auto& source : sources) list.push_back(SourceJson(context, source, false));
  return http::JsonResponse(list);
}

Result<std::string> SourceIdParam(const http::Request& request) {
  return NormalizeId("source", request.Param("source_id"), "source id");
}

Result<http::Response> GetSource(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, SourceIdParam(request));
  ON_ASSIGN_OR_RETURN(auto source, context.storage().GetSource(id, true));
  context.storage().TouchViewed(id);
  return http::JsonResponse(SourceJson(context, source, true));
}

Result<http::Response> SourceStatus(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, SourceIdParam(request));
  ON_ASSIGN_OR_RETURN(auto source, context.storage().GetSource(id, false));
  return http::JsonResponse(SourceStatusJson(context, source));
}

Result<http::Response> UpdateSource(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, SourceIdParam(request));
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"title", "topics"}));
  storage::SourcePatch patch;
  ON_ASSIGN_OR_RETURN(patch.title, body.String("title", kMaxTitleLength));
  if (patch.title && TrimWhitespace(*patch.title).empty()) return InvalidInput("Source title cannot be empty");
  if (body.Has("topics") && !body.IsNull("topics")) {
    const auto& topics = body.object()["topics"];
    if (!topics.is_array() || topics.size() > 100) return ValidationError("field 'topics' must be an array of at most 100 strings");
    std::vector<std::string> values;
    for (const auto& topic : topics) {
      if (!topic.is_string() || topic.get_ref<const std::string&>().size() > 200) {
        return ValidationError("field 'topics' must contain strings of at most 200 bytes");
      }
      values.push_back(topic.get<std::string>());
    }
    patch.topics = std::move(values);
  }
  ON_ASSIGN_OR_RETURN(auto source, context.storage().UpdateSource(id, patch));
  return http::JsonResponse(SourceJson(context, source, true));
}

Result<http::Response> RetrySource(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, SourceIdParam(request));
  ON_ASSIGN_OR_RETURN(auto source, context.storage().GetSource(id, false));
  const std::string status = source.job_status.value_or("");
  // Retrying a source that is already queued or running returns it unchanged: a double click
  // never queues a second job.
  if (status != "queued" && status != "running") {
    ON_ASSIGN_OR_RETURN(source, context.storage().RequeueSource(id, "open_notebook", "process_source",
                                                                static_cast<int>(context.settings()->retry_max_attempts)));
  }
  nlohmann::json body = SourceJson(context, source, false);
  body["processing_info"]["retry"] = true;
  return http::JsonResponse(body);
}

Result<http::Response> DeleteSource(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, SourceIdParam(request));
  ON_ASSIGN_OR_RETURN(auto source, context.storage().GetSource(id, false));
  if (source.command_id && (source.job_status == "queued" || source.job_status == "running")) {
    (void)context.storage().jobs().Cancel(*source.command_id);
  }
  ON_ASSIGN_OR_RETURN(auto deleted, context.storage().DeleteSource(id));
  RemoveSourceFile(context, deleted.file_path);
  return http::JsonResponse({{"message", "Source deleted successfully"}});
}

Result<http::Response> DownloadSource(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, SourceIdParam(request));
  ON_ASSIGN_OR_RETURN(auto source, context.storage().GetSource(id, false));
  if (!source.asset_file_path) return NotFound("source " + id + " has no uploaded file");
  ON_ASSIGN_OR_RETURN(auto path, ingest::ResolveUpload(UploadsDir(context), *source.asset_file_path));

  std::ifstream file(path, std::ios::binary);
  if (!file) return NotFound("the uploaded file of source " + id + " cannot be read");
  std::ostringstream bytes;
  bytes << file.rdbuf();

  http::Response response;
  response.content_type = "application/octet-stream";
  response.body = bytes.str();
  response.SetHeader("Content-Disposition",
                     ingest::AttachmentDisposition(source.original_filename.value_or(path.filename().string())));
  return response;
}

Result<http::Response> LinkSource(AppContext& context, http::Request& request, bool link) {
  ON_ASSIGN_OR_RETURN(std::string notebook_id, NormalizeId("notebook", request.Param("notebook_id"), "notebook id"));
  ON_ASSIGN_OR_RETURN(std::string source_id, SourceIdParam(request));
  if (link) {
    ON_RETURN_IF_ERROR(context.storage().LinkSource(notebook_id, source_id));
    return http::JsonResponse({{"message", "Source linked to notebook successfully"}});
  }
  ON_RETURN_IF_ERROR(context.storage().UnlinkSource(notebook_id, source_id));
  return http::JsonResponse({{"message", "Source removed from notebook successfully"}});
}

}  // namespace

void RegisterSourceRoutes(http::Router& router, AppContext& context) {
  router.Add("GET", "/api/sources", Bind(context, ListSources));
  router.Add("POST", "/api/sources", Bind(context, CreateSource));
  router.Add("POST", "/api/sources/json", Bind(context, CreateSourceJson));
  router.Add("GET", "/api/sources/{source_id}", Bind(context, GetSource));
  router.Add("PUT", "/api/sources/{source_id}", Bind(context, UpdateSource));
  router.Add("DELETE", "/api/sources/{source_id}", Bind(context, DeleteSource));
  router.Add("GET", "/api/sources/{source_id}/status", Bind(context, SourceStatus));
  router.Add("POST", "/api/sources/{source_id}/retry", Bind(context, RetrySource));
  router.Add("GET", "/api/sources/{source_id}/download", Bind(context, DownloadSource));
  router.Add("POST", "/api/notebooks/{notebook_id}/sources/{source_id}",
             [&context](http::Request& request) { return LinkSource(context, request, true); });
  router.Add("DELETE", "/api/notebooks/{notebook_id}/sources/{source_id}",
             [&context](http::Request& request) { return LinkSource(context, request, false); });
}

}  // namespace on::api
