// POST /api/search: keyword, vector and hybrid search over sources and notes, by item or by passage.
#include <algorithm>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "api/app_context.h"
#include "api/json_body.h"
#include "core/ids.h"
#include "http/json_writer.h"
#include "ai/citations.h"
#include "ai/embedding_service.h"
#include "search/hybrid.h"
#include "search/passage_search.h"
#include "core/parallel.h"
#include "search/snippet.h"
#include "search/tokenizer.h"

namespace on::api {
namespace {

constexpr size_t kMaxQueryLength = 4096;
constexpr size_t kMaxMatchesPerResult = 3;
// A snippet takes a few microseconds: blocks of 16 are worth handing to another thread.
constexpr size_t kMinSnippetBlock = 16;

// Escapes text for HTML and turns the match markers of a snippet or highlight into <mark> tags,
// so a client can insert the snippet as HTML without risk. Tags always pair up, even when the
// text itself contains marker bytes.
std::string SnippetHtml(std::string_view snippet) {
  std::string html;
  html.reserve(snippet.size() + 32);
  bool open = false;
  for (char c : snippet) {
    switch (c) {
      case search::kMatchBegin:
        if (!open) html += "<mark>";
        open = true;
        break;
      case search::kMatchEnd:
        if (open) html += "</mark>";
        open = false;
        break;
      case '&': html += "&amp;"; break;
      case '<': html += "&lt;"; break;
      case '>': html += "&gt;"; break;
      case '"': html += "&quot;"; break;
      case '\'': html += "&#39;"; break;
      default: html += c;
    }
  }
  if (open) html += "</mark>";
  return html;
}

// BM25 values depend on the collection (in a notebook of three sources every value is tiny), and
// chunks, titles and notes are separate indexes whose values are not comparable. So relevance is
// relative to the best hit of the same index: each index's best hit scores 1, and minimum_score
// 0.2 keeps hits scoring at least a fifth of their index's best.
double RelativeScore(double bm25, double best) { return best <= 0 ? 0 : std::max(0.0, bm25) / best; }

// A parsed POST /api/search request.
struct SearchRequest {
  std::string query;
  std::string type;
  int64_t limit = 100;
  double minimum_score = 0.2;
  bool search_sources = true;
  bool search_notes = true;
  std::optional<std::string> notebook_id;
  bool passages = false;  // granularity "passage": one result per chunk or note
  std::vector<storage::SearchTerm> terms;
  std::vector<std::string> query_terms;  // the terms alone, for snippets
};

const search::Tokenizer& QueryTokenizer() {
  static const search::Tokenizer tokenizer;
  return tokenizer;
}

// Keyword results, best first: one per source or note, each with up to kMaxMatchesPerResult
// matches. Only the best match of a result carries a snippet (the result's own), so a page of
// 100 results loads and scans 100 texts, not 300.
struct TextResult {
  double relevance = 0;
  std::vector<std::pair<double, const storage::TextSearchHit*>> matches;  // best first
  std::string snippet;  // HTML, of the best match
};

struct TextResultPage {
  std::vector<storage::TextSearchHit> hits;  // what the results point into
  std::vector<TextResult> results;
};

Result<TextResultPage> RankTextResults(AppContext& context, const SearchRequest& search) {
  storage::TextSearchQuery text_query;
  text_query.terms = search.terms;
  // Several hits of one source fold into one result, so ask the index for more rows than results.
  text_query.limit = static_cast<int>(std::min<int64_t>(search.limit * 4, 4000));
  text_query.search_sources = search.search_sources;
  text_query.search_notes = search.search_notes;
  text_query.notebook_id = search.notebook_id;
  TextResultPage page;
  ON_ASSIGN_OR_RETURN(page.hits, context.storage().SearchText(text_query));

  std::map<std::string, double> best_by_index;
  for (const auto& hit : page.hits) {
    double& best = best_by_index[hit.match_field];
    best = std::max(best, hit.score);
  }
  std::vector<std::pair<double, const storage::TextSearchHit*>> ranked;
  for (const auto& hit : page.hits) ranked.emplace_back(RelativeScore(hit.score, best_by_index[hit.match_field]), &hit);
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });

