// Notebooks and the recently-viewed list on PostgreSQL.
#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "storage/postgres/postgres_storage.h"

namespace on::storage::postgres {
namespace {

constexpr std::string_view kNotebookColumns =
    "SELECT n.id, n.name, n.description, n.archived, n.created, n.updated, n.last_viewed_at, "
    "(SELECT count(*) FROM source_notebook sn WHERE sn.notebook_id = n.id), "
    "(SELECT count(*) FROM note WHERE note.notebook_id = n.id) FROM notebook n ";

Notebook ReadNotebook(const Rows& rows, int row) {
  Notebook notebook;
  notebook.id = rows.Text(row, 0);
  notebook.name = rows.Text(row, 1);
  notebook.description = rows.Text(row, 2);
  notebook.archived = rows.Bool(row, 3);
  notebook.created = rows.Text(row, 4);
  notebook.updated = rows.Text(row, 5);
  notebook.last_viewed_at = rows.OptionalText(row, 6);
  notebook.source_count = rows.Int(row, 7);
  notebook.note_count = rows.Int(row, 8);
  return notebook;
}

Result<Notebook> SelectNotebook(Connection& db, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(std::string(kNotebookColumns) + "WHERE n.id = $1", Params().Add(id)));
  if (rows.empty()) return NotFound("notebook " + id + " was not found");
  return ReadNotebook(rows, 0);
}

Result<int64_t> CountRows(Connection& db, std::string_view sql, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(sql, Params().Add(id)));
  return rows.empty() ? 0 : rows.Int(0, 0);
}

constexpr std::string_view kCountNotes = "SELECT count(*) FROM note WHERE notebook_id = $1";
constexpr std::string_view kCountExclusive =
    "SELECT count(*) FROM source_notebook sn WHERE sn.notebook_id = $1 AND NOT EXISTS "
    "(SELECT 1 FROM source_notebook other WHERE other.source_id = sn.source_id AND other.notebook_id <> $1)";
constexpr std::string_view kCountShared =
    "SELECT count(*) FROM source_notebook sn WHERE sn.notebook_id = $1 AND EXISTS "
    "(SELECT 1 FROM source_notebook other WHERE other.source_id = sn.source_id AND other.notebook_id <> $1)";

std::optional<std::string> OptionalBool(const std::optional<bool>& value) {
  if (!value) return std::nullopt;
  return std::string(*value ? "true" : "false");
}

}  // namespace

Result<Notebook> PostgresStorage::CreateNotebook(const std::string& name, const std::string& description) {
  Notebook notebook;
  notebook.id = NewId("notebook");
  notebook.name = name;
  notebook.description = description;
  notebook.created = notebook.updated = NowTimestamp();

  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_RETURN_IF_ERROR(db->Query("INSERT INTO notebook (id, name, description, archived, created, updated) "
                               "VALUES ($1, $2, $3, false, $4, $4)",
                               Params().Add(notebook.id).Add(notebook.name).Add(notebook.description).Add(notebook.created))
                         .status());
  return notebook;
}

Result<std::vector<Notebook>> PostgresStorage::ListNotebooks(const NotebookQuery& query) {
  std::string sql(kNotebookColumns);
  sql += "WHERE ($1::boolean IS NULL OR n.archived = $1) ORDER BY ";
  switch (query.sort) {
    case NotebookSortField::kName: sql += "lower(n.name)"; break;
    case NotebookSortField::kCreated: sql += "n.created"; break;
    case NotebookSortField::kUpdated: sql += "n.updated"; break;
  }
  sql += query.descending ? " DESC, n.id DESC" : " ASC, n.id ASC";

  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query(sql, Params().Add(OptionalBool(query.archived))));
  std::vector<Notebook> notebooks;
  notebooks.reserve(static_cast<size_t>(rows.size()));
  for (int row = 0; row < rows.size(); ++row) notebooks.push_back(ReadNotebook(rows, row));
  return notebooks;
}

Result<Notebook> PostgresStorage::GetNotebook(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  return SelectNotebook(*db, id);
}

Result<Notebook> PostgresStorage::UpdateNotebook(const std::string& id, const NotebookPatch& patch) {
  return InTransaction<Notebook>([&](Connection& db) -> Result<Notebook> {
    ON_ASSIGN_OR_RETURN(auto updated,
                        db.Query("UPDATE notebook SET name = coalesce($2, name), description = coalesce($3, description), "
                                 "archived = coalesce($4::boolean, archived), updated = $5 WHERE id = $1",
                                 Params()
                                     .Add(id)
                                     .Add(patch.name)
                                     .Add(patch.description)
                                     .Add(OptionalBool(patch.archived))
                                     .Add(NowTimestamp())));
    if (updated.affected() == 0) return NotFound("notebook " + id + " was not found");
    return SelectNotebook(db, id);
  });
}

