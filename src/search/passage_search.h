// Search for passages: single chunks of sources and whole notes, the units a model reads as
// evidence. Item search (POST /api/search) folds the chunks of a source into one result. Ask and
// the passage granularity of /api/search need the chunks themselves, ranked across sources.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "search/vector_search.h"
#include "storage/storage.h"

namespace on::search {

struct Passage {
  std::string type;       // "chunk" or "note"
  std::string item_id;    // the source id for chunks, the note id for notes
  std::string parent_id;  // the source id for chunks, the notebook id (or "") for notes
  std::string title;
  std::optional<int64_t> chunk_index;
  std::optional<int> page;
  std::string text;
  // Keyword: BM25 relative to the best hit of its index. Vector: cosine similarity. Hybrid: the
  // fused score scaled so the best passage has 1.
  double relevance = 0;
  std::optional<size_t> keyword_rank;  // 1-based, when found by keyword search
  std::optional<size_t> vector_rank;   // 1-based, when found by vector search
  std::optional<double> similarity;
};

struct PassageQuery {
  std::string text;  // the query as the user or the model wrote it
  bool use_keyword = true;
  // When set, vectors of `model_key` are searched with this query vector, and the two rankings
  // are fused by reciprocal rank when use_keyword is also true.
  std::optional<std::vector<float>> vector;
  std::string model_key;
  size_t limit = 10;
  // Keyword hits below this share of their index's best BM25 and vector hits below this cosine
  // similarity are dropped.
  double minimum_score = 0.2;
  bool search_sources = true;
  bool search_notes = true;
  std::optional<std::string> notebook_id;
};

// The best `query.limit` passages, best first. Title matches are not passages and are left out.
// Returns an empty list for a query without searchable terms and no vector.
Result<std::vector<Passage>> SearchPassages(storage::Storage& storage, VectorSearcher& vectors,
                                            const PassageQuery& query);

}  // namespace on::search
