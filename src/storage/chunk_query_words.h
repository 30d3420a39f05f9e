// The words of a keyword query over chunks, chosen the same way by both storage backends, so
// that their results and scores agree (the plan itself is explained in sqlite/sqlite_search.cc).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "storage/types.h"

namespace on::storage {

// How many rows the words matched on their own may contribute: about 1 µs of ranking each.
inline constexpr int64_t kRankedRowBudget = 2000;

// A word and the number of chunks that contain it.
using WordRows = std::pair<int64_t, const SearchTerm*>;

struct ChunkQueryWords {
  // The words that some chunk contains, fewest chunks first (ties in query order).
  std::vector<WordRows> present;
  // The first words of `present` whose chunk counts add up to at most kRankedRowBudget.
  std::vector<WordRows> rare;
};

// Chooses the words of a chunk query; rows[i] is the number of chunks that contain terms[i].
// A word no chunk contains is left out: it would empty the AND and adds nothing to the OR.
ChunkQueryWords ChooseChunkQueryWords(const std::vector<SearchTerm>& terms, const std::vector<int64_t>& rows);

}  // namespace on::storage
