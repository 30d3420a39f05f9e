// Sources, their notebook links, chunks and processing jobs on SQLite.
#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "storage/sqlite/sqlite_jobs.h"
#include "storage/sqlite/sqlite_storage.h"

namespace on::storage::sqlite {
namespace {

constexpr std::string_view kSourceColumns =
    "SELECT s.id, s.title, s.topics, s.asset_url, s.asset_file_path, s.original_filename, s.content_kind, s.embed, "
    "s.transformations, s.command_id, s.created, s.updated, s.last_viewed_at, j.status, j.error_message, j.started, "
    "j.completed, (SELECT count(*) FROM source_chunk c WHERE c.source_id = s.id), j.error_code, j.progress_stage, "
    "j.progress_percent, (SELECT count(*) FROM source_insight i WHERE i.source_id = s.id) ";

Source ReadSource(const Statement& row) {
  Source source;
  source.id = row.Text(0);
  source.title = row.OptionalText(1);
  const auto topics = nlohmann::json::parse(row.Text(2), nullptr, false);
  if (topics.is_array()) {
    for (const auto& topic : topics) {
      if (topic.is_string()) source.topics.push_back(topic.get<std::string>());
    }
  }
  source.asset_url = row.OptionalText(3);
  source.asset_file_path = row.OptionalText(4);
  source.original_filename = row.OptionalText(5);
  source.content_kind = row.OptionalText(6);
  source.embed = row.Int(7) != 0;
  source.transformations_json = row.Text(8);
  source.command_id = row.OptionalText(9);
  source.created = row.Text(10);
  source.updated = row.Text(11);
  source.last_viewed_at = row.OptionalText(12);
  source.job_status = row.OptionalText(13);
  source.job_error = row.OptionalText(14);
  source.job_started = row.OptionalText(15);
  source.job_completed = row.OptionalText(16);
  source.chunk_count = row.Int(17);
  source.job_error_code = row.OptionalText(18);
  source.job_stage = row.OptionalText(19);
  if (!row.IsNull(20)) source.job_percent = static_cast<int>(row.Int(20));
  source.insight_count = row.Int(21);
  return source;
}

Result<Source> SelectSource(Connection& db, const std::string& id, bool with_text) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(std::string(kSourceColumns) +
                                                 ", s.full_text FROM source s LEFT JOIN job j ON j.id = s.command_id "
                                                 "WHERE s.id = ?1"));
  statement.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound("source " + id + " was not found");
  Source source = ReadSource(statement);
  if (with_text) source.full_text = statement.OptionalText(22);

  ON_ASSIGN_OR_RETURN(auto links, db.Prepare("SELECT notebook_id FROM source_notebook WHERE source_id = ?1 ORDER BY created"));
  links.Bind(1, id);
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool link, links.Step());
    if (!link) break;
    source.notebooks.push_back(links.Text(0));
  }
  return source;
}

Status RequireRow(Connection& db, std::string_view sql, const std::string& id, std::string_view what) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(sql));
  statement.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound(std::string(what) + " " + id + " was not found");
  return Status::Ok();
}

Status RequireNotebookRow(Connection& db, const std::string& id) {
  return RequireRow(db, "SELECT 1 FROM notebook WHERE id = ?1", id, "notebook");
}

Status RequireSourceRow(Connection& db, const std::string& id) {
  return RequireRow(db, "SELECT 1 FROM source WHERE id = ?1", id, "source");
}

Status InsertLink(Connection& db, const std::string& notebook_id, const std::string& source_id, const std::string& now) {
  ON_ASSIGN_OR_RETURN(auto link, db.Prepare(
      "INSERT INTO source_notebook (source_id, notebook_id, created) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING"));
  link.Bind(1, source_id).Bind(2, notebook_id).Bind(3, now);
  ON_RETURN_IF_ERROR(link.Run());
  ON_ASSIGN_OR_RETURN(auto touch, db.Prepare("UPDATE notebook SET updated = ?2 WHERE id = ?1"));
  touch.Bind(1, notebook_id).Bind(2, now);
  return touch.Run();
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

  ON_ASSIGN_OR_RETURN(auto update, db.Prepare("UPDATE source SET command_id = ?2, updated = ?3 WHERE id = ?1"));
  update.Bind(1, source_id).Bind(2, submitted.job.id).Bind(3, NowTimestamp());
  ON_RETURN_IF_ERROR(update.Run());
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
    // NOTE: embedded-state sorting is not implemented yet, so every source sorts as not embedded.
    case SourceSortField::kEmbedded: return "0";
  }
  return "s.updated";
}

}  // namespace

