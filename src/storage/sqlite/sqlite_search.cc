// Keyword search on the FTS5 tables of migration 0003, ranked by BM25.
//
// Ranking cost in FTS5 grows with the number of rows that match: every one is scored before
// ORDER BY rank LIMIT keeps the best. A plain OR of the query's words matches every chunk that
// has any of them, which for common words in a large collection is most of it. So the chunk query
// is planned from the words' document frequencies, as Lucene's common-terms query does. It
// matches the chunks that contain every word, plus the chunks that contain one of the rare words,
// while the rare words together match at most kRankedRowBudget rows. Common words still rank the
// chunks that contain all words. Only when that finds nothing does the plain OR run.
//
// FTS5's bm25() counts the rows containing each word by reading the word's whole posting list on
// every query, which for a common word costs more than the search. Chunk queries rank with
// on_bm25 (fts5_rank.h) instead, given counts from TermFrequencyCache.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <unordered_map>

#include "core/metrics.h"
#include "search/tokenizer.h"
#include "storage/chunk_query_words.h"
#include "storage/sqlite/fts5_rank.h"
#include "storage/sqlite/sqlite_storage.h"

namespace on::storage::sqlite {
namespace {

// Counts of at least kCachedFrequency rows are kept for kFrequencyMaxAge. Smaller counts are
// read on every query: they cost little to count, and a stale count of 0 would hide a word that
// a source added a moment ago. A large count that is a minute old ranks as well as a fresh one.
constexpr int64_t kCachedFrequency = 1000;
constexpr auto kFrequencyMaxAge = std::chrono::seconds(60);
constexpr size_t kMaxCachedTerms = 100'000;

// Each query returns: type, id, parent_id, title, score, snippet, chunk_index, page, match_field,
// row. ?1 is the MATCH expression, ?2 the optional notebook scope, ?3 the row limit. Highlights
// mark matched words with \x01 and \x02, which the API turns into escaped HTML.
// ?4 is the on_bm25 call with the phrases' row counts.
constexpr std::string_view kChunkSearch =
    "SELECT 'source', s.id, s.id, coalesce(s.title, ''), -chunk_fts.rank, NULL, c.chunk_index, c.page, 'chunk', c.id "
    "FROM chunk_fts JOIN source_chunk c ON c.id = chunk_fts.rowid JOIN source s ON s.id = c.source_id "
    "WHERE chunk_fts MATCH ?1 AND chunk_fts.rank MATCH ?4 AND (?2 IS NULL OR EXISTS "
    "(SELECT 1 FROM source_notebook sn WHERE sn.source_id = s.id AND sn.notebook_id = ?2)) "
    "ORDER BY rank LIMIT ?3";

// Without a notebook scope, FTS5 keeps the best chunks first (ORDER BY rank LIMIT on the virtual
// table alone), so only the rows returned are joined.
constexpr std::string_view kChunkSearchUnscoped =
    "SELECT 'source', s.id, s.id, coalesce(s.title, ''), best.score, NULL, c.chunk_index, c.page, 'chunk', c.id "
    "FROM (SELECT rowid AS chunk_rowid, -rank AS score FROM chunk_fts WHERE chunk_fts MATCH ?1 AND rank MATCH ?4 "
    "ORDER BY rank LIMIT ?3) best "
    "JOIN source_chunk c ON c.id = best.chunk_rowid JOIN source s ON s.id = c.source_id "
    "WHERE ?2 IS NULL ORDER BY best.score DESC";

constexpr std::string_view kTitleSearch =
    "SELECT 'source', s.id, s.id, coalesce(s.title, ''), -bm25(source_title_fts), "
    "highlight(source_title_fts, 1, char(1), char(2)), NULL, NULL, 'title', 0 "
    "FROM source_title_fts JOIN source s ON s.id = source_title_fts.source_id "
    "WHERE source_title_fts MATCH ?1 AND (?2 IS NULL OR EXISTS "
    "(SELECT 1 FROM source_notebook sn WHERE sn.source_id = s.id AND sn.notebook_id = ?2)) "
    "ORDER BY rank LIMIT ?3";

constexpr std::string_view kNoteSearch =
    "SELECT 'note', n.id, coalesce(n.notebook_id, ''), coalesce(n.title, ''), -bm25(note_fts), "
    "NULL, NULL, NULL, 'content', 0 "
    "FROM note_fts JOIN note n ON n.id = note_fts.note_id "
    "WHERE note_fts MATCH ?1 AND (?2 IS NULL OR n.notebook_id = ?2) "
    "ORDER BY rank LIMIT ?3";

std::string JoinTerms(const std::vector<const SearchTerm*>& terms, std::string_view op) {
  std::string expression;
  for (const SearchTerm* term : terms) {
    if (!expression.empty()) expression.append(" ").append(op).append(" ");
    // The surface text, not the term, goes into the expression: FTS5 runs it through the same
    // tokenizer, and Snowball stems are not always stable when stemmed a second time.
    search::AppendFts5String(term->surface, expression);
  }
  return expression;
}

}  // namespace

struct TermFrequencyCache {
  struct Entry {
    int64_t rows;
    std::chrono::steady_clock::time_point counted;
  };
  std::mutex mutex;
  std::unordered_map<std::string, Entry> entries;
};

std::shared_ptr<TermFrequencyCache> NewTermFrequencyCache() { return std::make_shared<TermFrequencyCache>(); }

namespace {

// The number of chunks that contain `term`.
Result<int64_t> ChunkFrequency(Connection& db, TermFrequencyCache& cache, const std::string& term) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(cache.mutex);
    auto found = cache.entries.find(term);
    if (found != cache.entries.end() && now - found->second.counted < kFrequencyMaxAge) return found->second.rows;
  }
  ON_ASSIGN_OR_RETURN(auto frequency, db.Prepare("SELECT doc FROM temp.chunk_vocab WHERE term = ?1"));
  frequency.Bind(1, term);
  ON_ASSIGN_OR_RETURN(bool found, frequency.Step());
  const int64_t rows = found ? frequency.Int(0) : 0;
  if (rows >= kCachedFrequency) {
    std::lock_guard lock(cache.mutex);
    if (cache.entries.size() >= kMaxCachedTerms) cache.entries.clear();
    cache.entries[term] = {rows, now};
  }
  return rows;
}

