// Sources, their notebook links, chunks and processing jobs on PostgreSQL. Every write of a title
// or chunk also writes its keyword-index vector.
#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "storage/postgres/postgres_jobs.h"
#include "storage/postgres/postgres_storage.h"
#include "storage/postgres/tsvector.h"

namespace on::storage::postgres {
namespace {

constexpr std::string_view kSourceColumns =
    "SELECT s.id, s.title, s.topics, s.asset_url, s.asset_file_path, s.original_filename, s.content_kind, s.embed, "
    "s.transformations, s.command_id, s.created, s.updated, s.last_viewed_at, j.status, j.error_message, j.started, "
    "j.completed, (SELECT count(*) FROM source_chunk c WHERE c.source_id = s.id), j.error_code, j.progress_stage, "
    "j.progress_percent, (SELECT count(*) FROM source_insight i WHERE i.source_id = s.id) ";

Source ReadSource(const Rows& rows, int row) {
  Source source;
  source.id = rows.Text(row, 0);
  source.title = rows.OptionalText(row, 1);
  const auto topics = nlohmann::json::parse(rows.Text(row, 2), nullptr, false);
  if (topics.is_array()) {
    for (const auto& topic : topics) {
      if (topic.is_string()) source.topics.push_back(topic.get<std::string>());
    }
  }
  source.asset_url = rows.OptionalText(row, 3);
  source.asset_file_path = rows.OptionalText(row, 4);
  source.original_filename = rows.OptionalText(row, 5);
  source.content_kind = rows.OptionalText(row, 6);
  source.embed = rows.Bool(row, 7);
  source.transformations_json = rows.Text(row, 8);
  source.command_id = rows.OptionalText(row, 9);
  source.created = rows.Text(row, 10);
  source.updated = rows.Text(row, 11);
  source.last_viewed_at = rows.OptionalText(row, 12);
  source.job_status = rows.OptionalText(row, 13);
  source.job_error = rows.OptionalText(row, 14);
  source.job_started = rows.OptionalText(row, 15);
  source.job_completed = rows.OptionalText(row, 16);
  source.chunk_count = rows.Int(row, 17);
  source.job_error_code = rows.OptionalText(row, 18);
  source.job_stage = rows.OptionalText(row, 19);
  if (!rows.IsNull(row, 20)) source.job_percent = static_cast<int>(rows.Int(row, 20));
  source.insight_count = rows.Int(row, 21);
  return source;
}

Result<Source> SelectSource(Connection& db, const std::string& id, bool with_text) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(std::string(kSourceColumns) +
                                              ", s.full_text FROM source s LEFT JOIN job j ON j.id = s.command_id "
                                              "WHERE s.id = $1",
                                          Params().Add(id)));
  if (rows.empty()) return NotFound("source " + id + " was not found");
  Source source = ReadSource(rows, 0);
  if (with_text) source.full_text = rows.OptionalText(0, 22);

  ON_ASSIGN_OR_RETURN(auto links, db.Query("SELECT notebook_id FROM source_notebook WHERE source_id = $1 ORDER BY created",
                                           Params().Add(id)));
  for (int row = 0; row < links.size(); ++row) source.notebooks.push_back(links.Text(row, 0));
  return source;
}

Status RequireRow(Connection& db, std::string_view sql, const std::string& id, std::string_view what) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(sql, Params().Add(id)));
  if (rows.empty()) return NotFound(std::string(what) + " " + id + " was not found");
  return Status::Ok();
}

Status RequireNotebookRow(Connection& db, const std::string& id) {
  return RequireRow(db, "SELECT 1 FROM notebook WHERE id = $1", id, "notebook");
}

// Locks the source row, so a concurrent delete waits for this transaction or makes it fail here.
Status LockSourceRow(Connection& db, const std::string& id) {
  return RequireRow(db, "SELECT 1 FROM source WHERE id = $1 FOR UPDATE", id, "source");
}