  std::map<std::string_view, size_t> position;  // index in `results` by item id
  for (const auto& [score, hit] : ranked) {
    if (score < search.minimum_score) continue;
    auto found = position.find(hit->id);
    if (found != position.end()) {
      auto& matches = page.results[found->second].matches;
      if (matches.size() < kMaxMatchesPerResult) matches.emplace_back(score, hit);
      continue;
    }
    if (page.results.size() >= static_cast<size_t>(search.limit)) continue;
    position[hit->id] = page.results.size();
    page.results.push_back(TextResult{score, {{score, hit}}, {}});
  }

  std::vector<const storage::TextSearchHit*> snippet_hits;
  std::vector<TextResult*> snippet_results;
  for (TextResult& result : page.results) {
    const storage::TextSearchHit* best = result.matches.front().second;
    if (best->match_field == "title") {
      result.snippet = SnippetHtml(best->snippet);
    } else {
      snippet_hits.push_back(best);
      snippet_results.push_back(&result);
    }
  }
  // Each block reads its own texts (on a reader connection of its own) and builds their snippets
  // with a builder of its own: a builder's memo of word terms is not shared between threads.
  std::mutex failure_mutex;
  Status failure = Status::Ok();
  ParallelBlocks(snippet_hits.size(), kMinSnippetBlock, [&](size_t begin, size_t end) {
    const std::vector<const storage::TextSearchHit*> block(snippet_hits.begin() + static_cast<std::ptrdiff_t>(begin),
                                                           snippet_hits.begin() + static_cast<std::ptrdiff_t>(end));
    auto texts = context.storage().LoadSearchTexts(block);
    if (!texts.ok()) {
      std::lock_guard lock(failure_mutex);
      if (failure.ok()) failure = texts.status();
      return;
    }
    search::SnippetBuilder snippet_builder(search.query_terms, QueryTokenizer());
    for (size_t i = begin; i < end; ++i) {
      snippet_results[i]->snippet = SnippetHtml(snippet_builder.Build((*texts)[i - begin]));
    }
  });
  ON_RETURN_IF_ERROR(failure);
  return page;
}

// The results as JSON values, for merging with vector results.
nlohmann::json TextResultsJson(const TextResultPage& page) {
  nlohmann::json results = nlohmann::json::array();
  for (const TextResult& result : page.results) {
    nlohmann::json matches = nlohmann::json::array();
    for (const auto& [score, hit] : result.matches) {
      nlohmann::json match = {{"field", hit->match_field}, {"score", score}};
      if (matches.empty()) match["snippet"] = result.snippet;
      if (hit->chunk_index) match["chunk_index"] = *hit->chunk_index;
      if (hit->page) match["page"] = *hit->page;
      matches.push_back(std::move(match));
    }
    const storage::TextSearchHit& best = *result.matches.front().second;
    results.push_back({{"id", best.id},
                       {"parent_id", best.parent_id},
                       {"title", best.title},
                       {"type", best.type},
                       {"relevance", result.relevance},
                       {"snippet", result.snippet},
                       {"matches", std::move(matches)}});
  }
  return results;
}

