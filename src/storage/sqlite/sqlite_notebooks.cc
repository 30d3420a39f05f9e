// Notebooks and the recently-viewed list on SQLite.
#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "storage/sqlite/sqlite_storage.h"

namespace on::storage::sqlite {
namespace {

constexpr std::string_view kNotebookColumns =
    "SELECT n.id, n.name, n.description, n.archived, n.created, n.updated, n.last_viewed_at, "
    "(SELECT count(*) FROM source_notebook sn WHERE sn.notebook_id = n.id), "
    "(SELECT count(*) FROM note WHERE note.notebook_id = n.id) FROM notebook n ";

Notebook ReadNotebook(const Statement& row) {
  Notebook notebook;
  notebook.id = row.Text(0);
  notebook.name = row.Text(1);
  notebook.description = row.Text(2);
  notebook.archived = row.Int(3) != 0;
  notebook.created = row.Text(4);
  notebook.updated = row.Text(5);
  notebook.last_viewed_at = row.OptionalText(6);
  notebook.source_count = row.Int(7);
  notebook.note_count = row.Int(8);
  return notebook;
}

Result<Notebook> SelectNotebook(Connection& db, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(std::string(kNotebookColumns) + "WHERE n.id = ?1"));
  statement.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound("notebook " + id + " was not found");
  return ReadNotebook(statement);
}

Result<int64_t> CountRows(Connection& db, std::string_view sql, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(sql));
  statement.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  return row ? statement.Int(0) : 0;
}

constexpr std::string_view kCountNotes = "SELECT count(*) FROM note WHERE notebook_id = ?1";
constexpr std::string_view kCountExclusive =
    "SELECT count(*) FROM source_notebook sn WHERE sn.notebook_id = ?1 AND NOT EXISTS "
    "(SELECT 1 FROM source_notebook other WHERE other.source_id = sn.source_id AND other.notebook_id <> ?1)";
constexpr std::string_view kCountShared =
    "SELECT count(*) FROM source_notebook sn WHERE sn.notebook_id = ?1 AND EXISTS "
    "(SELECT 1 FROM source_notebook other WHERE other.source_id = sn.source_id AND other.notebook_id <> ?1)";

}  // namespace

Result<Notebook> SqliteStorage::CreateNotebook(const std::string& name, const std::string& description) {
  return writer_->Run<Notebook>([&](Connection& db) -> Result<Notebook> {
    Notebook notebook;
    notebook.id = NewId("notebook");
    notebook.name = name;
    notebook.description = description;
    notebook.created = notebook.updated = NowTimestamp();
    ON_ASSIGN_OR_RETURN(auto insert, db.Prepare("INSERT INTO notebook (id, name, description, archived, created, updated) VALUES (?1, ?2, ?3, 0, ?4, ?4)"));
    insert.Bind(1, notebook.id).Bind(2, notebook.name).Bind(3, notebook.description).Bind(4, notebook.created);
    ON_RETURN_IF_ERROR(insert.Run());
    return notebook;
  });
}

Result<std::vector<Notebook>> SqliteStorage::ListNotebooks(const NotebookQuery& query) {
  std::string sql(kNotebookColumns);
  sql += "WHERE (?1 IS NULL OR n.archived = ?1) ORDER BY ";
  switch (query.sort) {
    case NotebookSortField::kName: sql += "n.name COLLATE NOCASE"; break;
    case NotebookSortField::kCreated: sql += "n.created"; break;
    case NotebookSortField::kUpdated: sql += "n.updated"; break;
  }
  sql += query.descending ? " DESC, n.id DESC" : " ASC, n.id ASC";

  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare(sql));
  if (query.archived) {
    statement.Bind(1, static_cast<int64_t>(*query.archived ? 1 : 0));
  } else {
    statement.BindNull(1);
  }

  std::vector<Notebook> notebooks;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    notebooks.push_back(ReadNotebook(statement));
  }
  return notebooks;
}

Result<Notebook> SqliteStorage::GetNotebook(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectNotebook(*reader, id);
}

Result<Notebook> SqliteStorage::UpdateNotebook(const std::string& id, const NotebookPatch& patch) {
  return writer_->Run<Notebook>([&](Connection& db) -> Result<Notebook> {
    ON_ASSIGN_OR_RETURN(auto update, db.Prepare(
        "UPDATE notebook SET name = coalesce(?2, name), description = coalesce(?3, description), "
        "archived = coalesce(?4, archived), updated = ?5 WHERE id = ?1"));
    update.Bind(1, id).BindOptional(2, patch.name).BindOptional(3, patch.description).Bind(5, NowTimestamp());
    if (patch.archived) {
      update.Bind(4, static_cast<int64_t>(*patch.archived ? 1 : 0));
    } else {
      update.BindNull(4);
    }
    ON_RETURN_IF_ERROR(update.Run());
    if (db.Changes() == 0) return NotFound("notebook " + id + " was not found");
    return SelectNotebook(db, id);
  });
}