Status InsertLink(Connection& db, const std::string& notebook_id, const std::string& source_id, const std::string& now) {
  ON_RETURN_IF_ERROR(db.Query("INSERT INTO source_notebook (source_id, notebook_id, created) VALUES ($1, $2, $3) "
                              "ON CONFLICT DO NOTHING",
                              Params().Add(source_id).Add(notebook_id).Add(now))
                         .status());
  return db.Query("UPDATE notebook SET updated = $2 WHERE id = $1", Params().Add(notebook_id).Add(now)).status();
}

// Inserts the processing job of `source_id` and points the source at it.
Result<std::string> QueueProcessing(Connection& db, const std::string& source_id, const std::string& app,
                                    const std::string& command, int max_attempts) {
  JobSpec spec;
  spec.app = app;
  spec.command = command;
  spec.input_json = nlohmann::json{{"source_id", source_id}}.dump();
  spec.max_attempts = max_attempts;
  spec.dedupe_key = "process_source:" + source_id;
  ON_ASSIGN_OR_RETURN(SubmitResult submitted, InsertJob(db, spec, std::chrono::system_clock::now()));

  ON_RETURN_IF_ERROR(db.Query("UPDATE source SET command_id = $2, updated = $3 WHERE id = $1",
                              Params().Add(source_id).Add(submitted.job.id).Add(NowTimestamp()))
                         .status());
  return submitted.job.id;
}

std::string SortExpression(SourceSortField field) {
  switch (field) {
    case SourceSortField::kCreated: return "s.created";
    case SourceSortField::kUpdated: return "s.updated";
    case SourceSortField::kTitle: return "lower(coalesce(s.title, ''))";
    case SourceSortField::kType:
      return "CASE WHEN s.asset_file_path IS NOT NULL THEN 'file' WHEN s.asset_url IS NOT NULL THEN 'link' ELSE 'text' END";
    case SourceSortField::kInsights: return "(SELECT count(*) FROM source_insight i WHERE i.source_id = s.id)";
    // NOTE: embedded-state sorting is not implemented yet (as in the SQLite backend), so every
    // source sorts as not embedded.
    case SourceSortField::kEmbedded: return "0";
  }
  return "s.updated";
}

}  // namespace

Result<Source> PostgresStorage::CreateSource(const SourceCreate& input) {
  const IndexedText title = BuildTsvector(input.title.value_or(""), tokenizer_);
  std::string job_id;
  auto created = InTransaction<Source>([&](Connection& db) -> Result<Source> {
    for (const auto& notebook_id : input.notebooks) ON_RETURN_IF_ERROR(RequireNotebookRow(db, notebook_id));

    const std::string id = NewId("source");
    const std::string now = NowTimestamp();
    ON_RETURN_IF_ERROR(db.Query("INSERT INTO source (id, title, asset_url, asset_file_path, original_filename, full_text, "
                                "embed, transformations, created, updated, title_vector, title_tokens) "
                                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10::tsvector, $11)",
                                Params()
                                    .Add(id)
                                    .Add(input.title)
                                    .Add(input.url)
                                    .Add(input.file_path)
                                    .Add(input.original_filename)
                                    .Add(input.text)
                                    .Add(input.embed)
                                    .Add(input.transformations_json)
                                    .Add(now)
                                    .Add(title.tsvector)
                                    .Add(title.tokens))
                           .status());
    for (const auto& notebook_id : input.notebooks) ON_RETURN_IF_ERROR(InsertLink(db, notebook_id, id, now));

    ON_ASSIGN_OR_RETURN(job_id, QueueProcessing(db, id, input.job_app, input.job_command, input.job_max_attempts));
    return SelectSource(db, id, true);
  });
  if (created.ok()) jobs().NotifySubmitted(job_id);
  return created;
}

