// Transformations and insights: /api/transformations..., /api/sources/{id}/insights and
// /api/insights/...
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "ai/transformation.h"
#include "api/app_context.h"
#include "api/json_body.h"
#include "api/note_json.h"
#include "core/ids.h"
#include "jobs/transformation_commands.h"

namespace on::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxNameLength = 200;
constexpr size_t kMaxDescriptionLength = 4000;
constexpr size_t kMaxPromptLength = 100'000;
constexpr size_t kMaxInputLength = 10u << 20;

json Optional(const std::optional<std::string>& value) { return value ? json(*value) : json(nullptr); }

json TransformationJson(const storage::Transformation& transformation) {
  return {{"id", transformation.id},
          {"name", transformation.name},
          {"title", transformation.title},
          {"description", transformation.description},
          {"prompt", transformation.prompt},
          {"apply_default", transformation.apply_default},
          {"model_id", Optional(transformation.model_id)},
          {"created", transformation.created},
          {"updated", transformation.updated}};
}

json InsightJson(const storage::Insight& insight) {
  return {{"id", insight.id},
          {"source_id", insight.source_id},
          {"insight_type", insight.insight_type},
          {"content", insight.content},
          {"transformation_id", Optional(insight.transformation_id)},
          {"model_id", Optional(insight.model_id)},
          {"command_id", Optional(insight.command_id)},
          {"created", insight.created},
          {"updated", insight.updated}};
}

// A model id from a request: normalised, existing (kNotFound) and a language model (kInvalidInput).
Result<std::string> LanguageModelId(AppContext& context, std::string_view value) {
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("model", value, "model_id"));
  ON_ASSIGN_OR_RETURN(storage::Model model, context.storage().GetModel(id));
  if (model.type != "language") {
    return InvalidInput("model " + id + " is a " + model.type + " model; a transformation needs a language model");
  }
  return id;
}

// A required text field that must contain more than whitespace.
Result<std::string> NonBlank(const JsonBody& body, std::string_view field, size_t max_length) {
  ON_ASSIGN_OR_RETURN(std::string value, body.RequiredString(field, max_length));
  if (TrimWhitespace(value).empty()) return InvalidInput("field '" + std::string(field) + "' cannot be empty");
  return value;
}

Result<std::optional<std::string>> OptionalNonBlank(const JsonBody& body, std::string_view field, size_t max_length) {
  ON_ASSIGN_OR_RETURN(auto value, body.String(field, max_length));
  if (value && TrimWhitespace(*value).empty()) return InvalidInput("field '" + std::string(field) + "' cannot be empty");
  return value;
}

Result<std::string> TransformationIdParam(const http::Request& request) {
  return NormalizeId("transformation", request.Param("transformation_id"), "transformation id");
}

Result<http::Response> ListTransformations(AppContext& context, http::Request&) {
  ON_ASSIGN_OR_RETURN(auto transformations, context.storage().ListTransformations());
  json list = json::array();
  for (const auto& transformation : transformations) list.push_back(TransformationJson(transformation));
  return http::JsonResponse(list);
}

Result<http::Response> CreateTransformation(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"name", "title", "description", "prompt",
                                                                "apply_default", "model_id"}));
  storage::Transformation transformation;
  ON_ASSIGN_OR_RETURN(transformation.name, NonBlank(body, "name", kMaxNameLength));
  ON_ASSIGN_OR_RETURN(transformation.title, NonBlank(body, "title", kMaxNameLength));
  ON_ASSIGN_OR_RETURN(transformation.prompt, NonBlank(body, "prompt", kMaxPromptLength));
  ON_ASSIGN_OR_RETURN(auto description, body.String("description", kMaxDescriptionLength));
  transformation.description = description.value_or("");
  ON_ASSIGN_OR_RETURN(auto apply_default, body.Bool("apply_default"));
  transformation.apply_default = apply_default.value_or(false);
  ON_ASSIGN_OR_RETURN(auto model_id, body.String("model_id", 128));
  if (model_id) {
    ON_ASSIGN_OR_RETURN(transformation.model_id, LanguageModelId(context, *model_id));
  }

  ON_ASSIGN_OR_RETURN(auto created, context.storage().CreateTransformation(transformation));
  return http::JsonResponse(TransformationJson(created));
}

Result<http::Response> GetTransformation(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, TransformationIdParam(request));
  ON_ASSIGN_OR_RETURN(auto transformation, context.storage().GetTransformation(id));
  return http::JsonResponse(TransformationJson(transformation));
}

