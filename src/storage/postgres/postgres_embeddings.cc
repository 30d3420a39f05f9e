// Embedding vectors in pgvector columns, one row per chunk, note or insight and model.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "storage/postgres/postgres_storage.h"

namespace on::storage::postgres {
namespace {

// pgvector 0.8.0 rejects an HNSW index over more than 2000 dimensions ("column cannot have more
// than 2000 dimensions for hnsw index"). NOTE: larger vectors are stored without an index.
constexpr size_t kMaxHnswDimensions = 2000;

// pgvector's limit for the vector type.
constexpr size_t kMaxVectorDimensions = 16000;
// The maximum number of rows one vector search returns.
constexpr size_t kMaxSearchLimit = 4096;
// Notebooks with at most this many vectors of a model are searched exactly, row by row.
constexpr size_t kExactScopeRows = 20000;

// The key of the transaction-level advisory lock under which the per-dimension index is created.
constexpr int64_t kIndexLockKey = 0x6f6e5f686e7377;  // "on_hnsw"

Result<std::vector<std::string>> ListIds(Pool& pool, std::string_view sql) {
  ON_ASSIGN_OR_RETURN(auto db, pool.Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query(sql));
  std::vector<std::string> ids;
  for (int row = 0; row < rows.size(); ++row) ids.push_back(rows.Text(row, 0));
  return ids;
}

// The text form of a bigint[] parameter: "{1,2,3}".
std::string BigintArray(const std::vector<int64_t>& ids) {
  std::string array = "{";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) array += ',';
    array += std::to_string(ids[i]);
  }
  return array + "}";
}

}  // namespace

std::string VectorText(const std::vector<float>& vector) {
  std::string text = "[";
  char buffer[32];
  for (size_t i = 0; i < vector.size(); ++i) {
    if (i > 0) text += ',';
    auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), vector[i]);
    text.append(buffer, error == std::errc() ? end : buffer);
  }
  text += ']';
  return text;
}

std::vector<float> ParseVector(const std::string& text) {
  std::vector<float> vector;
  const char* cursor = text.c_str();
  if (*cursor == '[') ++cursor;
  while (*cursor != '\0' && *cursor != ']') {
    char* end = nullptr;
    vector.push_back(std::strtof(cursor, &end));
    if (end == cursor) break;
    cursor = end;
    if (*cursor == ',') ++cursor;
  }
  return vector;
}

// HNSW needs a fixed dimension, so each dimension gets a partial index over its own rows.
Status EnsureHnswIndex(Connection& db, size_t dimension) {
  if (dimension > kMaxHnswDimensions) return Status::Ok();
  const std::string name = "embedding_hnsw_" + std::to_string(dimension);
  ON_ASSIGN_OR_RETURN(auto exists, db.Query("SELECT to_regclass($1) IS NOT NULL", Params().Add(name)));
  if (exists.Bool(0, 0)) return Status::Ok();

  // Two processes saving the first vectors of a dimension at once would both try to create it.
  ON_RETURN_IF_ERROR(db.Query("SELECT pg_advisory_xact_lock($1)", Params().Add(kIndexLockKey)).status());
  // The check above may have read a stale catalog cache. This session keeps the name as missing
  // until it reads the catalog changes that other sessions committed. It reads them when it locks
  // a table, not when it takes an advisory lock, so the table lock comes before the second check.
  // CREATE INDEX takes the SHARE mode anyway, and it waits for running writers.
  ON_RETURN_IF_ERROR(db.Execute("LOCK TABLE embedding IN SHARE MODE"));
  ON_ASSIGN_OR_RETURN(auto created_meanwhile, db.Query("SELECT to_regclass($1) IS NOT NULL", Params().Add(name)));
  if (created_meanwhile.Bool(0, 0)) return Status::Ok();
  // DDL takes no parameters; the dimension is a number this function formats itself. The graph
  // parameters are those of the in-process index (search/vector_index.h), so both backends
  // search graphs of the same quality.
  const std::string dims = std::to_string(dimension);
  ON_RETURN_IF_ERROR(db.Execute("CREATE INDEX " + name + " ON embedding USING hnsw ((vector::vector(" + dims +
                                ")) vector_cosine_ops) WITH (m = 16, ef_construction = 200) WHERE dimension = " + dims));
  spdlog::info("created the HNSW index {} for {}-dimensional embeddings", name, dimension);
  return Status::Ok();
}

