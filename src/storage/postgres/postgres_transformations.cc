// Transformations, the global transformation instructions and insights on PostgreSQL.
#include "core/ids.h"
#include "storage/postgres/postgres_storage.h"

namespace on::storage::postgres {
namespace {

constexpr std::string_view kTransformationColumns =
    "SELECT id, name, title, description, prompt, apply_default, model_id, created, updated FROM transformation ";

constexpr std::string_view kInsightColumns =
    "SELECT id, source_id, insight_type, content, transformation_id, model_id, command_id, created, updated "
    "FROM source_insight ";

constexpr std::string_view kInstructionsKey = "transformation_instructions";

Transformation ReadTransformation(const Rows& rows, int row) {
  Transformation transformation;
  transformation.id = rows.Text(row, 0);
  transformation.name = rows.Text(row, 1);
  transformation.title = rows.Text(row, 2);
  transformation.description = rows.Text(row, 3);
  transformation.prompt = rows.Text(row, 4);
  transformation.apply_default = rows.Bool(row, 5);
  transformation.model_id = rows.OptionalText(row, 6);
  transformation.created = rows.Text(row, 7);
  transformation.updated = rows.Text(row, 8);
  return transformation;
}

Insight ReadInsight(const Rows& rows, int row) {
  Insight insight;
  insight.id = rows.Text(row, 0);
  insight.source_id = rows.Text(row, 1);
  insight.insight_type = rows.Text(row, 2);
  insight.content = rows.Text(row, 3);
  insight.transformation_id = rows.OptionalText(row, 4);
  insight.model_id = rows.OptionalText(row, 5);
  insight.command_id = rows.OptionalText(row, 6);
  insight.created = rows.Text(row, 7);
  insight.updated = rows.Text(row, 8);
  return insight;
}

Result<Transformation> SelectTransformation(Connection& db, const std::string& id, bool for_update) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(std::string(kTransformationColumns) + "WHERE id = $1" +
                                              (for_update ? " FOR UPDATE" : ""),
                                          Params().Add(id)));
  if (rows.empty()) return NotFound("transformation " + id + " was not found");
  return ReadTransformation(rows, 0);
}

// The insight whose `column` (a literal of this file) equals `value`.
Result<Insight> SelectInsight(Connection& db, std::string_view column, const std::string& value) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(std::string(kInsightColumns) + "WHERE " + std::string(column) + " = $1",
                                          Params().Add(value)));
  if (rows.empty()) return NotFound("insight " + value + " was not found");
  return ReadInsight(rows, 0);
}

Status RequireRow(Connection& db, std::string_view sql, const std::string& id, std::string_view what) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(sql, Params().Add(id)));
  if (rows.empty()) return NotFound(std::string(what) + " " + id + " was not found");
  return Status::Ok();
}

Status RequireModel(Connection& db, const std::optional<std::string>& model_id) {
  if (!model_id) return Status::Ok();
  // FOR SHARE keeps the model from being deleted before this transaction commits.
  return RequireRow(db, "SELECT 1 FROM model WHERE id = $1 FOR SHARE", *model_id, "model");
}

Status WriteTransformation(Connection& db, const Transformation& transformation, bool insert) {
  Params params;
  params.Add(transformation.id).Add(transformation.name).Add(transformation.title).Add(transformation.description);
  params.Add(transformation.prompt).Add(transformation.apply_default).Add(transformation.model_id);
  params.Add(transformation.created).Add(transformation.updated);
  return db
      .Query(insert ? "INSERT INTO transformation (id, name, title, description, prompt, apply_default, model_id, "
                      "created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                    : "UPDATE transformation SET name = $2, title = $3, description = $4, prompt = $5, "
                      "apply_default = $6, model_id = $7, updated = $9 WHERE id = $1 AND created = $8",
             params)
      .status();
}

}  // namespace

Result<Transformation> PostgresStorage::CreateTransformation(const Transformation& input) {
  return InTransaction<Transformation>([&](Connection& db) -> Result<Transformation> {
    ON_RETURN_IF_ERROR(RequireModel(db, input.model_id));
    Transformation transformation = input;
    transformation.id = NewId("transformation");
    transformation.created = transformation.updated = NowTimestamp();
    ON_RETURN_IF_ERROR(WriteTransformation(db, transformation, true));
    return transformation;
  });
}

