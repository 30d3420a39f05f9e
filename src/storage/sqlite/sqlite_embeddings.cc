// Embedding vectors (migrations 0005 and 0006): stored as little-endian float32 BLOBs, one row
// per chunk, note or insight and model.
#include <cstring>

#include "core/ids.h"
#include "storage/sqlite/sqlite_storage.h"

namespace on::storage::sqlite {
namespace {

static_assert(sizeof(float) == 4, "vectors are stored as 32-bit floats");

std::vector<float> VectorOf(std::string_view blob) {
  std::vector<float> vector(blob.size() / sizeof(float));
  std::memcpy(vector.data(), blob.data(), vector.size() * sizeof(float));
  return vector;
}

}  // namespace

Result<std::vector<EmbeddingItem>> SqliteStorage::ListUnembedded(const std::string& model, const EmbeddingOwner& owner,
                                                                 int limit) {
  const std::optional<std::string>& source_id = owner.source_id;
  const std::optional<std::string>& note_id = owner.note_id;
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  std::vector<EmbeddingItem> items;
  if (source_id) {
    ON_ASSIGN_OR_RETURN(auto statement,
                        reader->Prepare("SELECT c.id, c.content FROM source_chunk c WHERE c.source_id = ?1 AND NOT EXISTS "
                                        "(SELECT 1 FROM embedding e WHERE e.chunk_id = c.id AND e.model = ?2) "
                                        "ORDER BY c.chunk_index LIMIT ?3"));
    statement.Bind(1, *source_id).Bind(2, model).Bind(3, static_cast<int64_t>(limit));
    for (;;) {
      ON_ASSIGN_OR_RETURN(bool row, statement.Step());
      if (!row) break;
      items.push_back(EmbeddingItem{statement.Int(0), std::nullopt, statement.Text(1)});
    }
  }
  if (note_id) {
    ON_ASSIGN_OR_RETURN(auto statement,
                        reader->Prepare("SELECT n.id, trim(coalesce(n.title, '') || char(10) || n.content) FROM note n "
                                        "WHERE n.id = ?1 AND NOT EXISTS "
                                        "(SELECT 1 FROM embedding e WHERE e.note_id = n.id AND e.model = ?2)"));
    statement.Bind(1, *note_id).Bind(2, model);
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (row) items.push_back(EmbeddingItem{std::nullopt, statement.Text(0), statement.Text(1)});
  }
  if (owner.insight_id) {
    ON_ASSIGN_OR_RETURN(auto statement,
                        reader->Prepare("SELECT i.id, i.insight_type || char(10) || i.content FROM source_insight i "
                                        "WHERE i.id = ?1 AND NOT EXISTS "
                                        "(SELECT 1 FROM embedding e WHERE e.insight_id = i.id AND e.model = ?2)"));
    statement.Bind(1, *owner.insight_id).Bind(2, model);
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (row) items.push_back(EmbeddingItem{std::nullopt, std::nullopt, statement.Text(1), statement.Text(0)});
  }
  return items;
}

Result<int64_t> SqliteStorage::SaveEmbeddings(const std::string& model, const std::vector<EmbeddingItem>& items,
                                              const std::vector<std::vector<float>>& vectors) {
  if (items.size() != vectors.size()) {
    return InvalidInput("SaveEmbeddings got " + std::to_string(items.size()) + " items and " +
                        std::to_string(vectors.size()) + " vectors");
  }
  const std::string now = NowTimestamp();
  return writer_->Run<int64_t>([&](Connection& db) -> Result<int64_t> {
    // INSERT ... SELECT inserts nothing when the chunk, note or insight is gone.
    ON_ASSIGN_OR_RETURN(auto delete_chunk, db.Prepare("DELETE FROM embedding WHERE chunk_id = ?1 AND model = ?2"));
    ON_ASSIGN_OR_RETURN(auto delete_note, db.Prepare("DELETE FROM embedding WHERE note_id = ?1 AND model = ?2"));
    ON_ASSIGN_OR_RETURN(auto delete_insight, db.Prepare("DELETE FROM embedding WHERE insight_id = ?1 AND model = ?2"));
    ON_ASSIGN_OR_RETURN(auto insert_insight,
                        db.Prepare("INSERT INTO embedding (model, insight_id, dimension, vector, created) "
                                   "SELECT ?1, id, ?3, ?4, ?5 FROM source_insight WHERE id = ?2"));
    ON_ASSIGN_OR_RETURN(auto insert_chunk,
                        db.Prepare("INSERT INTO embedding (model, chunk_id, dimension, vector, created) "
                                   "SELECT ?1, id, ?3, ?4, ?5 FROM source_chunk WHERE id = ?2"));
    ON_ASSIGN_OR_RETURN(auto insert_note,
                        db.Prepare("INSERT INTO embedding (model, note_id, dimension, vector, created) "
                                   "SELECT ?1, id, ?3, ?4, ?5 FROM note WHERE id = ?2"));
    int64_t stored = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      const EmbeddingItem& item = items[i];
      const std::vector<float>& vector = vectors[i];
      if (vector.empty()) return InvalidInput("an embedding vector is empty");
      Statement* remove = &delete_note;
      Statement* insert = &insert_note;
      if (item.chunk_id) {
        remove = &delete_chunk;
        insert = &insert_chunk;
        remove->Bind(1, *item.chunk_id);
        insert->Bind(2, *item.chunk_id);
      } else if (item.insight_id) {
        remove = &delete_insight;
        insert = &insert_insight;
        remove->Bind(1, *item.insight_id);
        insert->Bind(2, *item.insight_id);
      } else {
        remove->Bind(1, item.note_id.value_or(""));
        insert->Bind(2, item.note_id.value_or(""));
      }
      remove->Bind(2, model);
      ON_RETURN_IF_ERROR(remove->Run());
      remove->Reset();
      insert->Bind(1, model).Bind(3, static_cast<int64_t>(vector.size()));
      insert->BindBlob(4, vector.data(), vector.size() * sizeof(float)).Bind(5, now);
      ON_RETURN_IF_ERROR(insert->Run());
      stored += db.Changes();
      insert->Reset();
    }
    return stored;
  });
}