// The response body of a keyword search, written directly: the same document TextResultsJson
// gives inside {"results": ..., "total_count": ..., "search_type": "text"}, at a fraction of the
// cost of building the tree (a page is 100 results and about 60 KB).
std::string TextResultsBody(const TextResultPage& page) {
  std::string out;
  out.reserve(256 + page.results.size() * 640);
  out.append("{\"results\":[");
  for (size_t i = 0; i < page.results.size(); ++i) {
    const TextResult& result = page.results[i];
    const storage::TextSearchHit& best = *result.matches.front().second;
    if (i > 0) out.push_back(',');
    out.append("{\"id\":");
    http::AppendJsonString(out, best.id);
    out.append(",\"parent_id\":");
    http::AppendJsonString(out, best.parent_id);
    out.append(",\"title\":");
    http::AppendJsonString(out, best.title);
    out.append(",\"type\":");
    http::AppendJsonString(out, best.type);
    out.append(",\"relevance\":");
    http::AppendJsonNumber(out, result.relevance);
    out.append(",\"snippet\":");
    http::AppendJsonString(out, result.snippet);
    out.append(",\"matches\":[");
    for (size_t j = 0; j < result.matches.size(); ++j) {
      const auto& [score, hit] = result.matches[j];
      if (j > 0) out.push_back(',');
      out.append("{\"field\":");
      http::AppendJsonString(out, hit->match_field);
      out.append(",\"score\":");
      http::AppendJsonNumber(out, score);
      if (j == 0) {
        out.append(",\"snippet\":");
        http::AppendJsonString(out, result.snippet);
      }
      if (hit->chunk_index) {
        out.append(",\"chunk_index\":");
        http::AppendJsonNumber(out, *hit->chunk_index);
      }
      if (hit->page) {
        out.append(",\"page\":");
        http::AppendJsonNumber(out, static_cast<int64_t>(*hit->page));
      }
      out.push_back('}');
    }
    out.append("]}");
  }
  out.append("],\"total_count\":");
  http::AppendJsonNumber(out, static_cast<int64_t>(page.results.size()));
  out.append(",\"search_type\":\"text\"}");
  return out;
}

// Vector results, best first, in the shape of keyword results with `similarity` added.
Result<nlohmann::json> VectorResults(AppContext& context, const SearchRequest& search, const ai::EmbeddingSetup& setup) {
  ON_ASSIGN_OR_RETURN(auto model, ai::MakeEmbeddingModel(setup.config));
  ON_ASSIGN_OR_RETURN(auto vectors, ai::EmbedInBatches(*model, {search.query}));
  // Several chunks of one source fold into one result, as for keyword search.
  const size_t k = static_cast<size_t>(std::min<int64_t>(search.limit * 4, 4000));
  ON_ASSIGN_OR_RETURN(auto hits, context.vectors().Search(context.storage(), setup.key, vectors.front(), k,
                                                          static_cast<float>(search.minimum_score), search.notebook_id));

  search::SnippetBuilder snippet_builder(search.query_terms, QueryTokenizer());
  nlohmann::json results = nlohmann::json::array();
  std::map<std::string, size_t> position;
  for (const auto& hit : hits) {
    const storage::EmbeddingTarget& target = hit.target;
    // Insights belong to their source, so search_sources covers them as in the original API.
    const bool from_source = target.type == "source" || target.type == "insight";
    if ((from_source && !search.search_sources) || (target.type == "note" && !search.search_notes)) continue;
    nlohmann::json match = {{"field", target.type == "source" ? "chunk" : "content"}, {"score", hit.similarity}};
    if (target.chunk_index) match["chunk_index"] = *target.chunk_index;
    if (target.page) match["page"] = *target.page;
    auto found = position.find(target.item_id);
    if (found != position.end()) {
      auto& matches = results[found->second]["matches"];
      if (matches.size() < kMaxMatchesPerResult) matches.push_back(std::move(match));
      continue;
    }
    if (results.size() >= static_cast<size_t>(search.limit)) continue;
    // As for keyword results, only the best match of a result carries a snippet.
    match["snippet"] = SnippetHtml(snippet_builder.Build(target.content));
    position[target.item_id] = results.size();
    results.push_back({{"id", target.item_id},
                       {"parent_id", target.parent_id},
                       {"title", target.title},
                       {"type", target.type},
                       {"similarity", hit.similarity},
                       {"relevance", hit.similarity},
                       {"snippet", match["snippet"]},
                       {"matches", nlohmann::json::array({match})}});
  }
  return results;
}

