// Notebooks: /api/notebooks... and /api/recently-viewed.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "api/app_context.h"
#include "api/json_body.h"
#include "core/ids.h"
#include "ingest/uploads.h"

namespace on::api {
namespace {

constexpr size_t kMaxNameLength = 500;
constexpr size_t kMaxDescriptionLength = 20000;

nlohmann::json NotebookJson(const storage::Notebook& notebook) {
  return {{"id", notebook.id},
          {"name", notebook.name},
          {"description", notebook.description},
          {"archived", notebook.archived},
          {"created", notebook.created},
          {"updated", notebook.updated},
          {"source_count", notebook.source_count},
          {"note_count", notebook.note_count}};
}

Result<storage::NotebookQuery> ParseListQuery(const http::Request& request) {
  storage::NotebookQuery query;
  ON_ASSIGN_OR_RETURN(query.archived, QueryBool(request, "archived"));

  const std::string order_by = TrimWhitespace(request.Query("order_by").value_or("updated desc"));
  const size_t space = order_by.find(' ');
  const std::string field = order_by.substr(0, space);
  const std::string direction = space == std::string::npos ? "asc" : TrimWhitespace(order_by.substr(space + 1));

  if (field == "name") {
    query.sort = storage::NotebookSortField::kName;
  } else if (field == "created") {
    query.sort = storage::NotebookSortField::kCreated;
  } else if (field == "updated") {
    query.sort = storage::NotebookSortField::kUpdated;
  } else {
    return InvalidInput("order_by '" + order_by.substr(0, 64) +
                        "' is invalid: use name, created or updated, optionally followed by asc or desc");
  }
  if (direction != "asc" && direction != "desc") {
    return InvalidInput("order_by '" + order_by.substr(0, 64) + "' is invalid: the direction must be asc or desc");
  }
  query.descending = direction == "desc";
  return query;
}

Result<http::Response> ListNotebooks(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto query, ParseListQuery(request));
  ON_ASSIGN_OR_RETURN(auto notebooks, context.storage().ListNotebooks(query));
  nlohmann::json list = nlohmann::json::array();
  for (const auto& notebook : notebooks) list.push_back(NotebookJson(notebook));
  http::Response response = http::JsonResponse(list);
  response.cacheable = true;
  return response;
}

Result<http::Response> CreateNotebook(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"name", "description"}));
  ON_ASSIGN_OR_RETURN(std::string name, body.RequiredString("name", kMaxNameLength));
  ON_ASSIGN_OR_RETURN(auto description, body.String("description", kMaxDescriptionLength));

  name = TrimWhitespace(name);
  if (name.empty()) return InvalidInput("Notebook name cannot be empty");
  ON_ASSIGN_OR_RETURN(auto notebook, context.storage().CreateNotebook(name, description.value_or("")));
  return http::JsonResponse(NotebookJson(notebook));
}

Result<std::string> NotebookIdParam(const http::Request& request) {
  return NormalizeId("notebook", request.Param("notebook_id"), "notebook id");
}

Result<http::Response> GetNotebook(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NotebookIdParam(request));
  ON_ASSIGN_OR_RETURN(auto notebook, context.storage().GetNotebook(id));
  context.storage().TouchViewed(id);
  return http::JsonResponse(NotebookJson(notebook));
}

Result<http::Response> UpdateNotebook(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NotebookIdParam(request));
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"name", "description", "archived"}));

  storage::NotebookPatch patch;
  ON_ASSIGN_OR_RETURN(patch.name, body.String("name", kMaxNameLength));
  ON_ASSIGN_OR_RETURN(patch.description, body.String("description", kMaxDescriptionLength));
  ON_ASSIGN_OR_RETURN(patch.archived, body.Bool("archived"));
  if (patch.name) {
    patch.name = TrimWhitespace(*patch.name);
    if (patch.name->empty()) return InvalidInput("Notebook name cannot be empty");
  }
  ON_ASSIGN_OR_RETURN(auto notebook, context.storage().UpdateNotebook(id, patch));
  return http::JsonResponse(NotebookJson(notebook));
}

Result<http::Response> DeletePreview(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NotebookIdParam(request));
  ON_ASSIGN_OR_RETURN(auto preview, context.storage().PreviewNotebookDelete(id));
  return http::JsonResponse({{"notebook_id", preview.notebook_id},
                             {"notebook_name", preview.notebook_name},
                             {"note_count", preview.note_count},
                             {"exclusive_source_count", preview.exclusive_source_count},
                             {"shared_source_count", preview.shared_source_count}});
}

Result<http::Response> DeleteNotebook(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NotebookIdParam(request));
  ON_ASSIGN_OR_RETURN(auto delete_sources, QueryBool(request, "delete_exclusive_sources"));
  ON_ASSIGN_OR_RETURN(auto result, context.storage().DeleteNotebook(id, delete_sources.value_or(false)));
  const auto uploads = std::filesystem::path(context.settings()->data_dir) / "uploads";
  for (const auto& file : result.deleted_source_files) ingest::RemoveUpload(uploads, file);
  return http::JsonResponse({{"message", "Notebook deleted successfully"},
                             {"deleted_notes", result.deleted_notes},
                             {"deleted_sources", result.deleted_sources},
                             {"unlinked_sources", result.unlinked_sources},
                             {"deleted_chat_sessions", result.deleted_chat_sessions}});
}

Result<http::Response> RecentlyViewed(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto limit, QueryInt(request, "limit", 1, 50));
  ON_ASSIGN_OR_RETURN(auto items, context.storage().ListRecentlyViewed(static_cast<int>(limit.value_or(12))));
  nlohmann::json list = nlohmann::json::array();
  for (const auto& item : items) {
    list.push_back({{"type", item.type}, {"id", item.id}, {"title", item.title}, {"last_viewed_at", item.last_viewed_at}});
  }
  return http::JsonResponse(list);
}

}  // namespace

void RegisterNotebookRoutes(http::Router& router, AppContext& context) {
  router.Add("GET", "/api/notebooks", Bind(context, ListNotebooks));
  router.Add("POST", "/api/notebooks", Bind(context, CreateNotebook));
  router.Add("GET", "/api/notebooks/{notebook_id}", Bind(context, GetNotebook));
  router.Add("PUT", "/api/notebooks/{notebook_id}", Bind(context, UpdateNotebook));
  router.Add("DELETE", "/api/notebooks/{notebook_id}", Bind(context, DeleteNotebook));
  router.Add("GET", "/api/notebooks/{notebook_id}/delete-preview", Bind(context, DeletePreview));
  router.Add("GET", "/api/recently-viewed", Bind(context, RecentlyViewed));
}

}  // namespace on::api