Result<NotebookDeletePreview> SqliteStorage::PreviewNotebookDelete(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(Notebook notebook, SelectNotebook(*reader, id));

  NotebookDeletePreview preview;
  preview.notebook_id = notebook.id;
  preview.notebook_name = notebook.name;
  ON_ASSIGN_OR_RETURN(preview.note_count, CountRows(*reader, kCountNotes, id));
  ON_ASSIGN_OR_RETURN(preview.exclusive_source_count, CountRows(*reader, kCountExclusive, id));
  ON_ASSIGN_OR_RETURN(preview.shared_source_count, CountRows(*reader, kCountShared, id));
  return preview;
}

Result<NotebookDeleteResult> SqliteStorage::DeleteNotebook(const std::string& id, bool delete_exclusive_sources) {
  return writer_->Run<NotebookDeleteResult>([&](Connection& db) -> Result<NotebookDeleteResult> {
    ON_RETURN_IF_ERROR(SelectNotebook(db, id).status());

    NotebookDeleteResult result;
    ON_ASSIGN_OR_RETURN(result.deleted_notes, CountRows(db, kCountNotes, id));
    ON_ASSIGN_OR_RETURN(result.unlinked_sources, CountRows(db, kCountShared, id));
    ON_ASSIGN_OR_RETURN(int64_t exclusive, CountRows(db, kCountExclusive, id));
    ON_ASSIGN_OR_RETURN(result.deleted_chat_sessions,
                        CountRows(db, "SELECT count(*) FROM chat_session WHERE notebook_id = ?1", id));

    if (delete_exclusive_sources) {
      ON_ASSIGN_OR_RETURN(auto files, db.Prepare(
          "SELECT s.asset_file_path FROM source s JOIN source_notebook sn ON sn.source_id = s.id "
          "WHERE sn.notebook_id = ?1 AND s.asset_file_path IS NOT NULL AND NOT EXISTS "
          "(SELECT 1 FROM source_notebook other WHERE other.source_id = s.id AND other.notebook_id <> ?1)"));
      files.Bind(1, id);
      for (;;) {
        ON_ASSIGN_OR_RETURN(bool row, files.Step());
        if (!row) break;
        result.deleted_source_files.push_back(files.Text(0));
      }

      ON_ASSIGN_OR_RETURN(auto remove, db.Prepare(
          "DELETE FROM source WHERE id IN (SELECT sn.source_id FROM source_notebook sn WHERE sn.notebook_id = ?1 "
          "AND NOT EXISTS (SELECT 1 FROM source_notebook other WHERE other.source_id = sn.source_id AND other.notebook_id <> ?1))"));
      remove.Bind(1, id);
      ON_RETURN_IF_ERROR(remove.Run());
      result.deleted_sources = db.Changes();
    } else {
      result.unlinked_sources += exclusive;
    }

    // Notes, chat sessions with their messages and the remaining source links go with the
    // notebook (ON DELETE CASCADE).
    ON_ASSIGN_OR_RETURN(auto remove_notebook, db.Prepare("DELETE FROM notebook WHERE id = ?1"));
    remove_notebook.Bind(1, id);
    ON_RETURN_IF_ERROR(remove_notebook.Run());
    return result;
  });
}

void SqliteStorage::TouchViewed(const std::string& id) {
  std::string sql;
  if (id.rfind("notebook:", 0) == 0) {
    sql = "UPDATE notebook SET last_viewed_at = ?2 WHERE id = ?1";
  } else if (id.rfind("source:", 0) == 0) {
    sql = "UPDATE source SET last_viewed_at = ?2 WHERE id = ?1";
  } else {
    return;
  }
  writer_->Post([id, sql, now = NowTimestamp()](Connection& db) -> Status {
    ON_ASSIGN_OR_RETURN(auto update, db.Prepare(sql));
    update.Bind(1, id).Bind(2, now);
    return update.Run();
  });
}

Result<std::vector<RecentItem>> SqliteStorage::ListRecentlyViewed(int limit) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare(
      "SELECT 'notebook', id, name, last_viewed_at FROM notebook WHERE last_viewed_at IS NOT NULL "
      "UNION ALL SELECT 'source', id, coalesce(title, ''), last_viewed_at FROM source WHERE last_viewed_at IS NOT NULL "
      "ORDER BY 4 DESC LIMIT ?1"));
  statement.Bind(1, static_cast<int64_t>(limit));

  std::vector<RecentItem> items;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    items.push_back(RecentItem{statement.Text(0), statement.Text(1), statement.Text(2), statement.Text(3)});
  }
  return items;
}

}  // namespace on::storage::sqlite