Result<std::vector<EmbeddingItem>> PostgresStorage::ListUnembedded(const std::string& model, const EmbeddingOwner& owner,
                                                                   int limit) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  std::vector<EmbeddingItem> items;
  if (owner.source_id) {
    ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT c.id, c.content FROM source_chunk c WHERE c.source_id = $1 "
                                             "AND NOT EXISTS (SELECT 1 FROM embedding e WHERE e.chunk_id = c.id "
                                             "AND e.model = $2) ORDER BY c.chunk_index LIMIT $3",
                                             Params().Add(*owner.source_id).Add(model).Add(limit)));
    for (int row = 0; row < rows.size(); ++row) {
      items.push_back(EmbeddingItem{rows.Int(row, 0), std::nullopt, rows.Text(row, 1)});
    }
  }
  if (owner.note_id) {
    ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT n.id, trim(coalesce(n.title, '') || chr(10) || n.content) "
                                             "FROM note n WHERE n.id = $1 AND NOT EXISTS "
                                             "(SELECT 1 FROM embedding e WHERE e.note_id = n.id AND e.model = $2)",
                                             Params().Add(*owner.note_id).Add(model)));
    if (!rows.empty()) items.push_back(EmbeddingItem{std::nullopt, rows.Text(0, 0), rows.Text(0, 1)});
  }
  if (owner.insight_id) {
    ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT i.id, i.insight_type || chr(10) || i.content FROM source_insight i "
                                             "WHERE i.id = $1 AND NOT EXISTS "
                                             "(SELECT 1 FROM embedding e WHERE e.insight_id = i.id AND e.model = $2)",
                                             Params().Add(*owner.insight_id).Add(model)));
    if (!rows.empty()) items.push_back(EmbeddingItem{std::nullopt, std::nullopt, rows.Text(0, 1), rows.Text(0, 0)});
  }
  return items;
}

Result<int64_t> PostgresStorage::SaveEmbeddings(const std::string& model, const std::vector<EmbeddingItem>& items,
                                                const std::vector<std::vector<float>>& vectors) {
  if (items.size() != vectors.size()) {
    return InvalidInput("SaveEmbeddings got " + std::to_string(items.size()) + " items and " +
                        std::to_string(vectors.size()) + " vectors");
  }
  std::set<size_t> dimensions;
  for (const auto& vector : vectors) {
    if (vector.empty()) return InvalidInput("an embedding vector is empty");
    dimensions.insert(vector.size());
  }
  const std::string now = NowTimestamp();
  return InTransaction<int64_t>([&](Connection& db) -> Result<int64_t> {
    // Before any write: creating an index waits for other writers of the table, and a transaction
    // that had written already while waiting for the index lock could deadlock with another.
    for (size_t dimension : dimensions) ON_RETURN_IF_ERROR(EnsureHnswIndex(db, dimension));
    int64_t stored = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      const EmbeddingItem& item = items[i];
      const std::vector<float>& vector = vectors[i];

      // The owner column and table are literals chosen here; INSERT ... SELECT inserts nothing
      // when the chunk, note or insight is gone.
      std::string column = "note_id";
      std::string table = "note";
      std::string owner = item.note_id.value_or("");
      if (item.chunk_id) {
        column = "chunk_id";
        table = "source_chunk";
        owner = std::to_string(*item.chunk_id);
      } else if (item.insight_id) {
        column = "insight_id";
        table = "source_insight";
        owner = *item.insight_id;
      }
      const std::string owner_cast = item.chunk_id ? "$1::bigint" : "$1";
      ON_RETURN_IF_ERROR(db.Query("DELETE FROM embedding WHERE " + column + " = " + owner_cast + " AND model = $2",
                                  Params().Add(owner).Add(model))
                             .status());
      ON_ASSIGN_OR_RETURN(auto inserted,
                          db.Query("INSERT INTO embedding (model, " + column + ", dimension, vector, created) "
                                   "SELECT $2, id, $3, $4::vector, $5 FROM " + table + " WHERE id = " + owner_cast,
                                   Params()
                                       .Add(owner)
                                       .Add(model)
                                       .Add(static_cast<int64_t>(vector.size()))
                                       .Add(VectorText(vector))
                                       .Add(now)));
      stored += inserted.affected();
    }
    return stored;
  });
}

