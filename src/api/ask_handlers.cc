// POST /api/search/ask (server-sent events) and /api/search/ask/simple: questions answered from
// the user's sources and notes in several steps, with checked citations (see ai/ask.h).
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "ai/ask.h"
#include "ai/embedding_service.h"
#include "ai/model_config.h"
#include "api/app_context.h"
#include "api/json_body.h"
#include "core/ids.h"
#include "core/retry_policy.h"
#include "search/passage_search.h"

namespace on::api {
namespace {

constexpr size_t kMaxQuestionLength = 8000;
// Passages given to the answer model per search: five searches then show the final model at
// most 30 passages, about 12,000 tokens with the default chunk size of 400 tokens.
constexpr size_t kPassagesPerSearch = 6;

// Everything an ask needs, checked before the response starts, so that a bad request gets an
// HTTP error status instead of an error event.
struct PreparedAsk {
  std::string question;
  std::optional<std::string> notebook_id;
  std::unique_ptr<ai::ChatModel> strategy;
  std::unique_ptr<ai::ChatModel> answer;
  std::unique_ptr<ai::ChatModel> final_answer;
  std::optional<ai::EmbeddingSetup> embedding;  // set when vectors of the default embedding model exist
};

Result<std::unique_ptr<ai::ChatModel>> ResolveChatModel(AppContext& context, const std::optional<std::string>& requested,
                                                        const std::optional<std::string>& default_chat,
                                                        std::string_view field) {
  if (!requested && !default_chat) {
    return Status(ErrorCode::kConfiguration, "no chat model is configured: set default_chat_model with PUT "
                                             "/api/models/defaults, or pass " + std::string(field));
  }
  std::string id;
  if (requested) {
    ON_ASSIGN_OR_RETURN(id, NormalizeId("model", *requested, field));
  } else {
    id = *default_chat;
  }
  auto connection = ai::ResolveModelConfig(context.storage(), context.cipher(), context.env, id);
  if (!connection.ok() && connection.status().code() == ErrorCode::kNotFound) {
    if (!requested) {
      return Status(ErrorCode::kConfiguration, "the default chat model '" + id + "' does not exist: choose another "
                                               "with PUT /api/models/defaults, or pass " + std::string(field));
    }
    return InvalidInput(std::string(field) + " '" + id + "' does not exist: choose a model from GET /api/models");
  }
  if (!connection.ok()) return connection.status();
  if (connection->model_type != "language") {
    return InvalidInput(std::string(field) + " '" + id + "' is a " + connection->model_type +
                        " model: choose a language model");
  }
  ai::ProviderConfig config = ai::ToProviderConfig(*connection);
  config.retry.policy = DefaultRetryPolicy(*context.settings());
  return ai::MakeChatModel(config);
}

Result<PreparedAsk> PrepareAsk(AppContext& context, const http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"question", "strategy_model", "answer_model",
                                                                "final_answer_model", "notebook_id"}));
  PreparedAsk ask;
  ON_ASSIGN_OR_RETURN(ask.question, body.RequiredString("question", kMaxQuestionLength));
  ask.question = TrimWhitespace(ask.question);
  if (ask.question.empty()) return InvalidInput("question cannot be empty");
  ON_ASSIGN_OR_RETURN(auto notebook, body.String("notebook_id", 128));
  if (notebook) {
    ON_ASSIGN_OR_RETURN(ask.notebook_id, NormalizeId("notebook", *notebook, "notebook_id"));
    ON_RETURN_IF_ERROR(context.storage().GetNotebook(*ask.notebook_id).status());
  }

  ON_ASSIGN_OR_RETURN(auto defaults, ai::DefaultModels(context.storage()));
  const std::optional<std::string> default_chat = ai::EffectiveDefaultModel(defaults, "default_chat_model");
  ON_ASSIGN_OR_RETURN(auto strategy_model, body.String("strategy_model", 128));
  ON_ASSIGN_OR_RETURN(auto answer_model, body.String("answer_model", 128));
  ON_ASSIGN_OR_RETURN(auto final_answer_model, body.String("final_answer_model", 128));
  ON_ASSIGN_OR_RETURN(ask.strategy, ResolveChatModel(context, strategy_model, default_chat, "strategy_model"));
  ON_ASSIGN_OR_RETURN(ask.answer, ResolveChatModel(context, answer_model, default_chat, "answer_model"));
  ON_ASSIGN_OR_RETURN(ask.final_answer, ResolveChatModel(context, final_answer_model, default_chat, "final_answer_model"));

  // Keyword search always works; vectors join it once the embedding model has some. A broken
  // embedding set-up degrades the answer's recall but must not stop the ask.
  auto setup = ai::DefaultEmbeddingSetup(context.storage(), context.cipher(), context.env);
  if (!setup.ok()) {
    spdlog::warn("ask: searching by keyword only, because the embedding model cannot be used: {}", setup.status().message());
  } else if (*setup) {
    ON_ASSIGN_OR_RETURN(bool has_vectors, context.vectors().HasVectors(context.storage(), (*setup)->key));
    if (has_vectors) ask.embedding = std::move(**setup);
  }
  return ask;
}

