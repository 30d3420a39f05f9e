// Keyword search on PostgreSQL, ranked like the SQLite backend (storage/sqlite/sqlite_search.cc)
// so both return the same hits in the same order with the same scores.
//
// Matching uses the GIN indexes of migration 0003: each query word becomes a tsquery phrase of
// the terms the project's tokenizer gives for it, as FTS5 tokenizes a quoted string. Each matched
// row comes back with its token count and the positions of the query's lexemes (a few bytes),
// and is ranked here with the arithmetic of FTS5, so the scores are the same doubles as SQLite's.
// A phrase's frequency is the number of places where its terms stand at consecutive positions.
// Chunks are ranked like on_bm25 (storage/sqlite/fts5_rank.cc), with the plan of the SQLite
// chunk query: every word AND-ed, plus the rare words OR-ed within kRankedRowBudget rows, and a
// plain OR only when that finds nothing. As in FTS5, a phrase of the AND group counts no instances
// in a row that lacks one of the other words. Titles and notes are ranked like FTS5's bm25():
// document frequencies counted exactly, frequencies summed over a note's title and content.
//
// NOTE: a tsvector keeps at most 256 positions per lexeme and positions up to 16383 (tsvector.h),
// so a word repeated more often than that in one chunk, title or note ranks lower than in SQLite.
// NOTE: equal scores come in row order for chunks, as in SQLite. Titles and notes have no row
// number here, so equal scores come by creation time (titles) or update time (notes). That is
// SQLite's order unless a title was renamed or a note edited after a later one was written.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <mutex>
#include <set>
#include <unordered_map>

#include "core/metrics.h"
#include "storage/chunk_query_words.h"
#include "storage/postgres/postgres_storage.h"