Result<std::vector<StoredEmbedding>> PostgresStorage::ListEmbeddings(const std::string& model, int64_t after_id,
                                                                     int limit) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT id, vector::text FROM embedding WHERE model = $1 AND id > $2 "
                                           "ORDER BY id LIMIT $3",
                                           Params().Add(model).Add(after_id).Add(limit)));
  std::vector<StoredEmbedding> embeddings;
  embeddings.reserve(static_cast<size_t>(rows.size()));
  for (int row = 0; row < rows.size(); ++row) {
    embeddings.push_back(StoredEmbedding{rows.Int(row, 0), ParseVector(rows.Text(row, 1))});
  }
  return embeddings;
}

Result<EmbeddingModelState> PostgresStorage::GetEmbeddingState(const std::string& model) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT coalesce(max(id), 0), count(*), "
                                           "(SELECT coalesce(max(deletions), 0) FROM embedding_model_state "
                                           "WHERE model = $1) FROM embedding WHERE model = $1",
                                           Params().Add(model)));
  EmbeddingModelState state;
  if (!rows.empty()) {
    state.max_id = rows.Int(0, 0);
    state.count = rows.Int(0, 1);
    state.deletions = rows.Int(0, 2);
  }
  return state;
}

Result<EmbeddingVersion> PostgresStorage::GetEmbeddingVersion(const std::string& model) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT coalesce((SELECT max(id) FROM embedding WHERE model = $1), 0), "
                                           "coalesce((SELECT max(deletions) FROM embedding_model_state "
                                           "WHERE model = $1), 0)",
                                           Params().Add(model)));
  EmbeddingVersion version;
  if (!rows.empty()) {
    version.max_id = rows.Int(0, 0);
    version.deletions = rows.Int(0, 1);
  }
  return version;
}

Result<std::vector<EmbeddingTarget>> PostgresStorage::ResolveEmbeddings(const std::vector<int64_t>& ids,
                                                                        const std::optional<std::string>& notebook_id) {
  std::vector<EmbeddingTarget> targets;
  if (ids.empty()) return targets;
  // One statement for every id: with the database on another host, a round trip per hit would
  // cost more than the search itself.
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(
      auto rows,
      db->Query("SELECT e.id, 'source', s.id, s.id, coalesce(s.title, ''), c.chunk_index, c.page, c.content "
                "FROM embedding e JOIN source_chunk c ON c.id = e.chunk_id JOIN source s ON s.id = c.source_id "
                "WHERE e.id = ANY($1::bigint[]) AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM source_notebook sn "
                "WHERE sn.source_id = s.id AND sn.notebook_id = $2)) "
                "UNION ALL SELECT e.id, 'note', n.id, coalesce(n.notebook_id, ''), coalesce(n.title, ''), NULL, NULL, "
                "n.content FROM embedding e JOIN note n ON n.id = e.note_id WHERE e.id = ANY($1::bigint[]) "
                "AND ($2::text IS NULL OR n.notebook_id = $2) "
                "UNION ALL SELECT e.id, 'insight', i.id, s.id, i.insight_type || ' - ' || coalesce(s.title, ''), NULL, "
                "NULL, i.content FROM embedding e JOIN source_insight i ON i.id = e.insight_id "
                "JOIN source s ON s.id = i.source_id WHERE e.id = ANY($1::bigint[]) AND ($2::text IS NULL OR EXISTS "
                "(SELECT 1 FROM source_notebook sn WHERE sn.source_id = s.id AND sn.notebook_id = $2))",
                Params().Add(BigintArray(ids)).Add(notebook_id)));
  std::map<int64_t, int> row_of;
  for (int row = 0; row < rows.size(); ++row) row_of[rows.Int(row, 0)] = row;
  // In the order of `ids`, as the caller ranked them.
  for (int64_t id : ids) {
    const auto found = row_of.find(id);
    if (found == row_of.end()) continue;
    const int row = found->second;
    EmbeddingTarget target{id, rows.Text(row, 1), rows.Text(row, 2), rows.Text(row, 3), rows.Text(row, 4),
                           rows.OptionalInt(row, 5), std::nullopt, rows.Text(row, 7)};
    if (!rows.IsNull(row, 6)) target.page = static_cast<int>(rows.Int(row, 6));
    targets.push_back(std::move(target));
  }
  return targets;
}

