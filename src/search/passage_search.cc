#include "search/passage_search.h"

#include <algorithm>
#include <map>

#include "search/hybrid.h"
#include "search/tokenizer.h"

namespace on::search {
namespace {

const Tokenizer& PassageTokenizer() {
  static const Tokenizer tokenizer;
  return tokenizer;
}

// Identifies one passage across the keyword and the vector ranking.
std::string PassageKey(const std::string& item_id, const std::optional<int64_t>& chunk_index) {
  return chunk_index ? item_id + "#" + std::to_string(*chunk_index) : item_id;
}

// Enough candidates from each ranking that fusion can lift a passage ranked low in one list.
size_t CandidateCount(size_t limit) { return std::clamp<size_t>(limit * 4, 40, 4000); }

struct KeywordResult {
  std::vector<Passage> passages;  // best first, texts not loaded yet
  std::vector<storage::TextSearchHit> hits;  // parallel to `passages`
};

Result<KeywordResult> KeywordPassages(storage::Storage& storage, const PassageQuery& query) {
  KeywordResult result;
  storage::TextSearchQuery text_query;
  for (auto& term : ExtractQueryTerms(query.text, PassageTokenizer())) {
    text_query.terms.push_back({std::move(term.term), std::move(term.surface)});
  }
  if (text_query.terms.empty()) return result;
  text_query.limit = static_cast<int>(CandidateCount(query.limit));
  text_query.search_sources = query.search_sources;
  text_query.search_notes = query.search_notes;
  text_query.notebook_id = query.notebook_id;
  ON_ASSIGN_OR_RETURN(auto hits, storage.SearchText(text_query));

  // Chunks and notes are separate FTS indexes whose BM25 values do not compare, so each hit is
  // scored against the best hit of its own index, as item search does.
  std::map<std::string, double> best_by_index;
  for (const auto& hit : hits) {
    double& best = best_by_index[hit.match_field];
    best = std::max(best, hit.score);
  }
  std::vector<std::pair<double, size_t>> ranked;
  for (size_t i = 0; i < hits.size(); ++i) {
    if (hits[i].match_field == "title") continue;
    const double best = best_by_index[hits[i].match_field];
    const double relative = best <= 0 ? 0 : std::max(0.0, hits[i].score) / best;
    if (relative < query.minimum_score) continue;
    ranked.emplace_back(relative, i);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [relevance, index] : ranked) {
    const storage::TextSearchHit& hit = hits[index];
    Passage passage;
    passage.type = hit.type == "source" ? "chunk" : "note";
    passage.item_id = hit.id;
    passage.parent_id = hit.parent_id;
    passage.title = hit.title;
    passage.chunk_index = hit.chunk_index;
    passage.page = hit.page;
    passage.relevance = relevance;
    passage.keyword_rank = result.passages.size() + 1;
    result.passages.push_back(std::move(passage));
    result.hits.push_back(hit);
  }
  return result;
}

Result<std::vector<Passage>> VectorPassages(storage::Storage& storage, VectorSearcher& vectors,
                                            const PassageQuery& query) {
  std::vector<Passage> passages;
  ON_ASSIGN_OR_RETURN(auto hits, vectors.Search(storage, query.model_key, *query.vector, CandidateCount(query.limit),
                                                static_cast<float>(query.minimum_score), query.notebook_id));
  for (auto& hit : hits) {
    storage::EmbeddingTarget& target = hit.target;
    if ((target.type == "source" && !query.search_sources) || (target.type == "note" && !query.search_notes)) continue;
    Passage passage;
    passage.type = target.type == "source" ? "chunk" : "note";
    passage.item_id = std::move(target.item_id);
    passage.parent_id = std::move(target.parent_id);
    passage.title = std::move(target.title);
    passage.chunk_index = target.chunk_index;
    passage.page = target.page;
    passage.text = std::move(target.content);
    passage.relevance = hit.similarity;
    passage.similarity = hit.similarity;
    passage.vector_rank = passages.size() + 1;
    passages.push_back(std::move(passage));
  }
  return passages;
}

// Loads the texts of keyword passages that have none yet; passages whose record was deleted
// since the search are dropped.
Status LoadTexts(storage::Storage& storage, std::vector<Passage>& passages,
                 const std::map<std::string, const storage::TextSearchHit*>& hit_by_key) {
  std::vector<const storage::TextSearchHit*> missing;
  std::vector<size_t> positions;
  for (size_t i = 0; i < passages.size(); ++i) {
    if (!passages[i].text.empty()) continue;
    auto found = hit_by_key.find(PassageKey(passages[i].item_id, passages[i].chunk_index));
    if (found == hit_by_key.end()) continue;
    missing.push_back(found->second);
    positions.push_back(i);
  }
  if (!missing.empty()) {
    ON_ASSIGN_OR_RETURN(auto texts, storage.LoadSearchTexts(missing));
    for (size_t i = 0; i < positions.size(); ++i) passages[positions[i]].text = std::move(texts[i]);
  }
  std::erase_if(passages, [](const Passage& passage) { return passage.text.empty(); });
  return Status::Ok();
}

}  // namespace

Result<std::vector<Passage>> SearchPassages(storage::Storage& storage, VectorSearcher& vectors,
                                            const PassageQuery& query) {
  KeywordResult keyword;
  if (query.use_keyword) {
    ON_ASSIGN_OR_RETURN(keyword, KeywordPassages(storage, query));
  }
  std::vector<Passage> vector;
  if (query.vector) {
    ON_ASSIGN_OR_RETURN(vector, VectorPassages(storage, vectors, query));
  }
  std::map<std::string, const storage::TextSearchHit*> hit_by_key;
  for (size_t i = 0; i < keyword.passages.size(); ++i) {
    hit_by_key.emplace(PassageKey(keyword.passages[i].item_id, keyword.passages[i].chunk_index), &keyword.hits[i]);
  }

  std::vector<Passage> result;
  if (!query.vector) {
    result = std::move(keyword.passages);
    if (result.size() > query.limit) result.resize(query.limit);
  } else if (!query.use_keyword) {
    result = std::move(vector);
    if (result.size() > query.limit) result.resize(query.limit);
  } else {
    std::vector<RankedHit> keyword_ranking;
    std::vector<RankedHit> vector_ranking;
    std::map<std::string, Passage*> by_key;
    for (Passage& passage : keyword.passages) {
      const std::string key = PassageKey(passage.item_id, passage.chunk_index);
      keyword_ranking.push_back({key, passage.relevance});
      by_key.emplace(key, &passage);
    }
    for (Passage& passage : vector) {
      const std::string key = PassageKey(passage.item_id, passage.chunk_index);
      vector_ranking.push_back({key, passage.relevance});
      // The vector entry carries the text, so it wins when both lists hold the passage.
      by_key[key] = &passage;
    }
    FusionOptions options;
    options.limit = query.limit;
    ON_ASSIGN_OR_RETURN(auto fused, FuseReciprocalRank(keyword_ranking, vector_ranking, options));
    const double best = fused.empty() ? 1 : fused.front().fused_score;
    for (const FusedHit& hit : fused) {
      Passage passage = std::move(*by_key.at(hit.key));
      passage.relevance = best > 0 ? hit.fused_score / best : 0;
      passage.keyword_rank = hit.keyword_rank;
      passage.vector_rank = hit.vector_rank;
      if (hit.vector_score) passage.similarity = *hit.vector_score;
      result.push_back(std::move(passage));
    }
  }
  ON_RETURN_IF_ERROR(LoadTexts(storage, result, hit_by_key));
  return result;
}

}  // namespace on::search
