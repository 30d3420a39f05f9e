#include "storage/sqlite/fts5_rank.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "storage/sqlite/fts5_tokenizer.h"

namespace on::storage::sqlite {
namespace {

constexpr double kK1 = 1.2;
constexpr double kB = 0.75;
// FTS5's bm25() floor for the weight of a phrase found in more than half of the rows.
constexpr double kMinimumIdf = 1e-6;

// Statistics shared by every row of one query, computed on the first row and kept as aux data.
struct QueryData {
  double average_length = 1;
  std::vector<double> idf;   // per phrase
  std::vector<int> counts;   // per phrase, reused for each row
};

void DeleteQueryData(void* data) { delete static_cast<QueryData*>(data); }

QueryData* NewQueryData(const Fts5ExtensionApi* api, Fts5Context* fts, int argument_count, sqlite3_value** arguments) {
  sqlite3_int64 rows = 0;
  sqlite3_int64 tokens = 0;
  if (api->xRowCount(fts, &rows) != SQLITE_OK || api->xColumnTotalSize(fts, -1, &tokens) != SQLITE_OK) return nullptr;
  auto* data = new QueryData;
  data->average_length = rows > 0 ? static_cast<double>(tokens) / static_cast<double>(rows) : 1;
  if (data->average_length <= 0) data->average_length = 1;
  const int phrases = api->xPhraseCount(fts);
  data->idf.resize(static_cast<size_t>(phrases), kMinimumIdf);
  data->counts.resize(static_cast<size_t>(phrases), 0);
  for (int phrase = 0; phrase < phrases && phrase < argument_count; ++phrase) {
    const double containing = std::clamp(sqlite3_value_double(arguments[phrase]), 0.0, static_cast<double>(rows));
    const double idf = std::log((static_cast<double>(rows) - containing + 0.5) / (containing + 0.5));
    data->idf[static_cast<size_t>(phrase)] = std::max(idf, kMinimumIdf);
  }
  return data;
}

void RankFunction(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* context, int argument_count,
                  sqlite3_value** arguments) {
  auto* data = static_cast<QueryData*>(api->xGetAuxdata(fts, 0));
  if (data == nullptr) {
    data = NewQueryData(api, fts, argument_count, arguments);
    if (data == nullptr) {
      sqlite3_result_error(context, "on_bm25: cannot read the index statistics", -1);
      return;
    }
    if (api->xSetAuxdata(fts, data, DeleteQueryData) != SQLITE_OK) {
      // xSetAuxdata has already freed `data`.
      sqlite3_result_error_nomem(context);
      return;
    }
  }

  int instances = 0;
  int length = 0;
  if (api->xInstCount(fts, &instances) != SQLITE_OK || api->xColumnSize(fts, -1, &length) != SQLITE_OK) {
    sqlite3_result_error(context, "on_bm25: cannot read the row's matches", -1);
    return;
  }
  std::fill(data->counts.begin(), data->counts.end(), 0);
  for (int i = 0; i < instances; ++i) {
    int phrase = 0;
    int column = 0;
    int offset = 0;
    if (api->xInst(fts, i, &phrase, &column, &offset) != SQLITE_OK) continue;
    if (phrase >= 0 && static_cast<size_t>(phrase) < data->counts.size()) ++data->counts[static_cast<size_t>(phrase)];
  }
  const double normalization = kK1 * (1 - kB + kB * static_cast<double>(length) / data->average_length);
  double score = 0;
  for (size_t phrase = 0; phrase < data->counts.size(); ++phrase) {
    const double frequency = data->counts[phrase];
    if (frequency > 0) score += data->idf[phrase] * frequency * (kK1 + 1) / (frequency + normalization);
  }
  // Negative, as bm25() returns it, so ORDER BY rank puts the best rows first.
  sqlite3_result_double(context, -score);
}

}  // namespace

Status RegisterFts5RankFunction(sqlite3* db) {
  fts5_api* api = db == nullptr ? nullptr : FindFts5Api(db);
  if (api == nullptr) return DatabaseError("SQLite has no usable FTS5 module; install a SQLite built with FTS5");
  const int rc = api->xCreateFunction(api, kFts5RankFunctionName, nullptr, RankFunction, nullptr);
  if (rc != SQLITE_OK) {
    return DatabaseError(std::string("registering the FTS5 function ") + kFts5RankFunctionName +
                         " failed: " + sqlite3_errstr(rc));
  }
  return Status::Ok();
}

}  // namespace on::storage::sqlite