struct ChunkPlan {
  std::string match;     // empty when no word occurs in any chunk
  std::string rank;      // the on_bm25 call for `match`
  std::string fallback;  // the plain OR, when `match` leaves words out; empty otherwise
  std::string fallback_rank;
};

// Appends the words to `expression` joined with `op`, and their row counts to `rank`.
void AppendPhrases(const std::vector<std::pair<int64_t, const SearchTerm*>>& words, std::string_view op,
                   std::string& expression, std::string& rank) {
  bool first = true;
  for (const auto& [rows, term] : words) {
    if (!first) expression.append(" ").append(op).append(" ");
    first = false;
    search::AppendFts5String(term->surface, expression);  // the surface text, as in JoinTerms
    if (rank.back() != '(') rank += ", ";
    rank += std::to_string(rows);
  }
}

Result<ChunkPlan> PlanChunkQuery(Connection& db, TermFrequencyCache& cache, const std::vector<SearchTerm>& terms) {
  std::vector<int64_t> rows;
  for (const SearchTerm& term : terms) {
    ON_ASSIGN_OR_RETURN(int64_t count, ChunkFrequency(db, cache, term.term));
    rows.push_back(count);
  }
  const auto [present, rare] = ChooseChunkQueryWords(terms, rows);
  ChunkPlan plan;
  if (present.empty()) return plan;
  const std::string call = std::string(kFts5RankFunctionName) + "(";
  plan.rank = call;
  if (present.size() == 1) {
    AppendPhrases(present, "OR", plan.match, plan.rank);
  } else {
    // Chunks with every word also match each word's own phrase, so they count twice and rank
    // above chunks that have only some of the words.
    plan.match.push_back('(');
    AppendPhrases(present, "AND", plan.match, plan.rank);
    plan.match += ")";
    if (!rare.empty()) {
      plan.match += " OR ";
      AppendPhrases(rare, "OR", plan.match, plan.rank);
    }
    if (rare.size() < present.size()) {
      plan.fallback_rank = call;
      AppendPhrases(present, "OR", plan.fallback, plan.fallback_rank);
      plan.fallback_rank += ")";
    }
  }
  plan.rank += ")";
  return plan;
}