// Keyword and vector results fused by reciprocal rank, best first. Each result keeps its ranks
// in both lists; `relevance` is the fused score scaled so the best result has 1.
Result<nlohmann::json> HybridResults(AppContext& context, const SearchRequest& search, const ai::EmbeddingSetup& setup) {
  ON_ASSIGN_OR_RETURN(TextResultPage keyword_page, RankTextResults(context, search));
  nlohmann::json keyword = TextResultsJson(keyword_page);
  ON_ASSIGN_OR_RETURN(nlohmann::json vector, VectorResults(context, search, setup));
  std::vector<search::RankedHit> keyword_ranking;
  std::vector<search::RankedHit> vector_ranking;
  std::map<std::string, nlohmann::json*> by_id;
  for (auto& result : keyword) {
    keyword_ranking.push_back({result["id"].get<std::string>(), result["relevance"].get<double>()});
    by_id.emplace(result["id"].get<std::string>(), &result);
  }
  for (auto& result : vector) {
    vector_ranking.push_back({result["id"].get<std::string>(), result["similarity"].get<double>()});
    by_id.emplace(result["id"].get<std::string>(), &result);  // keeps the keyword entry when both exist
  }
  search::FusionOptions options;
  options.limit = static_cast<size_t>(search.limit);
  ON_ASSIGN_OR_RETURN(auto fused, search::FuseReciprocalRank(keyword_ranking, vector_ranking, options));

  nlohmann::json results = nlohmann::json::array();
  const double best = fused.empty() ? 1 : fused.front().fused_score;
  for (const auto& hit : fused) {
    nlohmann::json result = *by_id.at(hit.key);
    result["relevance"] = best > 0 ? hit.fused_score / best : 0;
    result["keyword_rank"] = hit.keyword_rank ? nlohmann::json(*hit.keyword_rank) : nlohmann::json();
    result["vector_rank"] = hit.vector_rank ? nlohmann::json(*hit.vector_rank) : nlohmann::json();
    if (hit.vector_score) result["similarity"] = *hit.vector_score;
    results.push_back(std::move(result));
  }
  return results;
}

// One result per passage (a chunk of a source, or a note), best first, for type text, vector or
// hybrid. A chunk's id is its citation id ("chunk:<source key>_<index>"), the form ask cites.
Result<nlohmann::json> PassageResults(AppContext& context, const SearchRequest& search,
                                      const std::optional<ai::EmbeddingSetup>& setup) {
  search::PassageQuery query;
  query.text = search.query;
  query.use_keyword = search.type != "vector";
  query.limit = static_cast<size_t>(search.limit);
  query.minimum_score = search.minimum_score;
  query.search_sources = search.search_sources;
  query.search_notes = search.search_notes;
  query.notebook_id = search.notebook_id;
  if (search.type != "text") {
    ON_ASSIGN_OR_RETURN(auto model, ai::MakeEmbeddingModel(setup->config));
    ON_ASSIGN_OR_RETURN(auto vectors, ai::EmbedInBatches(*model, {search.query}));
    query.vector = std::move(vectors.front());
    query.model_key = setup->key;
  }
  ON_ASSIGN_OR_RETURN(auto passages, search::SearchPassages(context.storage(), context.vectors(), query));

  search::SnippetBuilder snippet_builder(search.query_terms, QueryTokenizer());
  nlohmann::json results = nlohmann::json::array();
  for (const search::Passage& passage : passages) {
    const bool chunk = passage.type == "chunk";
    nlohmann::json result = {{"id", chunk ? ai::ChunkCitationId(passage.item_id, *passage.chunk_index) : passage.item_id},
                             {"item_id", passage.item_id},
                             {"parent_id", passage.parent_id},
                             {"title", passage.title},
                             {"type", passage.type},
                             {"relevance", passage.relevance},
                             {"snippet", SnippetHtml(snippet_builder.Build(passage.text))}};
    if (passage.chunk_index) result["chunk_index"] = *passage.chunk_index;
    if (passage.page) result["page"] = *passage.page;
    if (passage.similarity) result["similarity"] = *passage.similarity;
    if (search.type == "hybrid") {
      result["keyword_rank"] = passage.keyword_rank ? nlohmann::json(*passage.keyword_rank) : nlohmann::json();
      result["vector_rank"] = passage.vector_rank ? nlohmann::json(*passage.vector_rank) : nlohmann::json();
    }
    results.push_back(std::move(result));
  }
  return results;
}

