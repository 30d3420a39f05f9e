// Transformations, the global transformation instructions and insights on SQLite (migration 0006).
#include "core/ids.h"
#include "storage/sqlite/sqlite_storage.h"

namespace on::storage::sqlite {
namespace {

constexpr std::string_view kTransformationColumns =
    "SELECT id, name, title, description, prompt, apply_default, model_id, created, updated FROM transformation ";

constexpr std::string_view kInsightColumns =
    "SELECT id, source_id, insight_type, content, transformation_id, model_id, command_id, created, updated "
    "FROM source_insight ";

constexpr std::string_view kInstructionsKey = "transformation_instructions";

Transformation ReadTransformation(const Statement& row) {
  Transformation transformation;
  transformation.id = row.Text(0);
  transformation.name = row.Text(1);
  transformation.title = row.Text(2);
  transformation.description = row.Text(3);
  transformation.prompt = row.Text(4);
  transformation.apply_default = row.Int(5) != 0;
  transformation.model_id = row.OptionalText(6);
  transformation.created = row.Text(7);
  transformation.updated = row.Text(8);
  return transformation;
}

Insight ReadInsight(const Statement& row) {
  Insight insight;
  insight.id = row.Text(0);
  insight.source_id = row.Text(1);
  insight.insight_type = row.Text(2);
  insight.content = row.Text(3);
  insight.transformation_id = row.OptionalText(4);
  insight.model_id = row.OptionalText(5);
  insight.command_id = row.OptionalText(6);
  insight.created = row.Text(7);
  insight.updated = row.Text(8);
  return insight;
}

Result<Transformation> SelectTransformation(Connection& db, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(std::string(kTransformationColumns) + "WHERE id = ?1"));
  statement.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound("transformation " + id + " was not found");
  return ReadTransformation(statement);
}

Result<Insight> SelectInsight(Connection& db, std::string_view where, const std::string& value) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(std::string(kInsightColumns) + std::string(where)));
  statement.Bind(1, value);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound("insight " + value + " was not found");
  return ReadInsight(statement);
}

Status RequireRow(Connection& db, std::string_view sql, const std::string& id, std::string_view what) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(sql));
  statement.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound(std::string(what) + " " + id + " was not found");
  return Status::Ok();
}

Status RequireModel(Connection& db, const std::optional<std::string>& model_id) {
  if (!model_id) return Status::Ok();
  return RequireRow(db, "SELECT 1 FROM model WHERE id = ?1", *model_id, "model");
}

Status WriteTransformation(Connection& db, const Transformation& transformation, bool insert) {
  ON_ASSIGN_OR_RETURN(
      auto statement,
      db.Prepare(insert ? "INSERT INTO transformation (id, name, title, description, prompt, apply_default, model_id, "
                          "created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                        : "UPDATE transformation SET name = ?2, title = ?3, description = ?4, prompt = ?5, "
                          "apply_default = ?6, model_id = ?7, updated = ?9 WHERE id = ?1 AND created = ?8"));
  statement.Bind(1, transformation.id).Bind(2, transformation.name).Bind(3, transformation.title);
  statement.Bind(4, transformation.description).Bind(5, transformation.prompt);
  statement.Bind(6, static_cast<int64_t>(transformation.apply_default ? 1 : 0)).BindOptional(7, transformation.model_id);
  statement.Bind(8, transformation.created).Bind(9, transformation.updated);
  return statement.Run();
}

}  // namespace

Result<Transformation> SqliteStorage::CreateTransformation(const Transformation& input) {
  return writer_->Run<Transformation>([&](Connection& db) -> Result<Transformation> {
    ON_RETURN_IF_ERROR(RequireModel(db, input.model_id));
    Transformation transformation = input;
    transformation.id = NewId("transformation");
    transformation.created = transformation.updated = NowTimestamp();
    ON_RETURN_IF_ERROR(WriteTransformation(db, transformation, true));
    return transformation;
  });
}

Result<std::vector<Transformation>> SqliteStorage::ListTransformations() {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement,
                      reader->Prepare(std::string(kTransformationColumns) + "ORDER BY name COLLATE NOCASE, id"));
  std::vector<Transformation> transformations;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    transformations.push_back(ReadTransformation(statement));
  }
  return transformations;
}

Result<Transformation> SqliteStorage::GetTransformation(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectTransformation(*reader, id);
}

Result<Transformation> SqliteStorage::UpdateTransformation(const std::string& id, const TransformationPatch& patch) {
  return writer_->Run<Transformation>([&](Connection& db) -> Result<Transformation> {
    ON_ASSIGN_OR_RETURN(Transformation transformation, SelectTransformation(db, id));
    if (patch.name) transformation.name = *patch.name;
    if (patch.title) transformation.title = *patch.title;
    if (patch.description) transformation.description = *patch.description;
    if (patch.prompt) transformation.prompt = *patch.prompt;
    if (patch.apply_default) transformation.apply_default = *patch.apply_default;
    if (patch.model_id) {
      ON_RETURN_IF_ERROR(RequireModel(db, *patch.model_id));
      transformation.model_id = *patch.model_id;
    }
    transformation.updated = NowTimestamp();
    ON_RETURN_IF_ERROR(WriteTransformation(db, transformation, false));
    return transformation;
  });
}