namespace on::storage::postgres {

struct SearchStatistics {
  struct Count {
    int64_t rows = 0;
    int64_t tokens = 0;
    std::chrono::steady_clock::time_point counted;
  };
  std::mutex mutex;
  std::unordered_map<std::string, Count> chunk_terms;  // chunks per term (`tokens` is unused)
  std::unordered_map<int, Count> totals;               // per SearchedTable
};

std::shared_ptr<SearchStatistics> NewSearchStatistics() { return std::make_shared<SearchStatistics>(); }

namespace {

// As in sqlite_search.cc: counts of at least kCachedFrequency rows are kept for kFrequencyMaxAge,
// smaller ones are counted on every query. Here this applies to the row and token totals of each
// table too, which PostgreSQL can only count by reading every row.
constexpr int64_t kCachedFrequency = 1000;
constexpr auto kFrequencyMaxAge = std::chrono::seconds(60);
constexpr size_t kMaxCachedTerms = 100'000;

// BM25's parameters as FTS5's bm25() and on_bm25 fix them, and bm25()'s floor for the weight of
// a phrase found in more than half of the rows.
constexpr double kK1 = 1.2;
constexpr double kB = 0.75;
constexpr double kMinimumIdf = 1e-6;

enum class SearchedTable { kChunks, kTitles, kNotes };

// One query word as FTS5 matches a quoted string: its terms at consecutive positions.
struct Phrase {
  std::vector<std::string> terms;  // empty when the word gives no term; it then matches nothing
  int64_t rows = 0;                // rows that contain it, for its idf
  bool in_all_words = false;       // part of the AND group of the chunk plan
};

struct Totals {
  int64_t rows = 0;
  int64_t tokens = 0;
};

// Appends `text` as a quoted lexeme of tsvector or tsquery input. A backslash escapes quotes and
// backslashes, so no byte of the term is read as an operator.
void AppendQuotedLexeme(std::string_view text, std::string& out) {
  out += '\'';
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
}

// The phrase as tsquery text: 'a' or ('a' <-> 'b'). Empty for a phrase without terms.
std::string PhraseQuery(const Phrase& phrase) {
  std::string query;
  for (const std::string& term : phrase.terms) {
    if (!query.empty()) query += " <-> ";
    AppendQuotedLexeme(term, query);
  }
  if (phrase.terms.size() > 1) query = "(" + query + ")";
  return query;
}

// The tsquery of the phrases: the AND of those in the AND group, OR-ed with the others. A group
// containing a phrase without terms can never match and is left out. Empty when nothing can match.
std::string MatchQuery(const std::vector<Phrase>& phrases) {
  std::string all_words;
  bool all_words_possible = true;
  std::string any_word;
  for (const Phrase& phrase : phrases) {
    const std::string query = PhraseQuery(phrase);
    if (phrase.in_all_words) {
      if (query.empty()) all_words_possible = false;
      if (!all_words.empty()) all_words += " & ";
      all_words += query;
    } else if (!query.empty()) {
      if (!any_word.empty()) any_word += " | ";
      any_word += query;
    }
  }
  std::string match;
  if (all_words_possible && !all_words.empty()) match = "(" + all_words + ")";
  if (!any_word.empty()) match += (match.empty() ? "" : " | ") + any_word;
  return match;
}

// Appends `value` as an element of a PostgreSQL array literal, quoted so that commas, braces,
// quotes, backslashes and the word NULL stay data.
void AppendArrayElement(std::string_view value, std::string& out) {
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

std::string TextArray(const std::vector<std::string>& values) {
  std::string array = "{";
  for (const std::string& value : values) {
    if (array.size() > 1) array += ',';
    AppendArrayElement(value, array);
  }
  return array + "}";
}

// Every distinct term of the phrases, as a text[] literal.
std::string PhraseTerms(const std::vector<Phrase>& phrases) {
  std::set<std::string> terms;
  for (const Phrase& phrase : phrases) terms.insert(phrase.terms.begin(), phrase.terms.end());
  return TextArray(std::vector<std::string>(terms.begin(), terms.end()));
}

// The query's lexemes of one tsvector with their positions, as tsvector text: setweight marks
// the lexemes of $2 and ts_filter keeps only those, so the row sends a few bytes.
std::string QueryLexemes(std::string_view vector) {
  return "ts_filter(setweight(" + std::string(vector) + ", 'A', $2::text[]), '{a}')::text";
}

// Each statement returns every matching row with its token count, its query lexemes and the key
// that orders equal scores. $1 is the match tsquery, $2 the query's terms, $3 the optional
// notebook. The rows are ranked here, not in SQL, so that the arithmetic is the one of FTS5.
const std::string kChunkSearch =
    "SELECT c.id, s.id, coalesce(s.title, ''), c.chunk_index, c.page, c.search_tokens, " +
    QueryLexemes("c.search_vector") +
    " FROM source_chunk c JOIN source s ON s.id = c.source_id WHERE c.search_vector @@ $1::tsquery "
    "AND ($3::text IS NULL OR EXISTS "
    "(SELECT 1 FROM source_notebook sn WHERE sn.source_id = c.source_id AND sn.notebook_id = $3))";

const std::string kTitleSearch =
    "SELECT s.id, s.title, s.created, s.title_tokens, " + QueryLexemes("s.title_vector") +
    " FROM source s WHERE s.title_vector @@ $1::tsquery AND s.title IS NOT NULL AND ($3::text IS NULL OR EXISTS "
    "(SELECT 1 FROM source_notebook sn WHERE sn.source_id = s.id AND sn.notebook_id = $3))";

// The match runs on the concatenated vectors because the GIN index covers that expression. A
// phrase may then match across the end of the title and the start of the content, which FTS5
// does not do, so rows where no phrase occurs inside one column are dropped when ranked.
const std::string kNoteSearch =
    "SELECT n.id, coalesce(n.notebook_id, ''), coalesce(n.title, ''), n.updated, n.title_tokens + n.content_tokens, " +
    QueryLexemes("n.title_vector") + ", " + QueryLexemes("n.content_vector") +
    " FROM note n WHERE (n.title_vector || n.content_vector) @@ $1::tsquery "
    "AND ($3::text IS NULL OR n.notebook_id = $3)";

// The number of rows matching each tsquery of $1 (a text[]), in one statement.
constexpr std::string_view kChunkFrequencies =
    "SELECT (SELECT count(*) FROM source_chunk WHERE search_vector @@ t.q) "
    "FROM unnest($1::text[]::tsquery[]) WITH ORDINALITY AS t(q, i) ORDER BY t.i";
constexpr std::string_view kTitleFrequencies =
    "SELECT (SELECT count(*) FROM source WHERE title_vector @@ t.q AND title IS NOT NULL) "
    "FROM unnest($1::text[]::tsquery[]) WITH ORDINALITY AS t(q, i) ORDER BY t.i";
constexpr std::string_view kNoteFrequencies =
    "SELECT (SELECT count(*) FROM note WHERE (title_vector || content_vector) @@ t.q "
    "AND (title_vector @@ t.q OR content_vector @@ t.q)) "
    "FROM unnest($1::text[]::tsquery[]) WITH ORDINALITY AS t(q, i) ORDER BY t.i";

// Lexemes with their positions, sorted, parsed from tsvector text ("'a':1A,4A 'b':2A").
using LexemePositions = std::vector<std::pair<std::string, std::vector<int>>>;

LexemePositions ParseTsvector(std::string_view text) {
  LexemePositions lexemes;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '\'') {
      ++i;
      continue;
    }
    // The output doubles quotes and backslashes inside a lexeme.
    std::string lexeme;
    for (++i; i < text.size(); ++i) {
      if ((text[i] == '\'' || text[i] == '\\') && i + 1 < text.size() && text[i + 1] == text[i]) {
        lexeme += text[i++];
      } else if (text[i] == '\'') {
        break;
      } else {
        lexeme += text[i];
      }
    }
    ++i;
    std::vector<int> positions;
    if (i < text.size() && text[i] == ':') {
      ++i;
      while (i < text.size() && text[i] != ' ') {
        int position = 0;
        auto [next, error] = std::from_chars(text.data() + i, text.data() + text.size(), position);
        if (error != std::errc()) break;
        positions.push_back(position);
        i = static_cast<size_t>(next - text.data());
        while (i < text.size() && text[i] != ',' && text[i] != ' ') ++i;  // the weight letter
        if (i < text.size() && text[i] == ',') ++i;
      }
    }
    lexemes.emplace_back(std::move(lexeme), std::move(positions));
  }
  return lexemes;
}

const std::vector<int>* FindPositions(const LexemePositions& lexemes, const std::string& lexeme) {
  for (const auto& [name, positions] : lexemes) {
    if (name == lexeme) return &positions;
  }
  return nullptr;
}

// How often `phrase` occurs in one column: the positions where its terms follow each other.
int PhraseFrequency(const Phrase& phrase, const LexemePositions& column) {
  if (phrase.terms.empty()) return 0;
  std::vector<const std::vector<int>*> positions;
  for (const std::string& term : phrase.terms) {
    const std::vector<int>* found = FindPositions(column, term);
    if (found == nullptr) return 0;
    positions.push_back(found);
  }
  if (positions.size() == 1) return static_cast<int>(positions[0]->size());
  int frequency = 0;
  for (int start : *positions[0]) {
    bool follows = true;
    for (size_t k = 1; k < positions.size() && follows; ++k) {
      follows = std::binary_search(positions[k]->begin(), positions[k]->end(), start + static_cast<int>(k));
    }
    if (follows) ++frequency;
  }
  return frequency;
}

// Each phrase's frequency in a row of `columns`, with FTS5's rule for the AND group: when a phrase
// of the group is missing, the group did not match and none of its phrases counts.
std::vector<int> PhraseFrequencies(const std::vector<Phrase>& phrases, const std::vector<LexemePositions>& columns) {
  std::vector<int> frequencies(phrases.size(), 0);
  bool all_words = true;
  for (size_t i = 0; i < phrases.size(); ++i) {
    for (const LexemePositions& column : columns) frequencies[i] += PhraseFrequency(phrases[i], column);
    if (phrases[i].in_all_words && frequencies[i] == 0) all_words = false;
  }
  if (!all_words) {
    for (size_t i = 0; i < phrases.size(); ++i) {
      if (phrases[i].in_all_words) frequencies[i] = 0;
    }
  }
  return frequencies;
}

// on_bm25 of fts5_rank.cc, operation by operation, so the doubles are the same.
double ChunkScore(const std::vector<double>& idf, const std::vector<int>& frequencies, int64_t length,
                  double average_length) {
  const double normalization = kK1 * (1 - kB + kB * static_cast<double>(length) / average_length);
  double score = 0;
  for (size_t phrase = 0; phrase < frequencies.size(); ++phrase) {
    const double frequency = frequencies[phrase];
    if (frequency > 0) score += idf[phrase] * frequency * (kK1 + 1) / (frequency + normalization);
  }
  return score;
}

// FTS5's bm25() (fts5_aux.c of SQLite 3.40) with every column weighing 1, operation by operation.
double Bm25Score(const std::vector<double>& idf, const std::vector<int>& frequencies, int64_t length,
                 double average_length) {
  const double document_length = static_cast<double>(length);
  double score = 0;
  for (size_t phrase = 0; phrase < frequencies.size(); ++phrase) {
    const double frequency = frequencies[phrase];
    score += idf[phrase] * ((frequency * (kK1 + 1.0)) / (frequency + kK1 * (1 - kB + kB * document_length / average_length)));
  }
  return score;
}

std::string_view TotalsSql(SearchedTable table) {
  switch (table) {
    case SearchedTable::kChunks:
      return "SELECT count(*), coalesce(sum(search_tokens), 0) FROM source_chunk";
    case SearchedTable::kTitles:
      // FTS5 indexes only the sources that have a title.
      return "SELECT count(*), coalesce(sum(title_tokens), 0) FROM source WHERE title IS NOT NULL";
    case SearchedTable::kNotes:
      return "SELECT count(*), coalesce(sum(title_tokens + content_tokens), 0) FROM note";
  }
  return {};
}

// The number of rows and tokens of one searched table, as FTS5's xRowCount and xColumnTotalSize.
Result<Totals> TableTotals(Connection& db, SearchStatistics& statistics, SearchedTable table) {
  const auto now = std::chrono::steady_clock::now();
  const int key = static_cast<int>(table);
  {
    std::lock_guard lock(statistics.mutex);
    auto found = statistics.totals.find(key);
    if (found != statistics.totals.end() && now - found->second.counted < kFrequencyMaxAge) {
      return Totals{found->second.rows, found->second.tokens};
    }
  }
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(TotalsSql(table)));
  const Totals totals{rows.Int(0, 0), rows.Int(0, 1)};
  if (totals.rows >= kCachedFrequency) {
    std::lock_guard lock(statistics.mutex);
    statistics.totals[key] = {totals.rows, totals.tokens, now};
  }
  return totals;
}