Result<Source> PostgresStorage::GetSource(const std::string& id, bool with_text) {
  return InTransaction<Source>([&](Connection& db) -> Result<Source> {
    // The source row and its links come from one snapshot.
    ON_RETURN_IF_ERROR(db.Execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    return SelectSource(db, id, with_text);
  });
}

Result<std::vector<Source>> PostgresStorage::ListSources(const SourceQuery& query) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  if (query.notebook_id) ON_RETURN_IF_ERROR(RequireNotebookRow(*db, *query.notebook_id));

  std::string sql(kSourceColumns);
  sql += "FROM source s LEFT JOIN job j ON j.id = s.command_id WHERE ($1::text IS NULL OR EXISTS "
         "(SELECT 1 FROM source_notebook sn WHERE sn.source_id = s.id AND sn.notebook_id = $1)) ORDER BY ";
  sql += SortExpression(query.sort);
  sql += query.descending ? " DESC" : " ASC";
  sql += ", s.id ASC LIMIT $2 OFFSET $3";

  ON_ASSIGN_OR_RETURN(auto rows, db->Query(sql, Params().Add(query.notebook_id).Add(query.limit).Add(query.offset)));
  std::vector<Source> sources;
  sources.reserve(static_cast<size_t>(rows.size()));
  for (int row = 0; row < rows.size(); ++row) sources.push_back(ReadSource(rows, row));
  return sources;
}

Result<Source> PostgresStorage::UpdateSource(const std::string& id, const SourcePatch& patch) {
  std::optional<std::string> topics;
  if (patch.topics) topics = nlohmann::json(*patch.topics).dump();
  std::optional<std::string> title_vector;
  int64_t title_tokens = 0;
  if (patch.title) {
    IndexedText title = BuildTsvector(*patch.title, tokenizer_);
    title_vector = std::move(title.tsvector);
    title_tokens = title.tokens;
  }

  return InTransaction<Source>([&](Connection& db) -> Result<Source> {
    ON_RETURN_IF_ERROR(LockSourceRow(db, id));
    ON_RETURN_IF_ERROR(db.Query("UPDATE source SET title = coalesce($2, title), topics = coalesce($3, topics), "
                                "updated = $4, title_vector = coalesce($5::tsvector, title_vector), "
                                "title_tokens = CASE WHEN $5 IS NULL THEN title_tokens ELSE $6 END WHERE id = $1",
                                Params().Add(id).Add(patch.title).Add(topics).Add(NowTimestamp()).Add(title_vector).Add(
                                    title_tokens))
                           .status());
    return SelectSource(db, id, true);
  });
}

Result<SourceDeleteResult> PostgresStorage::DeleteSource(const std::string& id) {
  return InTransaction<SourceDeleteResult>([&](Connection& db) -> Result<SourceDeleteResult> {
    // Chunks, insights, their vectors and notebook links go by cascade and triggers.
    ON_ASSIGN_OR_RETURN(auto deleted, db.Query("DELETE FROM source WHERE id = $1 RETURNING asset_file_path, command_id",
                                               Params().Add(id)));
    if (deleted.empty()) return NotFound("source " + id + " was not found");
    return SourceDeleteResult{deleted.OptionalText(0, 0), deleted.OptionalText(0, 1)};
  });
}

Result<Source> PostgresStorage::RequeueSource(const std::string& id, const std::string& job_app,
                                              const std::string& job_command, int max_attempts) {
  std::string job_id;
  auto requeued = InTransaction<Source>([&](Connection& db) -> Result<Source> {
    ON_RETURN_IF_ERROR(LockSourceRow(db, id));
    ON_ASSIGN_OR_RETURN(job_id, QueueProcessing(db, id, job_app, job_command, max_attempts));
    return SelectSource(db, id, false);
  });
  if (requeued.ok()) jobs().NotifySubmitted(job_id);
  return requeued;
}