Result<NotebookDeletePreview> PostgresStorage::PreviewNotebookDelete(const std::string& id) {
  // One snapshot for all counts, so they describe the same moment.
  return InTransaction<NotebookDeletePreview>([&](Connection& db) -> Result<NotebookDeletePreview> {
    ON_RETURN_IF_ERROR(db.Execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    ON_ASSIGN_OR_RETURN(Notebook notebook, SelectNotebook(db, id));
    NotebookDeletePreview preview;
    preview.notebook_id = notebook.id;
    preview.notebook_name = notebook.name;
    ON_ASSIGN_OR_RETURN(preview.note_count, CountRows(db, kCountNotes, id));
    ON_ASSIGN_OR_RETURN(preview.exclusive_source_count, CountRows(db, kCountExclusive, id));
    ON_ASSIGN_OR_RETURN(preview.shared_source_count, CountRows(db, kCountShared, id));
    return preview;
  });
}

Result<NotebookDeleteResult> PostgresStorage::DeleteNotebook(const std::string& id, bool delete_exclusive_sources) {
  return InTransaction<NotebookDeleteResult>([&](Connection& db) -> Result<NotebookDeleteResult> {
    // Locking the notebook row first makes a concurrent link to it wait (the foreign key check
    // takes a share lock on this row), so the counts below stay true until COMMIT.
    ON_ASSIGN_OR_RETURN(auto locked, db.Query("SELECT 1 FROM notebook WHERE id = $1 FOR UPDATE", Params().Add(id)));
    if (locked.empty()) return NotFound("notebook " + id + " was not found");

    NotebookDeleteResult result;
    ON_ASSIGN_OR_RETURN(result.deleted_notes, CountRows(db, kCountNotes, id));
    ON_ASSIGN_OR_RETURN(result.unlinked_sources, CountRows(db, kCountShared, id));
    ON_ASSIGN_OR_RETURN(int64_t exclusive, CountRows(db, kCountExclusive, id));
    ON_ASSIGN_OR_RETURN(result.deleted_chat_sessions,
                        CountRows(db, "SELECT count(*) FROM chat_session WHERE notebook_id = $1", id));

    if (delete_exclusive_sources) {
      ON_ASSIGN_OR_RETURN(
          auto deleted,
          db.Query("DELETE FROM source WHERE id IN (SELECT sn.source_id FROM source_notebook sn WHERE sn.notebook_id = $1 "
                   "AND NOT EXISTS (SELECT 1 FROM source_notebook other WHERE other.source_id = sn.source_id "
                   "AND other.notebook_id <> $1)) RETURNING asset_file_path",
                   Params().Add(id)));
      result.deleted_sources = deleted.affected();
      for (int row = 0; row < deleted.size(); ++row) {
        if (!deleted.IsNull(row, 0)) result.deleted_source_files.push_back(deleted.Text(row, 0));
      }
    } else {
      result.unlinked_sources += exclusive;
    }

    // Notes, chat sessions with their messages and the remaining source links go with the
    // notebook (ON DELETE CASCADE).
    ON_RETURN_IF_ERROR(db.Query("DELETE FROM notebook WHERE id = $1", Params().Add(id)).status());
    return result;
  });
}

// NOTE: unlike the SQLite backend, which queues the write, this waits for one short UPDATE.
void PostgresStorage::TouchViewed(const std::string& id) {
  std::string_view sql;
  if (id.starts_with("notebook:")) {
    sql = "UPDATE notebook SET last_viewed_at = $2 WHERE id = $1";
  } else if (id.starts_with("source:")) {
    sql = "UPDATE source SET last_viewed_at = $2 WHERE id = $1";
  } else {
    return;
  }
  auto db = pool_->Acquire();
  Status status = db.ok() ? (*db)->Query(sql, Params().Add(id).Add(NowTimestamp())).status() : db.status();
  if (!status.ok()) spdlog::debug("recording that {} was viewed failed: {}", id, status.message());
}

Result<std::vector<RecentItem>> PostgresStorage::ListRecentlyViewed(int limit) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(
      auto rows,
      db->Query("SELECT 'notebook', id, name, last_viewed_at FROM notebook WHERE last_viewed_at IS NOT NULL "
                "UNION ALL SELECT 'source', id, coalesce(title, ''), last_viewed_at FROM source "
                "WHERE last_viewed_at IS NOT NULL ORDER BY 4 DESC LIMIT $1",
                Params().Add(limit)));
  std::vector<RecentItem> items;
  for (int row = 0; row < rows.size(); ++row) {
    items.push_back(RecentItem{rows.Text(row, 0), rows.Text(row, 1), rows.Text(row, 2), rows.Text(row, 3)});
  }
  return items;
}

}  // namespace on::storage::postgres