Result<std::vector<StoredEmbedding>> SqliteStorage::ListEmbeddings(const std::string& model, int64_t after_id, int limit) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare("SELECT id, vector FROM embedding WHERE model = ?1 AND id > ?2 "
                                                      "ORDER BY id LIMIT ?3"));
  statement.Bind(1, model).Bind(2, after_id).Bind(3, static_cast<int64_t>(limit));
  std::vector<StoredEmbedding> embeddings;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    embeddings.push_back(StoredEmbedding{statement.Int(0), VectorOf(statement.Blob(1))});
  }
  return embeddings;
}

Result<EmbeddingModelState> SqliteStorage::GetEmbeddingState(const std::string& model) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement,
                      reader->Prepare("SELECT coalesce(max(id), 0), count(*), "
                                      "(SELECT coalesce(max(deletions), 0) FROM embedding_model_state WHERE model = ?1) "
                                      "FROM embedding WHERE model = ?1"));
  statement.Bind(1, model);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  EmbeddingModelState state;
  if (row) {
    state.max_id = statement.Int(0);
    state.count = statement.Int(1);
    state.deletions = statement.Int(2);
  }
  return state;
}

Result<EmbeddingVersion> SqliteStorage::GetEmbeddingVersion(const std::string& model) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement,
                      reader->Prepare("SELECT coalesce((SELECT max(id) FROM embedding WHERE model = ?1), 0), "
                                      "coalesce((SELECT max(deletions) FROM embedding_model_state WHERE model = ?1), 0)"));
  statement.Bind(1, model);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  EmbeddingVersion version;
  if (row) {
    version.max_id = statement.Int(0);
    version.deletions = statement.Int(1);
  }
  return version;
}

Result<std::vector<EmbeddingTarget>> SqliteStorage::ResolveEmbeddings(const std::vector<int64_t>& ids,
                                                                      const std::optional<std::string>& notebook_id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(
      auto chunk,
      reader->Prepare("SELECT s.id, coalesce(s.title, ''), c.chunk_index, c.page, c.content FROM embedding e "
                      "JOIN source_chunk c ON c.id = e.chunk_id JOIN source s ON s.id = c.source_id WHERE e.id = ?1 "
                      "AND (?2 IS NULL OR EXISTS (SELECT 1 FROM source_notebook sn WHERE sn.source_id = s.id "
                      "AND sn.notebook_id = ?2))"));
  ON_ASSIGN_OR_RETURN(auto note,
                      reader->Prepare("SELECT n.id, coalesce(n.notebook_id, ''), coalesce(n.title, ''), n.content "
                                      "FROM embedding e JOIN note n ON n.id = e.note_id WHERE e.id = ?1 "
                                      "AND (?2 IS NULL OR n.notebook_id = ?2)"));
  ON_ASSIGN_OR_RETURN(
      auto insight,
      reader->Prepare("SELECT i.id, s.id, i.insight_type || ' - ' || coalesce(s.title, ''), i.content FROM embedding e "
                      "JOIN source_insight i ON i.id = e.insight_id JOIN source s ON s.id = i.source_id WHERE e.id = ?1 "
                      "AND (?2 IS NULL OR EXISTS (SELECT 1 FROM source_notebook sn WHERE sn.source_id = s.id "
                      "AND sn.notebook_id = ?2))"));
  std::vector<EmbeddingTarget> targets;
  for (int64_t id : ids) {
    chunk.Bind(1, id).BindOptional(2, notebook_id);
    ON_ASSIGN_OR_RETURN(bool found, chunk.Step());
    if (found) {
      EmbeddingTarget target{id, "source", chunk.Text(0), chunk.Text(0), chunk.Text(1), chunk.Int(2), std::nullopt,
                             chunk.Text(4)};
      if (!chunk.IsNull(3)) target.page = static_cast<int>(chunk.Int(3));
      targets.push_back(std::move(target));
    }
    chunk.Reset();
    if (found) continue;
    note.Bind(1, id).BindOptional(2, notebook_id);
    ON_ASSIGN_OR_RETURN(bool found_note, note.Step());
    if (found_note) {
      targets.push_back(EmbeddingTarget{id, "note", note.Text(0), note.Text(1), note.Text(2), std::nullopt, std::nullopt,
                                        note.Text(3)});
    }
    note.Reset();
    if (found_note) continue;
    insight.Bind(1, id).BindOptional(2, notebook_id);
    ON_ASSIGN_OR_RETURN(bool found_insight, insight.Step());
    if (found_insight) {
      targets.push_back(EmbeddingTarget{id, "insight", insight.Text(0), insight.Text(1), insight.Text(2), std::nullopt,
                                        std::nullopt, insight.Text(3)});
    }
    insight.Reset();
  }
  return targets;
}

