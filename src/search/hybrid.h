// Reciprocal rank fusion of a keyword ranking and a vector ranking.
//
// Each result scores sum(weight / (k + rank)) over the lists it appears in, with 1-based ranks
// and k = 60 by default, the value commonly used for reciprocal rank fusion. Only ranks count, so
// BM25 scores and cosine similarities need no common scale.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"

namespace on::search {

// One entry of an input ranking; lists are ordered best first.
struct RankedHit {
  std::string key;   // identifies the result across both lists, e.g. "source_chunk:abc"
  double score = 0;  // the list's own score, kept for display
};

struct FusionOptions {
  double k = 60;  // rank offset; larger values flatten the difference between top ranks
  double keyword_weight = 1;
  double vector_weight = 1;
  size_t limit = 0;  // maximum results returned; 0 returns every fused result
};

struct FusedHit {
  std::string key;
  double fused_score = 0;
  std::optional<size_t> keyword_rank;  // 1-based rank in the keyword list, if present there
  std::optional<double> keyword_score;
  std::optional<size_t> vector_rank;  // 1-based rank in the vector list, if present there
  std::optional<double> vector_score;

  bool in_keyword() const { return keyword_rank.has_value(); }
  bool in_vector() const { return vector_rank.has_value(); }
};

// Fuses the two rankings, best first. A key repeated within one list counts at its best rank.
// Ties on fused score are broken, in order, by appearing in both lists, by the better of the two
// ranks, by the keyword rank, and by key, so equal input always gives the same order.
// Rejects (kInvalidInput) a negative or non-finite k or weight.
Result<std::vector<FusedHit>> FuseReciprocalRank(std::span<const RankedHit> keyword,
                                                 std::span<const RankedHit> vector,
                                                 const FusionOptions& options = {});

}  // namespace on::search
