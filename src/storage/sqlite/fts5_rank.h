// `on_bm25`: BM25 for FTS5 with document frequencies given by the caller.
#pragma once

#include <sqlite3.h>

#include "core/error.h"

namespace on::storage::sqlite {

inline constexpr char kFts5RankFunctionName[] = "on_bm25";

// Registers on_bm25 on `db`. It ranks like FTS5's bm25() (k1 = 1.2, b = 0.75, smaller is better)
// but takes, for each phrase of the MATCH expression in order, the number of rows that contain
// it, instead of counting them by reading the phrase's whole posting list on every query. With
// common words in a large index that count costs more than the search itself. Use it as
//   WHERE t MATCH '"a" OR "b"' AND rank MATCH 'on_bm25(1200, 35)' ORDER BY rank
// A phrase without a count (too few arguments) weighs as little as a word found in every row.
Status RegisterFts5RankFunction(sqlite3* db);

}  // namespace on::storage::sqlite