Result<std::vector<Transformation>> PostgresStorage::ListTransformations() {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query(std::string(kTransformationColumns) + "ORDER BY lower(name), id"));
  std::vector<Transformation> transformations;
  for (int row = 0; row < rows.size(); ++row) transformations.push_back(ReadTransformation(rows, row));
  return transformations;
}

Result<Transformation> PostgresStorage::GetTransformation(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  return SelectTransformation(*db, id, false);
}

Result<Transformation> PostgresStorage::UpdateTransformation(const std::string& id, const TransformationPatch& patch) {
  return InTransaction<Transformation>([&](Connection& db) -> Result<Transformation> {
    ON_ASSIGN_OR_RETURN(Transformation transformation, SelectTransformation(db, id, true));
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

Status PostgresStorage::DeleteTransformation(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto deleted, db->Query("DELETE FROM transformation WHERE id = $1", Params().Add(id)));
  if (deleted.affected() == 0) return NotFound("transformation " + id + " was not found");
  return Status::Ok();
}

Result<std::string> PostgresStorage::GetTransformationInstructions() {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT value FROM app_setting WHERE key = $1", Params().Add(kInstructionsKey)));
  return rows.empty() ? std::string() : rows.Text(0, 0);
}

Status PostgresStorage::SetTransformationInstructions(const std::string& instructions) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  return db
      ->Query("INSERT INTO app_setting (key, value, updated) VALUES ($1, $2, $3) "
              "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
              Params().Add(kInstructionsKey).Add(instructions).Add(NowTimestamp()))
      .status();
}

Result<Insight> PostgresStorage::SaveInsight(const Insight& input) {
  return InTransaction<Insight>([&](Connection& db) -> Result<Insight> {
    // FOR SHARE keeps the source from being deleted before the insight is committed.
    ON_RETURN_IF_ERROR(RequireRow(db, "SELECT 1 FROM source WHERE id = $1 FOR SHARE", input.source_id, "source"));
    const std::string now = NowTimestamp();
    if (input.command_id) {
      auto existing = SelectInsight(db, "command_id", *input.command_id);
      if (existing.ok()) {
        ON_RETURN_IF_ERROR(db.Query("UPDATE source_insight SET insight_type = $2, content = $3, updated = $4 "
                                    "WHERE id = $1",
                                    Params().Add(existing->id).Add(input.insight_type).Add(input.content).Add(now))
                               .status());
        // The old vector describes the old text.
        ON_RETURN_IF_ERROR(
            db.Query("DELETE FROM embedding WHERE insight_id = $1", Params().Add(existing->id)).status());
        return SelectInsight(db, "id", existing->id);
      }
      if (existing.status().code() != ErrorCode::kNotFound) return existing.status();
    }
    Insight insight = input;
    insight.id = NewId("source_insight");
    insight.created = insight.updated = now;
    // A transformation or model deleted while the job ran is recorded as unknown.
    ON_RETURN_IF_ERROR(db.Query("INSERT INTO source_insight (id, source_id, insight_type, content, transformation_id, "
                                "model_id, command_id, created, updated) VALUES ($1, $2, $3, $4, "
                                "(SELECT id FROM transformation WHERE id = $5), (SELECT id FROM model WHERE id = $6), "
                                "$7, $8, $8)",
                                Params()
                                    .Add(insight.id)
                                    .Add(insight.source_id)
                                    .Add(insight.insight_type)
                                    .Add(insight.content)
                                    .Add(insight.transformation_id)
                                    .Add(insight.model_id)
                                    .Add(insight.command_id)
                                    .Add(now))
                           .status());
    return SelectInsight(db, "id", insight.id);
  });
}

Result<std::vector<Insight>> PostgresStorage::ListInsights(const std::string& source_id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_RETURN_IF_ERROR(RequireRow(*db, "SELECT 1 FROM source WHERE id = $1", source_id, "source"));
  ON_ASSIGN_OR_RETURN(auto rows, db->Query(std::string(kInsightColumns) + "WHERE source_id = $1 ORDER BY created, id",
                                           Params().Add(source_id)));
  std::vector<Insight> insights;
  for (int row = 0; row < rows.size(); ++row) insights.push_back(ReadInsight(rows, row));
  return insights;
}

Result<Insight> PostgresStorage::GetInsight(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  return SelectInsight(*db, "id", id);
}

Status PostgresStorage::DeleteInsight(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto deleted, db->Query("DELETE FROM source_insight WHERE id = $1", Params().Add(id)));
  if (deleted.affected() == 0) return NotFound("insight " + id + " was not found");
  return Status::Ok();
}

}  // namespace on::storage::postgres