// Finds the passages of one search: hybrid when vectors exist, keyword otherwise.
Result<std::vector<ai::EvidenceItem>> FindPassages(AppContext& context, const PreparedAsk& ask, const ai::AskSearch& search,
                                                   const ai::CancelToken& cancel) {
  search::PassageQuery query;
  query.text = search.term;
  query.limit = kPassagesPerSearch;
  query.notebook_id = ask.notebook_id;
  if (ask.embedding) {
    auto model = ai::MakeEmbeddingModel(ask.embedding->config);
    Result<std::vector<std::vector<float>>> vectors = model.ok() ? ai::EmbedInBatches(**model, {search.term}, {}, cancel)
                                                                  : Result<std::vector<std::vector<float>>>(model.status());
    if (vectors.ok()) {
      query.vector = std::move(vectors->front());
      query.model_key = ask.embedding->key;
    } else if (cancel.cancelled()) {
      return vectors.status();
    } else {
      spdlog::warn("ask: searching \"{}\" by keyword only, because embedding the term failed: {}", search.term,
                   vectors.status().message());
    }
  }
  ON_ASSIGN_OR_RETURN(auto passages, search::SearchPassages(context.storage(), context.vectors(), query));

  std::vector<ai::EvidenceItem> items;
  for (auto& passage : passages) {
    ai::EvidenceItem item;
    if (passage.type == "chunk") {
      item.id = ai::ChunkCitationId(passage.item_id, *passage.chunk_index);
      item.kind = ai::EvidenceKind::kChunk;
      item.source_id = passage.item_id;
      item.chunk_index = passage.chunk_index;
    } else {
      item.id = passage.item_id;
      item.kind = ai::EvidenceKind::kNote;
    }
    item.title = std::move(passage.title);
    item.text = std::move(passage.text);
    items.push_back(std::move(item));
  }
  return items;
}

nlohmann::json CitationsJson(const std::vector<ai::Citation>& citations) {
  nlohmann::json list = nlohmann::json::array();
  for (const ai::Citation& citation : citations) {
    list.push_back({{"id", citation.id},
                    {"kind", ai::EvidenceKindName(citation.kind)},
                    {"source_id", citation.source_id.empty() ? nlohmann::json() : nlohmann::json(citation.source_id)},
                    {"chunk_index", citation.chunk_index ? nlohmann::json(*citation.chunk_index) : nlohmann::json()},
                    {"title", citation.title}});
  }
  return list;
}

// The passages shown to the models, without their text (the UI loads a passage when it is opened).
nlohmann::json EvidenceJson(const ai::Evidence& evidence) {
  nlohmann::json list = nlohmann::json::array();
  for (const ai::EvidenceItem& item : evidence.items()) {
    list.push_back({{"id", item.id},
                    {"kind", ai::EvidenceKindName(item.kind)},
                    {"source_id", item.source_id.empty() ? nlohmann::json() : nlohmann::json(item.source_id)},
                    {"chunk_index", item.chunk_index ? nlohmann::json(*item.chunk_index) : nlohmann::json()},
                    {"title", item.title}});
  }
  return list;
}