// `rank` is bound to ?4 when the statement has it.
Status RunSearch(Connection& db, std::string_view sql, std::string_view match, const TextSearchQuery& query,
                 std::vector<TextSearchHit>& hits, std::string_view rank = {}) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(sql));
  statement.Bind(1, match).BindOptional(2, query.notebook_id).Bind(3, static_cast<int64_t>(query.limit));
  if (!rank.empty()) statement.Bind(4, rank);
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
    hit.row = statement.Int(9);
    hits.push_back(std::move(hit));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<TextSearchHit>> SqliteStorage::SearchText(const TextSearchQuery& query) {
  metrics::DbTimer timer("search");
  std::vector<TextSearchHit> hits;
  if (query.terms.empty() || query.limit <= 0) return hits;

  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  if (query.notebook_id) {
    ON_ASSIGN_OR_RETURN(auto exists, reader->Prepare("SELECT 1 FROM notebook WHERE id = ?1"));
    exists.Bind(1, *query.notebook_id);
    ON_ASSIGN_OR_RETURN(bool found, exists.Step());
    if (!found) return NotFound("notebook " + *query.notebook_id + " was not found");
  }
  std::vector<const SearchTerm*> terms;
  for (const SearchTerm& term : query.terms) terms.push_back(&term);
  const std::string any_term = JoinTerms(terms, "OR");  // titles and notes are small: a plain OR

  if (query.search_sources) {
    ON_ASSIGN_OR_RETURN(ChunkPlan plan, PlanChunkQuery(*reader, *term_frequencies_, query.terms));
    const std::string_view chunk_sql = query.notebook_id ? kChunkSearch : kChunkSearchUnscoped;
    const size_t before = hits.size();
    if (!plan.match.empty()) ON_RETURN_IF_ERROR(RunSearch(*reader, chunk_sql, plan.match, query, hits, plan.rank));
    if (hits.size() == before && !plan.fallback.empty()) {
      ON_RETURN_IF_ERROR(RunSearch(*reader, chunk_sql, plan.fallback, query, hits, plan.fallback_rank));
    }
    ON_RETURN_IF_ERROR(RunSearch(*reader, kTitleSearch, any_term, query, hits));
  }
  if (query.search_notes) ON_RETURN_IF_ERROR(RunSearch(*reader, kNoteSearch, any_term, query, hits));

  std::stable_sort(hits.begin(), hits.end(), [](const TextSearchHit& a, const TextSearchHit& b) { return a.score > b.score; });
  return hits;
}

Result<std::vector<std::string>> SqliteStorage::LoadSearchTexts(const std::vector<const TextSearchHit*>& hits) {
  metrics::DbTimer timer("search_texts");
  std::vector<std::string> texts(hits.size());
  if (hits.empty()) return texts;
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto chunk, reader->Prepare("SELECT content FROM source_chunk WHERE id = ?1"));
  ON_ASSIGN_OR_RETURN(auto note, reader->Prepare("SELECT coalesce(content, '') FROM note WHERE id = ?1"));
  for (size_t i = 0; i < hits.size(); ++i) {
    const TextSearchHit& hit = *hits[i];
    if (hit.match_field == "title") {
      texts[i] = hit.title;
      continue;
    }
    Statement& statement = hit.match_field == "chunk" ? chunk : note;
    if (hit.match_field == "chunk") {
      statement.Bind(1, hit.row);
    } else {
      statement.Bind(1, hit.id);
    }
    ON_ASSIGN_OR_RETURN(bool found, statement.Step());
    if (found) texts[i] = statement.Text(0);
    statement.Reset();
  }
  return texts;
}

}  // namespace on::storage::sqlite
