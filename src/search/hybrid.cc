#include "search/hybrid.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

namespace on::search {
namespace {

Status CheckParameter(double value, const char* name) {
  if (!std::isfinite(value) || value < 0) {
    return InvalidInput(fmt::format("rank fusion {} must be a finite number of at least 0, not {}",
                                    name, value));
  }
  return Status::Ok();
}

size_t BestRank(const FusedHit& hit) {
  constexpr size_t kAbsent = std::numeric_limits<size_t>::max();
  return std::min(hit.keyword_rank.value_or(kAbsent), hit.vector_rank.value_or(kAbsent));
}

bool FusedBefore(const FusedHit& a, const FusedHit& b) {
  if (a.fused_score != b.fused_score) return a.fused_score > b.fused_score;
  const bool a_both = a.in_keyword() && a.in_vector();
  const bool b_both = b.in_keyword() && b.in_vector();
  if (a_both != b_both) return a_both;
  if (BestRank(a) != BestRank(b)) return BestRank(a) < BestRank(b);
  constexpr size_t kAbsent = std::numeric_limits<size_t>::max();
  const size_t a_keyword = a.keyword_rank.value_or(kAbsent);
  const size_t b_keyword = b.keyword_rank.value_or(kAbsent);
  if (a_keyword != b_keyword) return a_keyword < b_keyword;
  return a.key < b.key;
}

}  // namespace

Result<std::vector<FusedHit>> FuseReciprocalRank(std::span<const RankedHit> keyword,
                                                 std::span<const RankedHit> vector,
                                                 const FusionOptions& options) {
  ON_RETURN_IF_ERROR(CheckParameter(options.k, "k"));
  ON_RETURN_IF_ERROR(CheckParameter(options.keyword_weight, "keyword weight"));
  ON_RETURN_IF_ERROR(CheckParameter(options.vector_weight, "vector weight"));

  std::vector<FusedHit> fused;
  fused.reserve(keyword.size() + vector.size());
  std::unordered_map<std::string, size_t> position;

  auto entry_for = [&](const std::string& key) -> FusedHit& {
    auto [it, inserted] = position.try_emplace(key, fused.size());
    if (inserted) fused.push_back(FusedHit{.key = key});
    return fused[it->second];
  };

  for (size_t i = 0; i < keyword.size(); ++i) {
    FusedHit& hit = entry_for(keyword[i].key);
    if (hit.keyword_rank) continue;  // a repeat ranks lower than the first occurrence
    hit.keyword_rank = i + 1;
    hit.keyword_score = keyword[i].score;
    hit.fused_score += options.keyword_weight / (options.k + static_cast<double>(i + 1));
  }
  for (size_t i = 0; i < vector.size(); ++i) {
    FusedHit& hit = entry_for(vector[i].key);
    if (hit.vector_rank) continue;
    hit.vector_rank = i + 1;
    hit.vector_score = vector[i].score;
    hit.fused_score += options.vector_weight / (options.k + static_cast<double>(i + 1));
  }

  std::sort(fused.begin(), fused.end(), FusedBefore);
  if (options.limit != 0 && fused.size() > options.limit) fused.resize(options.limit);
  return fused;
}

}  // namespace on::search