// For each tsquery of `queries`, the number of rows of the statement's table that match it.
Result<std::vector<int64_t>> CountMatches(Connection& db, std::string_view sql, const std::vector<std::string>& queries) {
  std::vector<int64_t> counts;
  if (queries.empty()) return counts;
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(sql, Params().Add(TextArray(queries))));
  for (int row = 0; row < rows.size(); ++row) counts.push_back(rows.Int(row, 0));
  return counts;
}

// The number of chunks that contain each term, from the cache where it has a fresh count.
Result<std::vector<int64_t>> ChunkFrequencies(Connection& db, SearchStatistics& statistics,
                                              const std::vector<SearchTerm>& terms) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<int64_t> frequencies(terms.size(), -1);
  std::vector<size_t> uncounted;
  {
    std::lock_guard lock(statistics.mutex);
    for (size_t i = 0; i < terms.size(); ++i) {
      // The tokenizer never makes such a term, no chunk contains one, and neither fits in a tsquery.
      if (terms[i].term.empty() || terms[i].term.find('\0') != std::string::npos) {
        frequencies[i] = 0;
        continue;
      }
      auto found = statistics.chunk_terms.find(terms[i].term);
      if (found != statistics.chunk_terms.end() && now - found->second.counted < kFrequencyMaxAge) {
        frequencies[i] = found->second.rows;
      } else {
        uncounted.push_back(i);
      }
    }
  }
  std::vector<std::string> queries;
  for (size_t i : uncounted) {
    std::string query;
    AppendQuotedLexeme(terms[i].term, query);
    queries.push_back(std::move(query));
  }
  ON_ASSIGN_OR_RETURN(auto counts, CountMatches(db, kChunkFrequencies, queries));
  std::lock_guard lock(statistics.mutex);
  for (size_t k = 0; k < uncounted.size(); ++k) {
    frequencies[uncounted[k]] = counts[k];
    if (counts[k] >= kCachedFrequency) {
      if (statistics.chunk_terms.size() >= kMaxCachedTerms) statistics.chunk_terms.clear();
      statistics.chunk_terms[terms[uncounted[k]].term] = {counts[k], 0, now};
    }
  }
  return frequencies;
}