Result<std::vector<int64_t>> PostgresStorage::ListNotebookEmbeddingIds(const std::string& model,
                                                                      const std::string& notebook_id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT e.id FROM embedding e JOIN source_chunk c ON c.id = e.chunk_id "
                                           "JOIN source_notebook sn ON sn.source_id = c.source_id "
                                           "WHERE e.model = $1 AND sn.notebook_id = $2 "
                                           "UNION ALL SELECT e.id FROM embedding e JOIN note n ON n.id = e.note_id "
                                           "WHERE e.model = $1 AND n.notebook_id = $2 "
                                           "UNION ALL SELECT e.id FROM embedding e JOIN source_insight i "
                                           "ON i.id = e.insight_id JOIN source_notebook sn ON sn.source_id = i.source_id "
                                           "WHERE e.model = $1 AND sn.notebook_id = $2",
                                           Params().Add(model).Add(notebook_id)));
  std::vector<int64_t> ids;
  for (int row = 0; row < rows.size(); ++row) ids.push_back(rows.Int(row, 0));
  return ids;
}

Result<std::optional<std::vector<EmbeddingMatch>>> PostgresStorage::SearchEmbeddings(
    const std::string& model, std::span<const float> query, size_t k, const std::optional<std::string>& notebook_id) {
  std::vector<EmbeddingMatch> matches;
  // pgvector's vector type has at most 16,000 dimensions, so no stored vector is longer.
  if (query.empty() || query.size() > kMaxVectorDimensions || k == 0) return std::optional(std::move(matches));

  // The dimension and the limit are literals, not parameters: the planner matches the partial
  // index of this dimension only against a constant, and costs the index scan for the real limit.
  // Rounding the limit up to a power of two keeps the prepared statements per connection few.
  size_t limit = 16;
  while (limit < k && limit < kMaxSearchLimit) limit *= 2;
  const std::string dims = std::to_string(query.size());
  const std::string distance = "e.vector::vector(" + dims + ") <=> $1::vector(" + dims + ")";
  Params params;
  params.Add(VectorText(std::vector<float>(query.begin(), query.end()))).Add(model);

  std::string sql;
  if (notebook_id) {
    ON_ASSIGN_OR_RETURN(auto ids, ListNotebookEmbeddingIds(model, *notebook_id));
    if (ids.empty()) return std::optional(std::move(matches));
    if (ids.size() <= kExactScopeRows) {
      // A graph search filtered down to a small notebook may stop before it finds `limit` rows
      // of it, so a small scope is compared row by row: exact, and cheap at this size. OFFSET 0
      // keeps the planner from ordering through the graph index.
      params.Add(BigintArray(ids));
      sql = "SELECT id, distance FROM (SELECT e.id, " + distance + " AS distance FROM embedding e "
            "WHERE e.id = ANY($3::bigint[]) AND e.dimension = " + dims + " AND e.model = $2 OFFSET 0) scope "
            "ORDER BY distance LIMIT " + std::to_string(limit);
    } else {
      params.Add(*notebook_id);
      sql = "SELECT e.id, " + distance + " FROM embedding e WHERE e.dimension = " + dims + " AND e.model = $2 "
            "AND (EXISTS (SELECT 1 FROM source_chunk c JOIN source_notebook sn ON sn.source_id = c.source_id "
            "WHERE c.id = e.chunk_id AND sn.notebook_id = $3) "
            "OR EXISTS (SELECT 1 FROM note n WHERE n.id = e.note_id AND n.notebook_id = $3) "
            "OR EXISTS (SELECT 1 FROM source_insight i JOIN source_notebook sn ON sn.source_id = i.source_id "
            "WHERE i.id = e.insight_id AND sn.notebook_id = $3)) "
            "ORDER BY " + distance + " LIMIT " + std::to_string(limit);
    }
  } else {
    sql = "SELECT e.id, " + distance + " FROM embedding e WHERE e.dimension = " + dims + " AND e.model = $2 "
          "ORDER BY " + distance + " LIMIT " + std::to_string(limit);
  }

  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  // The candidate list of the graph search must be at least as long as the limit. Iterative scans
  // (pgvector 0.8) go on searching the graph while the filter drops rows of other models or
  // notebooks, so they return `limit` rows when there are that many. Their relaxed order is sorted
  // again below.
  // NOTE: an iterative scan stops after hnsw.max_scan_tuples (20,000 by default) rows, so a
  // notebook above kExactScopeRows that is a small part of a large table may get fewer rows.
  const std::string ef_search = "SET hnsw.ef_search = " + std::to_string(std::clamp<size_t>(limit, 128, 1000));
  if (Status iterative = db->Execute(ef_search + "; SET hnsw.iterative_scan = relaxed_order"); !iterative.ok()) {
    // Older pgvector: no iterative scans. A filter may then leave fewer rows than requested.
    static std::once_flag warned;
    std::call_once(warned, [&iterative] {
      spdlog::warn("pgvector has no iterative index scans ({}), so vector searches filtered by model or notebook may "
                   "return fewer results; install pgvector 0.8 or later", iterative.message());
    });
    ON_RETURN_IF_ERROR(db->Execute(ef_search));
  }
  ON_ASSIGN_OR_RETURN(auto rows, db->Query(sql, params));
  for (int row = 0; row < rows.size(); ++row) {
    if (rows.IsNull(row, 1)) continue;
    // Cosine distance is 1 - similarity. A zero vector has no direction, so its distance is NaN.
    const double similarity = 1.0 - rows.Double(row, 1);
    if (std::isnan(similarity)) continue;
    matches.push_back(EmbeddingMatch{rows.Int(row, 0), static_cast<float>(similarity)});
  }
  std::stable_sort(matches.begin(), matches.end(),
                   [](const EmbeddingMatch& a, const EmbeddingMatch& b) { return a.similarity > b.similarity; });
  if (matches.size() > k) matches.resize(k);
  return std::optional(std::move(matches));
}

