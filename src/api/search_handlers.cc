// POST /api/search: keyword search over sources and notes.
#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "api/app_context.h"
#include "api/json_body.h"
#include "core/ids.h"
#include "search/snippet.h"
#include "search/tokenizer.h"

namespace on::api {
namespace {

constexpr size_t kMaxQueryLength = 4096;
constexpr size_t kMaxMatchesPerResult = 3;

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

Result<http::Response> Search(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"query", "type", "limit", "search_sources", "search_notes",
                                                                "minimum_score", "notebook_id"}));
  ON_ASSIGN_OR_RETURN(std::string query, body.RequiredString("query", kMaxQueryLength));
  ON_ASSIGN_OR_RETURN(auto type, body.String("type", 16));
  ON_ASSIGN_OR_RETURN(auto search_sources, body.Bool("search_sources"));
  ON_ASSIGN_OR_RETURN(auto search_notes, body.Bool("search_notes"));
  ON_ASSIGN_OR_RETURN(auto notebook, body.String("notebook_id", 128));

  int64_t limit = 100;
  if (body.Has("limit") && !body.IsNull("limit")) {
    const auto& value = body.object()["limit"];
    if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<int64_t>() > 1000) {
      return ValidationError("field 'limit' must be an integer from 1 to 1000");
    }
    limit = value.get<int64_t>();
  }
  double minimum_score = 0.2;
  if (body.Has("minimum_score") && !body.IsNull("minimum_score")) {
    const auto& value = body.object()["minimum_score"];
    if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > 1) {
      return ValidationError("field 'minimum_score' must be a number from 0 to 1");
    }
    minimum_score = value.get<double>();
  }

  const std::string search_type = type.value_or("text");
  if (search_type == "vector" || search_type == "hybrid") {
    return Status(ErrorCode::kConfiguration,
                  "vector search needs an embedding model, and none is configured; use type \"text\" for keyword search");
  }
  if (search_type != "text") return InvalidInput("type '" + search_type.substr(0, 16) + "' is invalid: use text");
  if (TrimWhitespace(query).empty()) return InvalidInput("query cannot be empty");

  storage::TextSearchQuery text_query;
  static const search::Tokenizer tokenizer;
  std::vector<std::string> query_terms;
  for (auto& term : search::ExtractQueryTerms(query, tokenizer)) {
    query_terms.push_back(term.term);
    text_query.terms.push_back({std::move(term.term), std::move(term.surface)});
  }
  // Several hits of one source fold into one result, so ask the index for more rows than results.
  text_query.limit = static_cast<int>(std::min<int64_t>(limit * 4, 4000));
  text_query.search_sources = search_sources.value_or(true);
  text_query.search_notes = search_notes.value_or(true);
  if (notebook) {
    ON_ASSIGN_OR_RETURN(text_query.notebook_id, NormalizeId("notebook", *notebook, "notebook_id"));
  }
  ON_ASSIGN_OR_RETURN(auto hits, context.storage().SearchText(text_query));

  std::map<std::string, double> best_by_index;
  for (const auto& hit : hits) {
    double& best = best_by_index[hit.match_field];
    best = std::max(best, hit.score);
  }
  std::vector<std::pair<double, const storage::TextSearchHit*>> ranked;
  for (const auto& hit : hits) ranked.emplace_back(RelativeScore(hit.score, best_by_index[hit.match_field]), &hit);
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });

  // Results in rank order, each with the hits it shows; only those hits get a snippet.
  struct ResultEntry {
    double relevance;
    std::vector<std::pair<double, const storage::TextSearchHit*>> matches;
  };
  std::vector<ResultEntry> entries;
  std::map<std::string, size_t> position;  // index in `entries` by item id
  for (const auto& [score, hit] : ranked) {
    if (score < minimum_score) continue;
    auto found = position.find(hit->id);
    if (found != position.end()) {
      auto& matches = entries[found->second].matches;
      if (matches.size() < kMaxMatchesPerResult) matches.emplace_back(score, hit);
      continue;
    }
    if (entries.size() >= static_cast<size_t>(limit)) continue;
    position[hit->id] = entries.size();
    entries.push_back(ResultEntry{score, {{score, hit}}});
  }

  std::vector<const storage::TextSearchHit*> snippet_hits;
  for (const ResultEntry& result : entries) {
    for (const auto& [score, hit] : result.matches) {
      if (hit->match_field != "title") snippet_hits.push_back(hit);
    }
  }
  ON_ASSIGN_OR_RETURN(auto texts, context.storage().LoadSearchTexts(snippet_hits));
  std::map<const storage::TextSearchHit*, std::string> snippets;
  search::SnippetBuilder snippet_builder(std::move(query_terms), tokenizer);
  for (size_t i = 0; i < snippet_hits.size(); ++i) {
    snippets[snippet_hits[i]] = SnippetHtml(snippet_builder.Build(texts[i]));
  }

  nlohmann::json results = nlohmann::json::array();
  for (const ResultEntry& result : entries) {
    nlohmann::json matches = nlohmann::json::array();
    for (const auto& [score, hit] : result.matches) {
      const auto snippet = snippets.find(hit);
      nlohmann::json match = {{"snippet", snippet != snippets.end() ? snippet->second : SnippetHtml(hit->snippet)},
                              {"field", hit->match_field},
                              {"score", score}};
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
                       {"snippet", matches.front()["snippet"]},
                       {"matches", std::move(matches)}});
  }
  return http::JsonResponse({{"results", results}, {"total_count", results.size()}, {"search_type", "text"}});
}

}  // namespace

void RegisterSearchRoutes(http::Router& router, AppContext& context) {
  router.Add("POST", "/api/search", [&context](http::Request& request) { return Search(context, request); });
}

}  // namespace on::api