Phrase MakePhrase(const SearchTerm& term, const search::Tokenizer& tokenizer, int64_t rows, bool in_all_words) {
  Phrase phrase;
  // The surface text, as sqlite_search.cc puts it into the FTS5 expression, which tokenizes it.
  for (search::Token& token : tokenizer.Tokenize(term.surface)) phrase.terms.push_back(std::move(token.term));
  phrase.rows = rows;
  phrase.in_all_words = in_all_words;
  return phrase;
}

struct ChunkPlan {
  std::vector<Phrase> match;     // empty when no word occurs in any chunk
  std::vector<Phrase> fallback;  // the plain OR, when `match` leaves words out; empty otherwise
};

// The plan of PlanChunkQuery in sqlite_search.cc, with its phrases in the same order.
Result<ChunkPlan> PlanChunkQuery(Connection& db, SearchStatistics& statistics, const std::vector<SearchTerm>& terms,
                                 const search::Tokenizer& tokenizer) {
  ON_ASSIGN_OR_RETURN(auto frequencies, ChunkFrequencies(db, statistics, terms));
  const auto [present, rare] = ChooseChunkQueryWords(terms, frequencies);
  ChunkPlan plan;
  if (present.empty()) return plan;
  if (present.size() == 1) {
    plan.match.push_back(MakePhrase(*present[0].second, tokenizer, present[0].first, false));
    return plan;
  }
  for (const auto& [rows, term] : present) plan.match.push_back(MakePhrase(*term, tokenizer, rows, true));
  for (const auto& [rows, term] : rare) plan.match.push_back(MakePhrase(*term, tokenizer, rows, false));
  if (rare.size() < present.size()) {
    for (const auto& [rows, term] : present) plan.fallback.push_back(MakePhrase(*term, tokenizer, rows, false));
  }
  return plan;
}