Status SqliteStorage::DeleteTransformation(const std::string& id) {
  return writer_->Run<bool>([&](Connection& db) -> Result<bool> {
    ON_ASSIGN_OR_RETURN(auto remove, db.Prepare("DELETE FROM transformation WHERE id = ?1"));
    remove.Bind(1, id);
    ON_RETURN_IF_ERROR(remove.Run());
    if (db.Changes() == 0) return NotFound("transformation " + id + " was not found");
    return true;
  }).status();
}

Result<std::string> SqliteStorage::GetTransformationInstructions() {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare("SELECT value FROM app_setting WHERE key = ?1"));
  statement.Bind(1, kInstructionsKey);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  return row ? statement.Text(0) : std::string();
}

Status SqliteStorage::SetTransformationInstructions(const std::string& instructions) {
  return writer_->Run<bool>([&](Connection& db) -> Result<bool> {
    ON_ASSIGN_OR_RETURN(auto upsert, db.Prepare("INSERT INTO app_setting (key, value, updated) VALUES (?1, ?2, ?3) "
                                                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                                                "updated = excluded.updated"));
    upsert.Bind(1, kInstructionsKey).Bind(2, instructions).Bind(3, NowTimestamp());
    ON_RETURN_IF_ERROR(upsert.Run());
    return true;
  }).status();
}

Result<Insight> SqliteStorage::SaveInsight(const Insight& input) {
  return writer_->Run<Insight>([&](Connection& db) -> Result<Insight> {
    ON_RETURN_IF_ERROR(RequireRow(db, "SELECT 1 FROM source WHERE id = ?1", input.source_id, "source"));
    const std::string now = NowTimestamp();
    if (input.command_id) {
      auto existing = SelectInsight(db, "WHERE command_id = ?1", *input.command_id);
      if (existing.ok()) {
        ON_ASSIGN_OR_RETURN(auto update, db.Prepare("UPDATE source_insight SET insight_type = ?2, content = ?3, "
                                                    "updated = ?4 WHERE id = ?1"));
        update.Bind(1, existing->id).Bind(2, input.insight_type).Bind(3, input.content).Bind(4, now);
        ON_RETURN_IF_ERROR(update.Run());
        // The old vector describes the old text.
        ON_ASSIGN_OR_RETURN(auto stale, db.Prepare("DELETE FROM embedding WHERE insight_id = ?1"));
        stale.Bind(1, existing->id);
        ON_RETURN_IF_ERROR(stale.Run());
        return SelectInsight(db, "WHERE id = ?1", existing->id);
      }
      if (existing.status().code() != ErrorCode::kNotFound) return existing.status();
    }
    Insight insight = input;
    insight.id = NewId("source_insight");
    insight.created = insight.updated = now;
    // A transformation or model deleted while the job ran is recorded as unknown.
    ON_ASSIGN_OR_RETURN(
        auto insert,
        db.Prepare("INSERT INTO source_insight (id, source_id, insight_type, content, transformation_id, model_id, "
                   "command_id, created, updated) VALUES (?1, ?2, ?3, ?4, "
                   "(SELECT id FROM transformation WHERE id = ?5), (SELECT id FROM model WHERE id = ?6), ?7, ?8, ?8)"));
    insert.Bind(1, insight.id).Bind(2, insight.source_id).Bind(3, insight.insight_type).Bind(4, insight.content);
    insert.BindOptional(5, insight.transformation_id).BindOptional(6, insight.model_id);
    insert.BindOptional(7, insight.command_id).Bind(8, now);
    ON_RETURN_IF_ERROR(insert.Run());
    return SelectInsight(db, "WHERE id = ?1", insight.id);
  });
}

Result<std::vector<Insight>> SqliteStorage::ListInsights(const std::string& source_id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  ON_RETURN_IF_ERROR(RequireRow(*reader, "SELECT 1 FROM source WHERE id = ?1", source_id, "source"));
  ON_ASSIGN_OR_RETURN(auto statement,
                      reader->Prepare(std::string(kInsightColumns) + "WHERE source_id = ?1 ORDER BY created, id"));
  statement.Bind(1, source_id);
  std::vector<Insight> insights;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    insights.push_back(ReadInsight(statement));
  }
  return insights;
}

Result<Insight> SqliteStorage::GetInsight(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectInsight(*reader, "WHERE id = ?1", id);
}

Status SqliteStorage::DeleteInsight(const std::string& id) {
  return writer_->Run<bool>([&](Connection& db) -> Result<bool> {
    ON_ASSIGN_OR_RETURN(auto remove, db.Prepare("DELETE FROM source_insight WHERE id = ?1"));
    remove.Bind(1, id);
    ON_RETURN_IF_ERROR(remove.Run());
    if (db.Changes() == 0) return NotFound("insight " + id + " was not found");
    return true;
  }).status();
}

}  // namespace on::storage::sqlite
