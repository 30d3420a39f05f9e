#include "storage/chunk_query_words.h"

#include <algorithm>

namespace on::storage {

ChunkQueryWords ChooseChunkQueryWords(const std::vector<SearchTerm>& terms, const std::vector<int64_t>& rows) {
  ChunkQueryWords words;
  for (size_t i = 0; i < terms.size() && i < rows.size(); ++i) {
    if (rows[i] > 0) words.present.emplace_back(rows[i], &terms[i]);
  }
  std::stable_sort(words.present.begin(), words.present.end(),
                   [](const WordRows& a, const WordRows& b) { return a.first < b.first; });
  int64_t rare_rows = 0;
  for (const WordRows& word : words.present) {
    if (rare_rows + word.first > kRankedRowBudget) break;
    words.rare.push_back(word);
    rare_rows += word.first;
  }
  return words;
}

}  // namespace on::storage