// on_bm25's idf: the given row count clamped to the table's, floored at kMinimumIdf.
double ChunkIdf(int64_t containing, int64_t rows) {
  const double count = std::clamp(static_cast<double>(containing), 0.0, static_cast<double>(rows));
  const double idf = std::log((static_cast<double>(rows) - count + 0.5) / (count + 0.5));
  return std::max(idf, kMinimumIdf);
}

// bm25()'s idf, which replaces a weight of zero or less by kMinimumIdf.
double Bm25Idf(int64_t containing, int64_t rows) {
  const double idf =
      std::log((static_cast<double>(rows) - static_cast<double>(containing) + 0.5) / (static_cast<double>(containing) + 0.5));
  return idf <= 0.0 ? kMinimumIdf : idf;
}

// A matched row before ranking: its hit, its token count, the key that orders equal scores
// (the row number, creation or update time) and its query lexemes per column.
struct Candidate {
  TextSearchHit hit;
  int64_t length = 0;
  std::string tie_key;
  std::vector<LexemePositions> columns;
};

// Scores the candidates, drops those that contain no phrase, and appends the best `limit` to
// `hits` in the order of FTS5's ORDER BY rank: best first, equal scores in row order.
void AppendBest(std::vector<Candidate>& candidates, const std::vector<Phrase>& phrases, const std::vector<double>& idf,
                double average_length, bool chunk_rank, int limit, std::vector<TextSearchHit>& hits) {
  std::vector<Candidate*> ranked;
  for (Candidate& candidate : candidates) {
    const std::vector<int> frequencies = PhraseFrequencies(phrases, candidate.columns);
    if (std::all_of(frequencies.begin(), frequencies.end(), [](int frequency) { return frequency == 0; })) continue;
    candidate.hit.score = chunk_rank ? ChunkScore(idf, frequencies, candidate.length, average_length)
                                     : Bm25Score(idf, frequencies, candidate.length, average_length);
    ranked.push_back(&candidate);
  }
  auto better = [](const Candidate* a, const Candidate* b) {
    if (a->hit.score != b->hit.score) return a->hit.score > b->hit.score;
    if (a->tie_key != b->tie_key) return a->tie_key < b->tie_key;
    return a->hit.id < b->hit.id;
  };
  const size_t kept = std::min(ranked.size(), static_cast<size_t>(limit));
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(kept), ranked.end(), better);
  for (size_t i = 0; i < kept; ++i) hits.push_back(std::move(ranked[i]->hit));
}