nlohmann::json StrategyJson(const ai::AskStrategy& strategy) {
  nlohmann::json searches = nlohmann::json::array();
  for (const auto& search : strategy.searches) {
    searches.push_back({{"term", search.term}, {"instructions", search.instructions}});
  }
  return {{"reasoning", strategy.reasoning}, {"searches", std::move(searches)}};
}

nlohmann::json AnswerJson(const ai::AskSubAnswer& answer) {
  return {{"content", answer.content},
          {"term", answer.search.term},
          {"instructions", answer.search.instructions},
          {"passage_count", answer.passage_count},
          {"citations", CitationsJson(answer.citations)}};
}

// The fields the UI needs to show the answer and to save it as a note (POST /api/notes with
// note_type "ai", the question as the title and the notebook).
nlohmann::json ResultJson(const PreparedAsk& ask, const ai::AskResult& result) {
  return {{"question", ask.question},
          {"notebook_id", ask.notebook_id ? nlohmann::json(*ask.notebook_id) : nlohmann::json()},
          {"final_answer", result.final_answer},
          {"citations", CitationsJson(result.citations)},
          {"rejected_citations", result.rejected_citations},
          {"evidence", EvidenceJson(result.evidence)},
          {"found_nothing", result.found_nothing},
          {"search_type", ask.embedding ? "hybrid" : "text"}};
}

Result<ai::AskResult> Run(AppContext& context, const PreparedAsk& ask, const ai::AskCallbacks& callbacks,
                          const ai::CancelToken& cancel) {
  ai::AskModels models{ask.strategy.get(), ask.answer.get(), ask.final_answer.get()};
  auto find = [&context, &ask](const ai::AskSearch& search, const ai::CancelToken& token) {
    return FindPassages(context, ask, search, token);
  };
  return ai::RunAsk(ask.question, models, find, callbacks, cancel);
}

Result<http::Response> AskStream(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(PreparedAsk prepared, PrepareAsk(context, request));
  auto ask = std::make_shared<PreparedAsk>(std::move(prepared));
  return http::EventStreamResponse([&context, ask](http::EventStream& events) {
    ai::CancelToken cancel;
    events.OnClose([cancel] { cancel.Cancel(); });
    auto send = [&events](const std::string& type, nlohmann::json payload) {
      payload["type"] = type;
      events.SendJson(payload);
    };

    ai::AskCallbacks callbacks;
    callbacks.on_strategy = [&](const ai::AskStrategy& strategy) { send("strategy", StrategyJson(strategy)); };
    callbacks.on_answer = [&](const ai::AskSubAnswer& answer) { send("answer", AnswerJson(answer)); };
    callbacks.on_final_answer = [&](const std::string& answer) { send("final_answer", {{"content", answer}}); };
    Result<ai::AskResult> result = Run(context, *ask, callbacks, cancel);
    if (result.ok()) {
      send("complete", ResultJson(*ask, *result));
      return;
    }
    if (cancel.cancelled()) {
      spdlog::info("ask cancelled because the client closed the connection: {}", result.status().message());
      return;
    }
    spdlog::warn("ask failed: {}", result.status().message());
    send("error", {{"message", result.status().message()}});
  });
}

// NOTE: a plain response has no way to notice a client that left, so the simple variant runs to
// the end even then. Clients that may give up should use the event stream.
Result<http::Response> AskSimple(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(PreparedAsk ask, PrepareAsk(context, request));
  ON_ASSIGN_OR_RETURN(ai::AskResult result, Run(context, ask, {}, ai::CancelToken()));
  nlohmann::json body = ResultJson(ask, result);
  body["answer"] = result.final_answer;
  body["strategy"] = StrategyJson(result.strategy);
  nlohmann::json answers = nlohmann::json::array();
  for (const auto& answer : result.answers) answers.push_back(AnswerJson(answer));
  body["answers"] = std::move(answers);
  return http::JsonResponse(body);
}

}  // namespace

void RegisterAskRoutes(http::Router& router, AppContext& context) {
  router.Add("POST", "/api/search/ask", Bind(context, AskStream));
  router.Add("POST", "/api/search/ask/simple", Bind(context, AskSimple));
}

}  // namespace on::api