Result<int64_t> PostgresStorage::CountEmbeddableItems() {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT (SELECT count(*) FROM source_chunk) + "
                                           "(SELECT count(*) FROM note WHERE trim(content) <> '') + "
                                           "(SELECT count(*) FROM source_insight)"));
  return rows.empty() ? 0 : rows.Int(0, 0);
}

Result<int64_t> PostgresStorage::CountSourceEmbeddings(const std::string& model, const std::string& source_id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT count(*) FROM embedding e JOIN source_chunk c ON c.id = e.chunk_id "
                                           "WHERE c.source_id = $1 AND e.model = $2",
                                           Params().Add(source_id).Add(model)));
  return rows.empty() ? 0 : rows.Int(0, 0);
}

Result<std::vector<std::string>> PostgresStorage::ListEmbeddableSources(bool only_embedded) {
  if (only_embedded) {
    return ListIds(*pool_, "SELECT DISTINCT c.source_id FROM source_chunk c JOIN embedding e ON e.chunk_id = c.id "
                           "ORDER BY c.source_id");
  }
  return ListIds(*pool_, "SELECT DISTINCT source_id FROM source_chunk ORDER BY source_id");
}

Result<std::vector<std::string>> PostgresStorage::ListEmbeddableNotes(bool only_embedded) {
  if (only_embedded) {
    return ListIds(*pool_, "SELECT DISTINCT n.id FROM note n JOIN embedding e ON e.note_id = n.id "
                           "WHERE trim(n.content) <> '' ORDER BY n.id");
  }
  return ListIds(*pool_, "SELECT id FROM note WHERE trim(content) <> '' ORDER BY id");
}

Result<std::vector<std::string>> PostgresStorage::ListEmbeddableInsights(bool only_embedded) {
  if (only_embedded) {
    return ListIds(*pool_, "SELECT DISTINCT i.id FROM source_insight i JOIN embedding e ON e.insight_id = i.id "
                           "ORDER BY i.id");
  }
  return ListIds(*pool_, "SELECT id FROM source_insight ORDER BY id");
}

}  // namespace on::storage::postgres