Result<http::Response> Search(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"query", "type", "limit", "search_sources", "search_notes",
                                                                "minimum_score", "notebook_id", "granularity"}));
  SearchRequest search;
  ON_ASSIGN_OR_RETURN(search.query, body.RequiredString("query", kMaxQueryLength));
  ON_ASSIGN_OR_RETURN(auto type, body.String("type", 16));
  ON_ASSIGN_OR_RETURN(auto search_sources, body.Bool("search_sources"));
  ON_ASSIGN_OR_RETURN(auto search_notes, body.Bool("search_notes"));
  ON_ASSIGN_OR_RETURN(auto notebook, body.String("notebook_id", 128));
  ON_ASSIGN_OR_RETURN(auto granularity, body.String("granularity", 16));
  if (granularity && *granularity != "item" && *granularity != "passage") {
    return InvalidInput("granularity '" + granularity->substr(0, 16) + "' is invalid: use item or passage");
  }
  search.passages = granularity == "passage";
  search.search_sources = search_sources.value_or(true);
  search.search_notes = search_notes.value_or(true);

  if (body.Has("limit") && !body.IsNull("limit")) {
    const auto& value = body.object()["limit"];
    if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<int64_t>() > 1000) {
      return ValidationError("field 'limit' must be an integer from 1 to 1000");
    }
    search.limit = value.get<int64_t>();
  }
  if (body.Has("minimum_score") && !body.IsNull("minimum_score")) {
    const auto& value = body.object()["minimum_score"];
    if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > 1) {
      return ValidationError("field 'minimum_score' must be a number from 0 to 1");
    }
    search.minimum_score = value.get<double>();
  }
  if (type && *type != "text" && *type != "vector" && *type != "hybrid") {
    return InvalidInput("type '" + type->substr(0, 16) + "' is invalid: use text, vector or hybrid");
  }
  if (TrimWhitespace(search.query).empty()) return InvalidInput("query cannot be empty");
  if (notebook) {
    ON_ASSIGN_OR_RETURN(search.notebook_id, NormalizeId("notebook", *notebook, "notebook_id"));
  }
  for (auto& term : search::ExtractQueryTerms(search.query, QueryTokenizer())) {
    search.query_terms.push_back(term.term);
    search.terms.push_back({std::move(term.term), std::move(term.surface)});
  }

  // An explicit keyword search needs no embedding model, so it skips resolving one (a database
  // read and a key decryption per request).
  std::optional<ai::EmbeddingSetup> setup;
  if (type != "text") {
    ON_ASSIGN_OR_RETURN(setup, ai::DefaultEmbeddingSetup(context.storage(), context.cipher(), context.env));
  }
  // Hybrid is the default once vectors of the embedding model exist; before that, keyword.
  if (type) {
    search.type = *type;
  } else {
    search.type = "text";
    if (setup) {
      ON_ASSIGN_OR_RETURN(bool has_vectors, context.vectors().HasVectors(context.storage(), setup->key));
      if (has_vectors) search.type = "hybrid";
    }
  }
  if (search.type != "text" && !setup) {
    return Status(ErrorCode::kConfiguration,
                  search.type + " search needs an embedding model, and none is configured: choose one with "
                                "PUT /api/models/defaults (default_embedding_model), or use type \"text\"");
  }

  nlohmann::json results;
  if (search.passages) {
    ON_ASSIGN_OR_RETURN(results, PassageResults(context, search, setup));
  } else if (search.type == "text") {
    ON_ASSIGN_OR_RETURN(TextResultPage page, RankTextResults(context, search));
    http::Response response;
    response.body = TextResultsBody(page);
    return response;
  } else if (search.type == "vector") {
    ON_ASSIGN_OR_RETURN(results, VectorResults(context, search, *setup));
  } else {
    ON_ASSIGN_OR_RETURN(results, HybridResults(context, search, *setup));
  }
  const size_t count = results.size();
  return http::JsonResponse({{"results", std::move(results)}, {"total_count", count}, {"search_type", search.type}});
}

}  // namespace

void RegisterSearchRoutes(http::Router& router, AppContext& context) {
  router.Add("POST", "/api/search", [&context](http::Request& request) { return Search(context, request); });
}

}  // namespace on::api
