// Notes: /api/notes...
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/app_context.h"
#include "api/json_body.h"
#include "api/note_json.h"
#include "core/ids.h"

namespace on::api {
namespace {

constexpr size_t kMaxTitleLength = 1000;
constexpr size_t kMaxContentLength = 10u << 20;

Status CheckNoteType(const std::string& note_type) {
  if (note_type == "human" || note_type == "ai") return Status::Ok();
  return InvalidInput("note_type '" + note_type.substr(0, 32) + "' is invalid: use human or ai");
}

// Without `limit` every note is listed, as the original API does. The UI requests pages, so a
// notebook with thousands of notes does not arrive in one response.
Result<http::Response> ListNotes(AppContext& context, http::Request& request) {
  storage::NoteQuery query;
  if (auto raw = request.Query("notebook_id")) {
    ON_ASSIGN_OR_RETURN(query.notebook_id, NormalizeId("notebook", *raw, "notebook_id"));
  }
  ON_ASSIGN_OR_RETURN(auto limit, QueryInt(request, "limit", 1, 100));
  ON_ASSIGN_OR_RETURN(auto offset, QueryInt(request, "offset", 0, 1'000'000'000));
  if (limit) query.limit = static_cast<int>(*limit);
  query.offset = static_cast<int>(offset.value_or(0));
  ON_ASSIGN_OR_RETURN(auto notes, context.storage().ListNotes(query));
  nlohmann::json list = nlohmann::json::array();
  for (const auto& note : notes) list.push_back(NoteJson(note));
  return http::JsonResponse(list);
}

Result<http::Response> CreateNote(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"title", "content", "note_type", "notebook_id"}));
  storage::Note note;
  ON_ASSIGN_OR_RETURN(note.title, body.String("title", kMaxTitleLength));
  ON_ASSIGN_OR_RETURN(note.content, body.RequiredString("content", kMaxContentLength));
  ON_ASSIGN_OR_RETURN(auto note_type, body.String("note_type", 16));
  ON_ASSIGN_OR_RETURN(auto notebook_id, body.String("notebook_id", 128));

  note.note_type = note_type.value_or("human");
  ON_RETURN_IF_ERROR(CheckNoteType(note.note_type));
  if (TrimWhitespace(note.content).empty()) return InvalidInput("Note content cannot be empty");
  if (note.title && TrimWhitespace(*note.title).empty()) note.title.reset();
  if (notebook_id) {
    ON_ASSIGN_OR_RETURN(note.notebook_id, NormalizeId("notebook", *notebook_id, "notebook_id"));
    ON_RETURN_IF_ERROR(context.storage().GetNotebook(*note.notebook_id).status());
  }
  ON_ASSIGN_OR_RETURN(auto created, SaveNewNote(context, std::move(note)));
  return http::JsonResponse(NoteJson(created));
}

Result<std::string> NoteIdParam(const http::Request& request) {
  return NormalizeId("note", request.Param("note_id"), "note id");
}

Result<http::Response> GetNote(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NoteIdParam(request));
  ON_ASSIGN_OR_RETURN(auto note, context.storage().GetNote(id));
  return http::JsonResponse(NoteJson(note));
}

Result<http::Response> UpdateNote(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NoteIdParam(request));
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"title", "content", "note_type"}));

  storage::NotePatch patch;
  if (body.Has("title")) {
    ON_ASSIGN_OR_RETURN(auto title, body.String("title", kMaxTitleLength));
    patch.title = title && !TrimWhitespace(*title).empty() ? title : std::optional<std::string>();
  }
  ON_ASSIGN_OR_RETURN(patch.content, body.String("content", kMaxContentLength));
  ON_ASSIGN_OR_RETURN(patch.note_type, body.String("note_type", 16));
  if (patch.content && TrimWhitespace(*patch.content).empty()) return InvalidInput("Note content cannot be empty");
  if (patch.note_type) ON_RETURN_IF_ERROR(CheckNoteType(*patch.note_type));

  ON_ASSIGN_OR_RETURN(auto note, context.storage().UpdateNote(id, patch));
  // Every update rewrites title and content, which removes the note's vector (a trigger), so the
  // note is embedded again.
  ON_ASSIGN_OR_RETURN(note, QueueNoteEmbedding(context, std::move(note)));
  return http::JsonResponse(NoteJson(note));
}

Result<http::Response> DeleteNote(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NoteIdParam(request));
  ON_RETURN_IF_ERROR(context.storage().DeleteNote(id));
  return http::JsonResponse({{"message", "Note deleted successfully"}});
}

}  // namespace

void RegisterNoteRoutes(http::Router& router, AppContext& context) {
  router.Add("GET", "/api/notes", Bind(context, ListNotes));
  router.Add("POST", "/api/notes", Bind(context, CreateNote));
  router.Add("GET", "/api/notes/{note_id}", Bind(context, GetNote));
  router.Add("PUT", "/api/notes/{note_id}", Bind(context, UpdateNote));
  router.Add("DELETE", "/api/notes/{note_id}", Bind(context, DeleteNote));
}

}  // namespace on::api