Status PostgresStorage::SaveExtraction(const std::string& source_id, const SourceExtraction& extraction) {
  // Tokenizing happens before the transaction, so row locks are held only while rows are written.
  std::vector<IndexedText> chunk_vectors;
  chunk_vectors.reserve(extraction.chunks.size());
  for (const auto& chunk : extraction.chunks) chunk_vectors.push_back(BuildTsvector(chunk.content, tokenizer_));
  const IndexedText title = BuildTsvector(extraction.title.value_or(""), tokenizer_);

  return InTransaction<bool>([&](Connection& db) -> Result<bool> {
           ON_RETURN_IF_ERROR(LockSourceRow(db, source_id));
           // The title is replaced only while it is empty or the placeholder; its vector follows it.
           ON_RETURN_IF_ERROR(
               db.Query("UPDATE source SET full_text = $2, content_kind = $3, updated = $4, "
                        "title_vector = CASE WHEN (title IS NULL OR trim(title) = '' OR title = 'Processing...') "
                        "AND $5::text IS NOT NULL THEN $6::tsvector ELSE title_vector END, "
                        "title_tokens = CASE WHEN (title IS NULL OR trim(title) = '' OR title = 'Processing...') "
                        "AND $5::text IS NOT NULL THEN $7 ELSE title_tokens END, "
                        "title = CASE WHEN title IS NULL OR trim(title) = '' OR title = 'Processing...' "
                        "THEN coalesce($5, title) ELSE title END WHERE id = $1",
                        Params()
                            .Add(source_id)
                            .Add(extraction.full_text)
                            .Add(extraction.content_kind)
                            .Add(NowTimestamp())
                            .Add(extraction.title)
                            .Add(title.tsvector)
                            .Add(title.tokens))
                   .status());

           ON_RETURN_IF_ERROR(db.Query("DELETE FROM source_chunk WHERE source_id = $1", Params().Add(source_id)).status());
           for (size_t i = 0; i < extraction.chunks.size(); ++i) {
             const ChunkRecord& chunk = extraction.chunks[i];
             Params params;
             params.Add(source_id).Add(chunk.index).Add(chunk.content).Add(chunk.begin).Add(chunk.end);
             if (chunk.page) {
               params.Add(*chunk.page);
             } else {
               params.AddNull();
             }
             params.Add(chunk.token_count).Add(chunk_vectors[i].tsvector).Add(chunk_vectors[i].tokens);
             ON_RETURN_IF_ERROR(db.Query("INSERT INTO source_chunk (source_id, chunk_index, content, begin_offset, "
                                         "end_offset, page, token_count, search_vector, search_tokens) "
                                         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::tsvector, $9)",
                                         params)
                                    .status());
           }
           return true;
         })
      .status();
}

Status PostgresStorage::LinkSource(const std::string& notebook_id, const std::string& source_id) {
  return InTransaction<bool>([&](Connection& db) -> Result<bool> {
           ON_RETURN_IF_ERROR(RequireNotebookRow(db, notebook_id));
           ON_RETURN_IF_ERROR(LockSourceRow(db, source_id));
           ON_RETURN_IF_ERROR(InsertLink(db, notebook_id, source_id, NowTimestamp()));
           return true;
         })
      .status();
}

Status PostgresStorage::UnlinkSource(const std::string& notebook_id, const std::string& source_id) {
  return InTransaction<bool>([&](Connection& db) -> Result<bool> {
           ON_RETURN_IF_ERROR(RequireNotebookRow(db, notebook_id));
           ON_RETURN_IF_ERROR(db.Query("DELETE FROM source_notebook WHERE source_id = $1 AND notebook_id = $2",
                                       Params().Add(source_id).Add(notebook_id))
                                  .status());
           return true;
         })
      .status();
}

Result<std::vector<ChunkRecord>> PostgresStorage::ListSourceChunks(const std::string& source_id) {
  return InTransaction<std::vector<ChunkRecord>>([&](Connection& db) -> Result<std::vector<ChunkRecord>> {
    ON_RETURN_IF_ERROR(db.Execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    ON_RETURN_IF_ERROR(RequireRow(db, "SELECT 1 FROM source WHERE id = $1", source_id, "source"));
    ON_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT chunk_index, content, begin_offset, end_offset, page, token_count "
                                            "FROM source_chunk WHERE source_id = $1 ORDER BY chunk_index",
                                            Params().Add(source_id)));
    std::vector<ChunkRecord> chunks;
    chunks.reserve(static_cast<size_t>(rows.size()));
    for (int row = 0; row < rows.size(); ++row) {
      ChunkRecord chunk;
      chunk.index = static_cast<int>(rows.Int(row, 0));
      chunk.content = rows.Text(row, 1);
      chunk.begin = rows.Int(row, 2);
      chunk.end = rows.Int(row, 3);
      if (!rows.IsNull(row, 4)) chunk.page = static_cast<int>(rows.Int(row, 4));
      chunk.token_count = static_cast<int>(rows.Int(row, 5));
      chunks.push_back(std::move(chunk));
    }
    return chunks;
  });
}

}  // namespace on::storage::postgres