Result<std::vector<int64_t>> SqliteStorage::ListNotebookEmbeddingIds(const std::string& model,
                                                                    const std::string& notebook_id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement,
                      reader->Prepare("SELECT e.id FROM embedding e JOIN source_chunk c ON c.id = e.chunk_id "
                                      "JOIN source_notebook sn ON sn.source_id = c.source_id "
                                      "WHERE e.model = ?1 AND sn.notebook_id = ?2 "
                                      "UNION ALL SELECT e.id FROM embedding e JOIN note n ON n.id = e.note_id "
                                      "WHERE e.model = ?1 AND n.notebook_id = ?2 "
                                      "UNION ALL SELECT e.id FROM embedding e JOIN source_insight i ON i.id = e.insight_id "
                                      "JOIN source_notebook sn ON sn.source_id = i.source_id "
                                      "WHERE e.model = ?1 AND sn.notebook_id = ?2"));
  statement.Bind(1, model).Bind(2, notebook_id);
  std::vector<int64_t> ids;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    ids.push_back(statement.Int(0));
  }
  return ids;
}

Result<int64_t> SqliteStorage::CountEmbeddableItems() {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare("SELECT (SELECT count(*) FROM source_chunk) + "
                                                      "(SELECT count(*) FROM note WHERE trim(content) <> '') + "
                                                      "(SELECT count(*) FROM source_insight)"));
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  return row ? statement.Int(0) : 0;
}

Result<int64_t> SqliteStorage::CountSourceEmbeddings(const std::string& model, const std::string& source_id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare("SELECT count(*) FROM embedding e JOIN source_chunk c ON "
                                                      "c.id = e.chunk_id WHERE c.source_id = ?1 AND e.model = ?2"));
  statement.Bind(1, source_id).Bind(2, model);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  return row ? statement.Int(0) : 0;
}

namespace {

Result<std::vector<std::string>> ListIds(Connection& db, std::string_view sql) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(sql));
  std::vector<std::string> ids;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    ids.push_back(statement.Text(0));
  }
  return ids;
}

}  // namespace

Result<std::vector<std::string>> SqliteStorage::ListEmbeddableSources(bool only_embedded) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  if (only_embedded) {
    return ListIds(*reader, "SELECT DISTINCT c.source_id FROM source_chunk c JOIN embedding e ON e.chunk_id = c.id "
                            "ORDER BY c.source_id");
  }
  return ListIds(*reader, "SELECT DISTINCT source_id FROM source_chunk ORDER BY source_id");
}

Result<std::vector<std::string>> SqliteStorage::ListEmbeddableNotes(bool only_embedded) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  if (only_embedded) {
    return ListIds(*reader, "SELECT DISTINCT n.id FROM note n JOIN embedding e ON e.note_id = n.id "
                            "WHERE trim(n.content) <> '' ORDER BY n.id");
  }
  return ListIds(*reader, "SELECT id FROM note WHERE trim(content) <> '' ORDER BY id");
}

Result<std::vector<std::string>> SqliteStorage::ListEmbeddableInsights(bool only_embedded) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  if (only_embedded) {
    return ListIds(*reader, "SELECT DISTINCT i.id FROM source_insight i JOIN embedding e ON e.insight_id = i.id "
                            "ORDER BY i.id");
  }
  return ListIds(*reader, "SELECT id FROM source_insight ORDER BY id");
}

}  // namespace on::storage::sqlite