Result<Source> SqliteStorage::CreateSource(const SourceCreate& input) {
  std::string job_id;
  auto created = writer_->Run<Source>([&](Connection& db) -> Result<Source> {
    for (const auto& notebook_id : input.notebooks) ON_RETURN_IF_ERROR(RequireNotebookRow(db, notebook_id));

    const std::string id = NewId("source");
    const std::string now = NowTimestamp();
    ON_ASSIGN_OR_RETURN(auto insert, db.Prepare(
        "INSERT INTO source (id, title, asset_url, asset_file_path, original_filename, full_text, embed, transformations, "
        "created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"));
    insert.Bind(1, id).BindOptional(2, input.title).BindOptional(3, input.url).BindOptional(4, input.file_path);
    insert.BindOptional(5, input.original_filename).BindOptional(6, input.text);
    insert.Bind(7, static_cast<int64_t>(input.embed ? 1 : 0)).Bind(8, input.transformations_json).Bind(9, now);
    ON_RETURN_IF_ERROR(insert.Run());
    for (const auto& notebook_id : input.notebooks) ON_RETURN_IF_ERROR(InsertLink(db, notebook_id, id, now));

    ON_ASSIGN_OR_RETURN(job_id, QueueProcessing(db, id, input.job_app, input.job_command, input.job_max_attempts));
    return SelectSource(db, id, true);
  });
  if (created.ok()) jobs().NotifySubmitted(job_id);
  return created;
}

Result<Source> SqliteStorage::GetSource(const std::string& id, bool with_text) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectSource(*reader, id, with_text);
}

Result<std::vector<Source>> SqliteStorage::ListSources(const SourceQuery& query) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  if (query.notebook_id) ON_RETURN_IF_ERROR(RequireNotebookRow(*reader, *query.notebook_id));

  std::string sql(kSourceColumns);
  sql += "FROM source s LEFT JOIN job j ON j.id = s.command_id WHERE (?1 IS NULL OR EXISTS "
         "(SELECT 1 FROM source_notebook sn WHERE sn.source_id = s.id AND sn.notebook_id = ?1)) ORDER BY ";
  sql += SortExpression(query.sort);
  sql += query.descending ? " DESC" : " ASC";
  sql += ", s.id ASC LIMIT ?2 OFFSET ?3";

  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare(sql));
  statement.BindOptional(1, query.notebook_id).Bind(2, static_cast<int64_t>(query.limit)).Bind(3, static_cast<int64_t>(query.offset));
  std::vector<Source> sources;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    sources.push_back(ReadSource(statement));
  }
  return sources;
}

Result<Source> SqliteStorage::UpdateSource(const std::string& id, const SourcePatch& patch) {
  return writer_->Run<Source>([&](Connection& db) -> Result<Source> {
    ON_RETURN_IF_ERROR(RequireSourceRow(db, id));
    std::optional<std::string> topics;
    if (patch.topics) topics = nlohmann::json(*patch.topics).dump();
    ON_ASSIGN_OR_RETURN(auto update, db.Prepare(
        "UPDATE source SET title = coalesce(?2, title), topics = coalesce(?3, topics), updated = ?4 WHERE id = ?1"));
    update.Bind(1, id).BindOptional(2, patch.title).BindOptional(3, topics).Bind(4, NowTimestamp());
    ON_RETURN_IF_ERROR(update.Run());
    return SelectSource(db, id, true);
  });
}