// Row numbers as text that sorts like the numbers.
std::string RowKey(int64_t row) {
  std::string digits = std::to_string(row);
  return std::string(20 - std::min<size_t>(digits.size(), 20), '0') + digits;
}

Params SearchParams(const std::string& match, const std::vector<Phrase>& phrases, const TextSearchQuery& query) {
  Params params;
  params.Add(match).Add(PhraseTerms(phrases)).Add(query.notebook_id);
  return params;
}

// on_bm25's average row length, 1 for an empty table.
double ChunkAverageLength(const Totals& totals) {
  const double average =
      totals.rows > 0 ? static_cast<double>(totals.tokens) / static_cast<double>(totals.rows) : 1;
  return average <= 0 ? 1 : average;
}

Status SearchChunks(Connection& db, SearchStatistics& statistics, const search::Tokenizer& tokenizer,
                    const TextSearchQuery& query, std::vector<TextSearchHit>& hits) {
  ON_ASSIGN_OR_RETURN(ChunkPlan plan, PlanChunkQuery(db, statistics, query.terms, tokenizer));
  if (plan.match.empty()) return Status::Ok();
  ON_ASSIGN_OR_RETURN(Totals totals, TableTotals(db, statistics, SearchedTable::kChunks));
  const double average_length = ChunkAverageLength(totals);

  auto run = [&](const std::vector<Phrase>& phrases) -> Status {
    const std::string match = MatchQuery(phrases);
    if (match.empty()) return Status::Ok();
    ON_ASSIGN_OR_RETURN(auto rows, db.Query(kChunkSearch, SearchParams(match, phrases, query)));
    std::vector<Candidate> candidates(static_cast<size_t>(rows.size()));
    for (int row = 0; row < rows.size(); ++row) {
      Candidate& candidate = candidates[static_cast<size_t>(row)];
      candidate.hit.type = "source";
      candidate.hit.row = rows.Int(row, 0);
      candidate.hit.id = rows.Text(row, 1);
      candidate.hit.parent_id = candidate.hit.id;
      candidate.hit.title = rows.Text(row, 2);
      candidate.hit.chunk_index = rows.Int(row, 3);
      if (auto page = rows.OptionalInt(row, 4)) candidate.hit.page = static_cast<int>(*page);
      candidate.hit.match_field = "chunk";
      candidate.length = rows.Int(row, 5);
      candidate.columns.push_back(ParseTsvector(rows.Text(row, 6)));
      candidate.tie_key = RowKey(candidate.hit.row);
    }
    std::vector<double> idf;
    for (const Phrase& phrase : phrases) idf.push_back(ChunkIdf(phrase.rows, totals.rows));
    AppendBest(candidates, phrases, idf, average_length, true, query.limit, hits);
    return Status::Ok();
  };
  const size_t before = hits.size();
  ON_RETURN_IF_ERROR(run(plan.match));
  if (hits.size() == before && !plan.fallback.empty()) ON_RETURN_IF_ERROR(run(plan.fallback));
  return Status::Ok();
}

