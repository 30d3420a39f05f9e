// Runs keyword queries straight on an Open Notebook SQLite file or PostgreSQL database, without
// HTTP, and prints the latency percentiles: the baseline for bench/search/run.sh.
//
//   bench_search_direct <database file or postgresql:// URL> <queries file, one per line> <rounds>
//   (PER_QUERY=1 also prints each query's time in the first round to stderr; SNIPPETS=1 also loads
//   the texts of the shown hits and builds their snippets, as POST /api/search does, in blocks on
//   the same helper threads)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "core/parallel.h"
#include "search/snippet.h"
#include "search/tokenizer.h"
#include "storage/postgres/postgres_storage.h"
#include "storage/sqlite/sqlite_storage.h"

namespace {

on::Result<std::unique_ptr<on::storage::Storage>> OpenStorage(const std::string& database) {
  if (database.starts_with("postgresql://") || database.starts_with("postgres://")) {
    on::storage::postgres::PoolOptions options;
    options.connection.url = database;
    options.size = 4;  // the snippet blocks load texts on parallel connections
    ON_ASSIGN_OR_RETURN(auto storage, on::storage::postgres::PostgresStorage::Open(options));
    return std::unique_ptr<on::storage::Storage>(std::move(storage));
  }
  on::storage::sqlite::ConnectionOptions options;
  options.path = database;
  ON_ASSIGN_OR_RETURN(auto storage, on::storage::sqlite::SqliteStorage::Open(options));
  return std::unique_ptr<on::storage::Storage>(std::move(storage));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <database file or postgresql:// URL> <queries file> <rounds>\n", argv[0]);
    return 2;
  }
  auto storage = OpenStorage(argv[1]);
  if (!storage.ok()) {
    std::fprintf(stderr, "%s\n", storage.status().ToString().c_str());
    return 1;
  }

  std::vector<std::string> queries;
  std::ifstream file(argv[2]);
  for (std::string line; std::getline(file, line);) {
    if (!line.empty()) queries.push_back(line);
  }
  const int rounds = std::stoi(argv[3]);

  const on::search::Tokenizer tokenizer;
  std::vector<double> millis;
  size_t hits = 0;
  size_t snippet_bytes = 0;
  const bool with_snippets = std::getenv("SNIPPETS") != nullptr;
  for (int round = 0; round < rounds; ++round) {
    for (const auto& query : queries) {
      const auto start = std::chrono::steady_clock::now();
      on::storage::TextSearchQuery text_query;
      for (auto& term : on::search::ExtractQueryTerms(query, tokenizer)) {
        text_query.terms.push_back({std::move(term.term), std::move(term.surface)});
      }
      text_query.limit = 400;  // the rows POST /api/search requests from the index for limit 100
      auto found = (*storage)->SearchText(text_query);
      if (with_snippets && found.ok()) {
        // As the handler does: the best hit of each of the first 100 items gets a snippet.
        std::set<std::string> seen;
        std::vector<const on::storage::TextSearchHit*> snippet_hits;
        std::vector<std::string> query_terms;
        for (const auto& term : text_query.terms) query_terms.push_back(term.term);
        for (const auto& hit : *found) {
          if (seen.size() == 100) break;
          if (seen.insert(hit.id).second && hit.match_field != "title") snippet_hits.push_back(&hit);
        }
        std::vector<size_t> sizes(snippet_hits.size());
        on::ParallelBlocks(snippet_hits.size(), 16, [&](size_t begin, size_t end) {
          const std::vector<const on::storage::TextSearchHit*> block(
              snippet_hits.begin() + static_cast<std::ptrdiff_t>(begin), snippet_hits.begin() + static_cast<std::ptrdiff_t>(end));
          auto texts = (*storage)->LoadSearchTexts(block);
          if (!texts.ok()) return;
          on::search::SnippetBuilder builder(query_terms, tokenizer);
          for (size_t i = begin; i < end; ++i) sizes[i] = builder.Build((*texts)[i - begin]).size();
        });
        for (size_t size : sizes) snippet_bytes += size;
      }
      millis.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      if (found.ok()) hits += found->size();
      if (round == 0 && std::getenv("PER_QUERY") != nullptr) {
        std::fprintf(stderr, "%8.3f ms %4zu hits  %s\n", millis.back(), found.ok() ? found->size() : 0, query.c_str());
      }
    }
  }
  std::sort(millis.begin(), millis.end());
  auto percentile = [&](double p) { return millis[std::min(millis.size() - 1, static_cast<size_t>(p * millis.size()))]; };
  double total = 0;
  for (double m : millis) total += m;
  std::printf("queries=%zu p50_ms=%.3f p99_ms=%.3f mean_ms=%.3f hits=%zu snippet_bytes=%zu\n", millis.size(),
              percentile(0.50), percentile(0.99), total / static_cast<double>(millis.size()), hits, snippet_bytes);
  return 0;
}