Result<http::Response> UpdateTransformation(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, TransformationIdParam(request));
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"name", "title", "description", "prompt",
                                                                "apply_default", "model_id"}));
  storage::TransformationPatch patch;
  ON_ASSIGN_OR_RETURN(patch.name, OptionalNonBlank(body, "name", kMaxNameLength));
  ON_ASSIGN_OR_RETURN(patch.title, OptionalNonBlank(body, "title", kMaxNameLength));
  ON_ASSIGN_OR_RETURN(patch.prompt, OptionalNonBlank(body, "prompt", kMaxPromptLength));
  ON_ASSIGN_OR_RETURN(patch.description, body.String("description", kMaxDescriptionLength));
  ON_ASSIGN_OR_RETURN(patch.apply_default, body.Bool("apply_default"));
  // model_id is presence-based: absent keeps the model, null clears it.
  if (body.Has("model_id")) {
    ON_ASSIGN_OR_RETURN(auto model_id, body.String("model_id", 128));
    if (model_id) {
      ON_ASSIGN_OR_RETURN(std::string checked, LanguageModelId(context, *model_id));
      patch.model_id = std::optional<std::string>(checked);
    } else {
      patch.model_id = std::optional<std::string>();
    }
  }
  ON_ASSIGN_OR_RETURN(auto transformation, context.storage().UpdateTransformation(id, patch));
  return http::JsonResponse(TransformationJson(transformation));
}

Result<http::Response> DeleteTransformation(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, TransformationIdParam(request));
  ON_RETURN_IF_ERROR(context.storage().DeleteTransformation(id));
  return http::JsonResponse({{"message", "Transformation deleted successfully"}});
}

Result<http::Response> GetDefaultPrompt(AppContext& context, http::Request&) {
  ON_ASSIGN_OR_RETURN(std::string instructions, context.storage().GetTransformationInstructions());
  return http::JsonResponse({{"transformation_instructions", instructions}});
}

Result<http::Response> SetDefaultPrompt(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"transformation_instructions"}));
  // An empty text is allowed: it turns the global instructions off.
  ON_ASSIGN_OR_RETURN(std::string instructions, body.RequiredString("transformation_instructions", kMaxPromptLength));
  ON_RETURN_IF_ERROR(context.storage().SetTransformationInstructions(instructions));
  return http::JsonResponse({{"transformation_instructions", instructions}});
}

// The playground: runs a transformation on the request's text and returns the output.
Result<http::Response> ExecuteTransformation(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"transformation_id", "input_text", "model_id"}));
  ON_ASSIGN_OR_RETURN(std::string raw_id, body.RequiredString("transformation_id", 128));
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("transformation", raw_id, "transformation_id"));
  ON_ASSIGN_OR_RETURN(std::string input_text, NonBlank(body, "input_text", kMaxInputLength));
  ON_ASSIGN_OR_RETURN(auto raw_model, body.String("model_id", 128));
  std::optional<std::string> model_id;
  if (raw_model) {
    ON_ASSIGN_OR_RETURN(model_id, LanguageModelId(context, *raw_model));
  }

  ON_ASSIGN_OR_RETURN(auto transformation, context.storage().GetTransformation(id));
  ON_ASSIGN_OR_RETURN(std::string instructions, context.storage().GetTransformationInstructions());
  ON_ASSIGN_OR_RETURN(auto setup, ai::ResolveLanguageModel(context.storage(), context.cipher(), context.env,
                                                           *context.settings(), {model_id, transformation.model_id},
                                                           "default_transformation_model"));
  ON_ASSIGN_OR_RETURN(auto chat, ai::MakeChatModel(setup.config));
  ON_ASSIGN_OR_RETURN(auto output, ai::RunTransformation(*chat, setup.context_tokens,
                                                         {instructions, transformation.prompt, input_text}));
  return http::JsonResponse({{"output", output.text},
                             {"transformation_id", transformation.id},
                             {"model_id", setup.model_id},
                             {"parts", output.parts}});
}

Result<std::string> SourceIdParam(const http::Request& request) {
  return NormalizeId("source", request.Param("source_id"), "source id");
}

Result<std::string> InsightIdParam(const http::Request& request) {
  return NormalizeId("source_insight", request.Param("insight_id"), "insight id");
}

Result<http::Response> ListSourceInsights(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string source_id, SourceIdParam(request));
  ON_ASSIGN_OR_RETURN(auto insights, context.storage().ListInsights(source_id));
  json list = json::array();
  for (const auto& insight : insights) list.push_back(InsightJson(insight));
  return http::JsonResponse(list);
}