Result<SourceDeleteResult> SqliteStorage::DeleteSource(const std::string& id) {
  return writer_->Run<SourceDeleteResult>([&](Connection& db) -> Result<SourceDeleteResult> {
    ON_ASSIGN_OR_RETURN(Source source, SelectSource(db, id, false));
    // Chunks, insights, their vectors and index entries and notebook links go by cascade and
    // triggers.
    ON_ASSIGN_OR_RETURN(auto remove, db.Prepare("DELETE FROM source WHERE id = ?1"));
    remove.Bind(1, id);
    ON_RETURN_IF_ERROR(remove.Run());
    return SourceDeleteResult{source.asset_file_path, source.command_id};
  });
}

Result<Source> SqliteStorage::RequeueSource(const std::string& id, const std::string& job_app, const std::string& job_command,
                                            int max_attempts) {
  std::string job_id;
  auto requeued = writer_->Run<Source>([&](Connection& db) -> Result<Source> {
    ON_RETURN_IF_ERROR(RequireSourceRow(db, id));
    ON_ASSIGN_OR_RETURN(job_id, QueueProcessing(db, id, job_app, job_command, max_attempts));
    return SelectSource(db, id, false);
  });
  if (requeued.ok()) jobs().NotifySubmitted(job_id);
  return requeued;
}

Status SqliteStorage::SaveExtraction(const std::string& source_id, const SourceExtraction& extraction) {
  auto saved = writer_->Run<bool>([&](Connection& db) -> Result<bool> {
    ON_RETURN_IF_ERROR(RequireSourceRow(db, source_id));
    ON_ASSIGN_OR_RETURN(auto update, db.Prepare(
        "UPDATE source SET full_text = ?2, content_kind = ?3, updated = ?4, "
        "title = CASE WHEN title IS NULL OR trim(title) = '' OR title = 'Processing...' THEN coalesce(?5, title) ELSE title END "
        "WHERE id = ?1"));
    update.Bind(1, source_id).Bind(2, extraction.full_text).Bind(3, extraction.content_kind).Bind(4, NowTimestamp());
    update.BindOptional(5, extraction.title);
    ON_RETURN_IF_ERROR(update.Run());

    ON_ASSIGN_OR_RETURN(auto clear, db.Prepare("DELETE FROM source_chunk WHERE source_id = ?1"));
    clear.Bind(1, source_id);
    ON_RETURN_IF_ERROR(clear.Run());

    ON_ASSIGN_OR_RETURN(auto insert, db.Prepare(
        "INSERT INTO source_chunk (source_id, chunk_index, content, begin_offset, end_offset, page, token_count) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    for (const auto& chunk : extraction.chunks) {
      insert.Bind(1, source_id).Bind(2, static_cast<int64_t>(chunk.index)).Bind(3, chunk.content);
      insert.Bind(4, chunk.begin).Bind(5, chunk.end).Bind(7, static_cast<int64_t>(chunk.token_count));
      if (chunk.page) {
        insert.Bind(6, static_cast<int64_t>(*chunk.page));
      } else {
        insert.BindNull(6);
      }
      ON_RETURN_IF_ERROR(insert.Run());
      insert.Reset();
    }
    return true;
  });
  return saved.status();
}

Status SqliteStorage::LinkSource(const std::string& notebook_id, const std::string& source_id) {
  return writer_->Run<bool>([&](Connection& db) -> Result<bool> {
    ON_RETURN_IF_ERROR(RequireNotebookRow(db, notebook_id));
    ON_RETURN_IF_ERROR(RequireSourceRow(db, source_id));
    ON_RETURN_IF_ERROR(InsertLink(db, notebook_id, source_id, NowTimestamp()));
    return true;
  }).status();
}

Status SqliteStorage::UnlinkSource(const std::string& notebook_id, const std::string& source_id) {
  return writer_->Run<bool>([&](Connection& db) -> Result<bool> {
    ON_RETURN_IF_ERROR(RequireNotebookRow(db, notebook_id));
    ON_ASSIGN_OR_RETURN(auto unlink, db.Prepare("DELETE FROM source_notebook WHERE source_id = ?1 AND notebook_id = ?2"));
    unlink.Bind(1, source_id).Bind(2, notebook_id);
    ON_RETURN_IF_ERROR(unlink.Run());
    return true;
  }).status();
}

}  // namespace on::storage::sqlite