// Titles and notes: every word OR-ed, ranked like bm25() with exact document frequencies.
Status SearchTable(Connection& db, SearchStatistics& statistics, const search::Tokenizer& tokenizer,
                   const TextSearchQuery& query, SearchedTable table, std::vector<TextSearchHit>& hits,
                   std::vector<Phrase>& phrases) {
  phrases.clear();
  std::vector<std::string> queries;
  for (const SearchTerm& term : query.terms) {
    phrases.push_back(MakePhrase(term, tokenizer, 0, false));
    const std::string phrase_query = PhraseQuery(phrases.back());
    if (!phrase_query.empty()) queries.push_back(phrase_query);
  }
  const std::string match = MatchQuery(phrases);
  if (match.empty()) return Status::Ok();

  const bool titles = table == SearchedTable::kTitles;
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(titles ? kTitleSearch : kNoteSearch, SearchParams(match, phrases, query)));
  if (rows.empty()) return Status::Ok();
  std::vector<Candidate> candidates(static_cast<size_t>(rows.size()));
  for (int row = 0; row < rows.size(); ++row) {
    Candidate& candidate = candidates[static_cast<size_t>(row)];
    candidate.hit.id = rows.Text(row, 0);
    if (titles) {
      candidate.hit.type = "source";
      candidate.hit.parent_id = candidate.hit.id;
      candidate.hit.title = rows.Text(row, 1);
      candidate.tie_key = rows.Text(row, 2);
      candidate.hit.match_field = "title";
      candidate.length = rows.Int(row, 3);
      candidate.columns.push_back(ParseTsvector(rows.Text(row, 4)));
    } else {
      candidate.hit.type = "note";
      candidate.hit.parent_id = rows.Text(row, 1);
      candidate.hit.title = rows.Text(row, 2);
      candidate.tie_key = rows.Text(row, 3);
      candidate.hit.match_field = "content";
      candidate.length = rows.Int(row, 4);
      candidate.columns.push_back(ParseTsvector(rows.Text(row, 5)));
      candidate.columns.push_back(ParseTsvector(rows.Text(row, 6)));
    }
  }

  ON_ASSIGN_OR_RETURN(auto counts, CountMatches(db, titles ? kTitleFrequencies : kNoteFrequencies, queries));
  ON_ASSIGN_OR_RETURN(Totals totals, TableTotals(db, statistics, table));
  std::vector<double> idf;
  size_t next_count = 0;
  for (Phrase& phrase : phrases) {
    if (!phrase.terms.empty()) phrase.rows = counts[next_count++];
    idf.push_back(Bm25Idf(phrase.rows, totals.rows));
  }
  // bm25() divides by the average without a guard. Every row that matches has a token.
  const double average_length =
      totals.rows > 0 ? static_cast<double>(totals.tokens) / static_cast<double>(totals.rows) : 1;
  AppendBest(candidates, phrases, idf, average_length, false, query.limit, hits);
  return Status::Ok();
}

// The title with each match between \x01 and \x02, as FTS5's highlight() marks it: a phrase's
// instance covers its terms, and overlapping instances merge into one mark.
std::string HighlightTitle(const std::string& title, const std::vector<Phrase>& phrases,
                           const search::Tokenizer& tokenizer) {
  const std::vector<search::Token> tokens = tokenizer.Tokenize(title);
  std::vector<std::pair<size_t, size_t>> instances;  // first and last token
  for (size_t start = 0; start < tokens.size(); ++start) {
    for (const Phrase& phrase : phrases) {
      if (phrase.terms.empty() || start + phrase.terms.size() > tokens.size()) continue;
      bool matches = true;
      for (size_t k = 0; k < phrase.terms.size() && matches; ++k) matches = tokens[start + k].term == phrase.terms[k];
      if (matches) instances.emplace_back(start, start + phrase.terms.size() - 1);
    }
  }
  std::sort(instances.begin(), instances.end());

  std::string marked;
  size_t copied = 0;
  for (size_t i = 0; i < instances.size();) {
    const size_t first = instances[i].first;
    size_t last = instances[i].second;
    for (++i; i < instances.size() && instances[i].first <= last; ++i) last = std::max(last, instances[i].second);
    marked.append(title, copied, tokens[first].begin - copied);
    marked += '\x01';
    marked.append(title, tokens[first].begin, tokens[last].end - tokens[first].begin);
    marked += '\x02';
    copied = tokens[last].end;
  }
  marked.append(title, copied);
  return marked;
}

}  // namespace