Result<http::Response> CreateSourceInsight(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string source_id, SourceIdParam(request));
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"transformation_id", "model_id"}));
  ON_ASSIGN_OR_RETURN(std::string raw_transformation, body.RequiredString("transformation_id", 128));
  ON_ASSIGN_OR_RETURN(std::string transformation_id,
                      NormalizeId("transformation", raw_transformation, "transformation_id"));
  ON_ASSIGN_OR_RETURN(auto raw_model, body.String("model_id", 128));
  std::optional<std::string> model_id;
  if (raw_model) {
    ON_ASSIGN_OR_RETURN(model_id, LanguageModelId(context, *raw_model));
  }

  ON_ASSIGN_OR_RETURN(auto source, context.storage().GetSource(source_id, true));
  ON_RETURN_IF_ERROR(context.storage().GetTransformation(transformation_id).status());
  if (!source.full_text || TrimWhitespace(*source.full_text).empty()) {
    const std::string status = source.job_status.value_or("");
    if (status == "queued" || status == "running") {
      return InvalidInput("source " + source_id + " is still being processed; generate insights once GET /api/sources/" +
                          source_id + "/status reports completed");
    }
    return InvalidInput("source " + source_id + " has no text to transform; process it again with POST /api/sources/" +
                        source_id + "/retry");
  }
  ON_ASSIGN_OR_RETURN(std::string command_id,
                      jobs::SubmitRunTransformation(context.storage(), source_id, transformation_id, model_id));
  return http::JsonResponse({{"status", "pending"},
                             {"message", "Insight generation started"},
                             {"source_id", source_id},
                             {"transformation_id", transformation_id},
                             {"model_id", Optional(model_id)},
                             {"command_id", command_id}},
                            202);
}

Result<http::Response> GetInsight(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, InsightIdParam(request));
  ON_ASSIGN_OR_RETURN(auto insight, context.storage().GetInsight(id));
  return http::JsonResponse(InsightJson(insight));
}

Result<http::Response> DeleteInsight(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, InsightIdParam(request));
  ON_RETURN_IF_ERROR(context.storage().DeleteInsight(id));
  return http::JsonResponse({{"message", "Insight deleted successfully"}});
}

Result<http::Response> SaveInsightAsNote(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, InsightIdParam(request));
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body.empty() ? std::string_view("{}") : request.body,
                                                 {"notebook_id"}));
  ON_ASSIGN_OR_RETURN(auto raw_notebook, body.String("notebook_id", 128));
  ON_ASSIGN_OR_RETURN(auto insight, context.storage().GetInsight(id));
  ON_ASSIGN_OR_RETURN(auto source, context.storage().GetSource(insight.source_id, false));

  storage::Note note;
  note.title = insight.insight_type + " from source " + source.title.value_or(source.id);
  note.content = insight.content;
  note.note_type = "ai";
  if (raw_notebook) {
    ON_ASSIGN_OR_RETURN(note.notebook_id, NormalizeId("notebook", *raw_notebook, "notebook_id"));
  }
  ON_ASSIGN_OR_RETURN(auto created, SaveNewNote(context, std::move(note)));
  return http::JsonResponse(NoteJson(created));
}

}  // namespace

void RegisterTransformationRoutes(http::Router& router, AppContext& context) {
  router.Add("GET", "/api/transformations", Bind(context, ListTransformations));
  router.Add("POST", "/api/transformations", Bind(context, CreateTransformation));
  // The fixed paths come before /{transformation_id}: the first matching route wins.
  router.Add("GET", "/api/transformations/default-prompt", Bind(context, GetDefaultPrompt));
  router.Add("PUT", "/api/transformations/default-prompt", Bind(context, SetDefaultPrompt));
  router.Add("POST", "/api/transformations/execute", Bind(context, ExecuteTransformation));
  router.Add("GET", "/api/transformations/{transformation_id}", Bind(context, GetTransformation));
  router.Add("PUT", "/api/transformations/{transformation_id}", Bind(context, UpdateTransformation));
  router.Add("DELETE", "/api/transformations/{transformation_id}", Bind(context, DeleteTransformation));

  router.Add("GET", "/api/sources/{source_id}/insights", Bind(context, ListSourceInsights));
  router.Add("POST", "/api/sources/{source_id}/insights", Bind(context, CreateSourceInsight));
  router.Add("GET", "/api/insights/{insight_id}", Bind(context, GetInsight));
  router.Add("DELETE", "/api/insights/{insight_id}", Bind(context, DeleteInsight));
  router.Add("POST", "/api/insights/{insight_id}/save-as-note", Bind(context, SaveInsightAsNote));
}

}  // namespace on::api
