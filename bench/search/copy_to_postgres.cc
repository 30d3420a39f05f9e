// Copies the sources and chunks of an Open Notebook SQLite file into an empty PostgreSQL database,
// through the storage interface, so bench/search/run.sh can run the same queries on both backends.
// Only what keyword search reads is copied: titles, texts and chunks, without notebooks or notes.
//
//   bench_search_copy <database file> <postgresql:// URL>
#include <chrono>
#include <cstdio>
#include <string>

#include "storage/postgres/postgres_storage.h"
#include "storage/sqlite/sqlite_storage.h"

namespace {

on::Status Copy(on::storage::Storage& from, on::storage::Storage& to) {
  ON_RETURN_IF_ERROR(to.MigrateUp(std::nullopt));
  on::storage::SourceQuery existing;
  existing.limit = 1;
  ON_ASSIGN_OR_RETURN(auto present, to.ListSources(existing));
  if (!present.empty()) return on::InvalidInput("the PostgreSQL database already has sources; give an empty one");

  on::storage::SourceQuery page;
  page.limit = 100;
  page.sort = on::storage::SourceSortField::kCreated;
  page.descending = false;
  int64_t source_count = 0;
  int64_t chunk_count = 0;
  for (;; page.offset += page.limit) {
    ON_ASSIGN_OR_RETURN(auto sources, from.ListSources(page));
    for (const auto& listed : sources) {
      ON_ASSIGN_OR_RETURN(auto source, from.GetSource(listed.id, true));
      ON_ASSIGN_OR_RETURN(auto chunks, from.ListSourceChunks(source.id));
      on::storage::SourceCreate create;
      create.title = source.title;
      create.job_app = "open_notebook";
      create.job_command = "process_source";
      ON_ASSIGN_OR_RETURN(auto copy, to.CreateSource(create));
      on::storage::SourceExtraction extraction;
      extraction.title = source.title;
      extraction.full_text = source.full_text.value_or("");
      extraction.content_kind = source.content_kind.value_or("text");
      extraction.chunks = std::move(chunks);
      ++source_count;
      chunk_count += static_cast<int64_t>(extraction.chunks.size());
      ON_RETURN_IF_ERROR(to.SaveExtraction(copy.id, extraction));
    }
    if (static_cast<int>(sources.size()) < page.limit) break;
  }
  std::printf("copied %lld sources with %lld chunks\n", static_cast<long long>(source_count),
              static_cast<long long>(chunk_count));
  return on::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <database file> <postgresql:// URL of an empty database>\n", argv[0]);
    return 2;
  }
  on::storage::sqlite::ConnectionOptions sqlite_options;
  sqlite_options.path = argv[1];
  auto from = on::storage::sqlite::SqliteStorage::Open(sqlite_options);
  if (!from.ok()) {
    std::fprintf(stderr, "%s\n", from.status().ToString().c_str());
    return 1;
  }
  on::storage::postgres::PoolOptions postgres_options;
  postgres_options.connection.url = argv[2];
  postgres_options.size = 1;
  auto to = on::storage::postgres::PostgresStorage::Open(postgres_options);
  if (!to.ok()) {
    std::fprintf(stderr, "%s\n", to.status().ToString().c_str());
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  const on::Status copied = Copy(**from, **to);
  if (!copied.ok()) {
    std::fprintf(stderr, "%s\n", copied.ToString().c_str());
    return 1;
  }
  std::printf("in %.1f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return 0;
}