Result<std::vector<TextSearchHit>> PostgresStorage::SearchText(const TextSearchQuery& query) {
  metrics::DbTimer timer("search");
  std::vector<TextSearchHit> hits;
  if (query.terms.empty() || query.limit <= 0) return hits;

  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  if (query.notebook_id) {
    ON_ASSIGN_OR_RETURN(auto found, db->Query("SELECT 1 FROM notebook WHERE id = $1", Params().Add(*query.notebook_id)));
    if (found.empty()) return NotFound("notebook " + *query.notebook_id + " was not found");
  }
  // FTS5 reads its expression as a C string, so SQLite rejects a word that contains a NUL byte
  // as an unterminated string. The same query is rejected here.
  if (query.search_sources || query.search_notes) {
    for (const SearchTerm& term : query.terms) {
      if (term.surface.find('\0') != std::string::npos) return InvalidInput("the search query cannot be parsed");
    }
  }

  if (query.search_sources) {
    ON_RETURN_IF_ERROR(SearchChunks(*db, *search_statistics_, tokenizer_, query, hits));
    const size_t first_title = hits.size();
    std::vector<Phrase> phrases;
    ON_RETURN_IF_ERROR(SearchTable(*db, *search_statistics_, tokenizer_, query, SearchedTable::kTitles, hits, phrases));
    for (size_t i = first_title; i < hits.size(); ++i) hits[i].snippet = HighlightTitle(hits[i].title, phrases, tokenizer_);
  }
  if (query.search_notes) {
    std::vector<Phrase> phrases;
    ON_RETURN_IF_ERROR(SearchTable(*db, *search_statistics_, tokenizer_, query, SearchedTable::kNotes, hits, phrases));
  }

  std::stable_sort(hits.begin(), hits.end(), [](const TextSearchHit& a, const TextSearchHit& b) { return a.score > b.score; });
  return hits;
}

Result<std::vector<std::string>> PostgresStorage::LoadSearchTexts(const std::vector<const TextSearchHit*>& hits) {
  metrics::DbTimer timer("search_texts");
  std::vector<std::string> texts(hits.size());
  if (hits.empty()) return texts;

  std::vector<std::string> chunk_rows;
  std::vector<std::string> note_ids;
  for (const TextSearchHit* hit : hits) {
    if (hit->match_field == "title") continue;
    if (hit->match_field == "chunk") {
      chunk_rows.push_back(std::to_string(hit->row));
    } else {
      note_ids.push_back(hit->id);
    }
  }
  std::unordered_map<int64_t, std::string> chunks;
  std::unordered_map<std::string, std::string> notes;
  if (!chunk_rows.empty() || !note_ids.empty()) {
    ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
    if (!chunk_rows.empty()) {
      ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT id, content FROM source_chunk WHERE id = ANY($1::bigint[])",
                                               Params().Add(TextArray(chunk_rows))));
      for (int row = 0; row < rows.size(); ++row) chunks.emplace(rows.Int(row, 0), rows.Text(row, 1));
    }
    if (!note_ids.empty()) {
      ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT id, content FROM note WHERE id = ANY($1::text[])",
                                               Params().Add(TextArray(note_ids))));
      for (int row = 0; row < rows.size(); ++row) notes.emplace(rows.Text(row, 0), rows.Text(row, 1));
    }
  }

  for (size_t i = 0; i < hits.size(); ++i) {
    const TextSearchHit& hit = *hits[i];
    if (hit.match_field == "title") {
      texts[i] = hit.title;
    } else if (hit.match_field == "chunk") {
      if (auto found = chunks.find(hit.row); found != chunks.end()) texts[i] = found->second;
    } else if (auto found = notes.find(hit.id); found != notes.end()) {
      texts[i] = found->second;
    }
  }
  return texts;
}

}  // namespace on::storage::postgres
