// Keyword search on the FTS5 tables of migration 0003, ranked by BM25.
#include <algorithm>

#include "storage/sqlite/sqlite_storage.h"

namespace on::storage::sqlite {
namespace {

// Each query returns: type, id, parent_id, title, score, snippet, chunk_index, page, match_field.
// ?1 is the MATCH expression, ?2 the optional notebook scope, ?3 the row limit. Snippets mark
// matched words with \x01 and \x02, which the API turns into escaped HTML.
constexpr std::string_view kChunkSearch =
    "SELECT 'source', s.id, s.id, coalesce(s.title, ''), -bm25(chunk_fts), "
    "snippet(chunk_fts, 0, char(1), char(2), '…', 32), c.chunk_index, c.page, 'chunk' "
    "FROM chunk_fts JOIN source_chunk c ON c.id = chunk_fts.rowid JOIN source s ON s.id = c.source_id "
    "WHERE chunk_fts MATCH ?1 AND (?2 IS NULL OR EXISTS "
    "(SELECT 1 FROM source_notebook sn WHERE sn.source_id = s.id AND sn.notebook_id = ?2)) "
    "ORDER BY rank LIMIT ?3";

// Without a notebook scope, FTS5 picks the best chunks first (ORDER BY rank LIMIT on the virtual
// table alone), so snippet() runs only for the rows returned. In the join form above, SQLite
// computes the snippet of every matching chunk before sorting.
constexpr std::string_view kChunkSearchUnscoped =
    "SELECT 'source', s.id, s.id, coalesce(s.title, ''), best.score, best.snippet, c.chunk_index, c.page, 'chunk' "
    "FROM (SELECT rowid AS chunk_rowid, -bm25(chunk_fts) AS score, "
    "snippet(chunk_fts, 0, char(1), char(2), '…', 32) AS snippet FROM chunk_fts WHERE chunk_fts MATCH ?1 "
    "ORDER BY rank LIMIT ?3) best "
    "JOIN source_chunk c ON c.id = best.chunk_rowid JOIN source s ON s.id = c.source_id "
    "WHERE ?2 IS NULL ORDER BY best.score DESC";

constexpr std::string_view kTitleSearch =
    "SELECT 'source', s.id, s.id, coalesce(s.title, ''), -bm25(source_title_fts), "
    "highlight(source_title_fts, 1, char(1), char(2)), NULL, NULL, 'title' "
    "FROM source_title_fts JOIN source s ON s.id = source_title_fts.source_id "
    "WHERE source_title_fts MATCH ?1 AND (?2 IS NULL OR EXISTS "
    "(SELECT 1 FROM source_notebook sn WHERE sn.source_id = s.id AND sn.notebook_id = ?2)) "
    "ORDER BY rank LIMIT ?3";

constexpr std::string_view kNoteSearch =
    "SELECT 'note', n.id, coalesce(n.notebook_id, ''), coalesce(n.title, ''), -bm25(note_fts), "
    "snippet(note_fts, -1, char(1), char(2), '…', 32), NULL, NULL, 'content' "
    "FROM note_fts JOIN note n ON n.id = note_fts.note_id "
    "WHERE note_fts MATCH ?1 AND (?2 IS NULL OR n.notebook_id = ?2) "
    "ORDER BY rank LIMIT ?3";

Status RunSearch(Connection& db, std::string_view sql, const TextSearchQuery& query, std::vector<TextSearchHit>& hits) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(sql));
  statement.Bind(1, query.fts_match).BindOptional(2, query.notebook_id).Bind(3, static_cast<int64_t>(query.limit));
  for (;;) {
    auto row = statement.Step();
    if (!row.ok()) {
      // A query the FTS5 parser rejects is the caller's input, not a database failure.
      if (row.status().code() == ErrorCode::kDatabase) return InvalidInput("the search query cannot be parsed");
      return row.status();
    }
    if (!*row) break;

    TextSearchHit hit;
    hit.type = statement.Text(0);
    hit.id = statement.Text(1);
    hit.parent_id = statement.Text(2);
    hit.title = statement.Text(3);
    hit.score = statement.Double(4);
    hit.snippet = statement.Text(5);
    if (!statement.IsNull(6)) hit.chunk_index = statement.Int(6);
    if (!statement.IsNull(7)) hit.page = static_cast<int>(statement.Int(7));
    hit.match_field = statement.Text(8);
    hits.push_back(std::move(hit));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<TextSearchHit>> SqliteStorage::SearchText(const TextSearchQuery& query) {
  std::vector<TextSearchHit> hits;
  if (query.fts_match.empty() || query.limit <= 0) return hits;

  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  if (query.notebook_id) {
    ON_ASSIGN_OR_RETURN(auto exists, reader->Prepare("SELECT 1 FROM notebook WHERE id = ?1"));
    exists.Bind(1, *query.notebook_id);
    ON_ASSIGN_OR_RETURN(bool found, exists.Step());
    if (!found) return NotFound("notebook " + *query.notebook_id + " was not found");
  }
  if (query.search_sources) {
    ON_RETURN_IF_ERROR(RunSearch(*reader, query.notebook_id ? kChunkSearch : kChunkSearchUnscoped, query, hits));
    ON_RETURN_IF_ERROR(RunSearch(*reader, kTitleSearch, query, hits));
  }
  if (query.search_notes) ON_RETURN_IF_ERROR(RunSearch(*reader, kNoteSearch, query, hits));

  std::stable_sort(hits.begin(), hits.end(), [](const TextSearchHit& a, const TextSearchHit& b) { return a.score > b.score; });
  return hits;
}

}  // namespace on::storage::sqlite
