#include "jobs/embed_commands.h"

#include <spdlog/spdlog.h>

#include "ai/embedding_service.h"

namespace on::jobs {
namespace {

// Texts read from the database per round; each round is embedded in provider-sized batches.
constexpr int kItemsPerRound = 200;
// Attempts of embedding jobs. Provider clients retry 429 and 5xx responses themselves
// (RetryOptions in ai/http_client.h), so a job attempt fails only after those retries.
constexpr int kEmbedMaxAttempts = 5;

Result<std::string> StringField(const nlohmann::json& input, const char* command, const char* field) {
  if (!input.is_object() || !input.contains(field) || !input[field].is_string()) {
    return InvalidInput(std::string(command) + " needs {\"" + field + "\": \"...\"}");
  }
  return input[field].get<std::string>();
}

Result<ai::EmbeddingSetup> RequireSetup(const CommandEnvironment& environment) {
  ON_ASSIGN_OR_RETURN(auto setup, ai::DefaultEmbeddingSetup(environment.storage, environment.cipher, environment.env));
  if (!setup) {
    return Status(ErrorCode::kConfiguration,
                  "no default embedding model is configured; choose one with PUT /api/models/defaults "
                  "(default_embedding_model)");
  }
  return std::move(*setup);
}

// Embeds the items of a source, a note or an insight that lack a vector, round by round.
Result<nlohmann::json> EmbedItems(const CommandEnvironment& environment, JobContext& job,
                                  const storage::EmbeddingOwner& owner) {
  ON_ASSIGN_OR_RETURN(ai::EmbeddingSetup setup, RequireSetup(environment));
  ON_ASSIGN_OR_RETURN(auto model, ai::MakeEmbeddingModel(setup.config));
  ai::CancelToken cancel;
  int64_t stored = 0;
  for (;;) {
    if (job.CancelRequested()) return Status(ErrorCode::kCancelled, "embedding stopped because it was asked to stop");
    ON_ASSIGN_OR_RETURN(auto items, environment.storage.ListUnembedded(setup.key, owner, kItemsPerRound));
    if (items.empty()) break;
    std::vector<std::string> texts;
    for (const auto& item : items) texts.push_back(item.text);
    ON_ASSIGN_OR_RETURN(auto vectors, ai::EmbedInBatches(*model, texts, {}, cancel));
    ON_ASSIGN_OR_RETURN(int64_t saved, environment.storage.SaveEmbeddings(setup.key, items, vectors));
    stored += saved;
    job.Progress("embedding", 50);
    // Items deleted while they were embedded are skipped by SaveEmbeddings; stop rather than
    // embed the same missing items again.
    if (saved == 0) break;
  }
  job.Progress("done", 100);
  nlohmann::json result = {{"model", setup.key}, {"embedded", stored}};
  if (owner.source_id) result["source_id"] = *owner.source_id;
  if (owner.note_id) result["note_id"] = *owner.note_id;
  if (owner.insight_id) result["insight_id"] = *owner.insight_id;
  return result;
}

Result<nlohmann::json> RebuildEmbeddings(const CommandEnvironment& environment, JobContext& job) {
  const nlohmann::json& input = job.input();
  ON_RETURN_IF_ERROR(RequireSetup(environment).status());
  const std::string mode = input.is_object() ? input.value("mode", "existing") : "existing";
  if (mode != "existing" && mode != "all") return InvalidInput("rebuild_embeddings mode must be existing or all");
  const bool include_sources = !input.is_object() || input.value("include_sources", true);
  const bool include_notes = !input.is_object() || input.value("include_notes", true);
  const bool include_insights = !input.is_object() || input.value("include_insights", true);

  nlohmann::json result = {
      {"sources_submitted", 0}, {"notes_submitted", 0}, {"insights_submitted", 0}, {"failed_submissions", 0}};
  std::vector<std::string> sources;
  std::vector<std::string> notes;
  std::vector<std::string> insights;
  const bool only_embedded = mode == "existing";
  if (include_sources) {
    ON_ASSIGN_OR_RETURN(sources, environment.storage.ListEmbeddableSources(only_embedded));
  }
  if (include_notes) {
    ON_ASSIGN_OR_RETURN(notes, environment.storage.ListEmbeddableNotes(only_embedded));
  }
  if (include_insights) {
    ON_ASSIGN_OR_RETURN(insights, environment.storage.ListEmbeddableInsights(only_embedded));
  }
  const size_t total = sources.size() + notes.size() + insights.size();
  size_t done = 0;
  auto submit = [&](const Result<std::string>& submitted, const char* counter) {
    if (submitted.ok()) {
      result[counter] = result[counter].get<int64_t>() + 1;
    } else {
      result["failed_submissions"] = result["failed_submissions"].get<int64_t>() + 1;
      spdlog::warn("rebuild_embeddings job {}: submitting failed: {}", job.job_id(), submitted.status().message());
    }
    ++done;
    job.Progress("submitting", total == 0 ? 100 : static_cast<int>(done * 100 / total));
  };
  for (const auto& id : sources) submit(SubmitEmbedSource(environment.storage, id), "sources_submitted");
  for (const auto& id : notes) submit(SubmitEmbedNote(environment.storage, id), "notes_submitted");
  for (const auto& id : insights) submit(SubmitEmbedInsight(environment.storage, id), "insights_submitted");
  result["total_items"] = total;
  result["jobs_submitted"] = result["sources_submitted"].get<int64_t>() + result["notes_submitted"].get<int64_t>() +
                             result["insights_submitted"].get<int64_t>();
  return result;
}

Result<std::string> Submit(storage::Storage& storage, const std::string& command, const char* field,
                           const std::string& id) {
  storage::JobSpec spec;
  spec.app = "open_notebook";
  spec.command = command;
  spec.input_json = nlohmann::json{{field, id}}.dump();
  spec.max_attempts = kEmbedMaxAttempts;
  spec.dedupe_key = command + ":" + id;
  ON_ASSIGN_OR_RETURN(auto submitted, storage.jobs().Submit(spec));
  return submitted.job.id;
}

}  // namespace

Result<std::string> SubmitEmbedSource(storage::Storage& storage, const std::string& source_id) {
  return Submit(storage, "embed_source", "source_id", source_id);
}

Result<std::string> SubmitEmbedNote(storage::Storage& storage, const std::string& note_id) {
  return Submit(storage, "embed_note", "note_id", note_id);
}

Result<std::string> SubmitEmbedInsight(storage::Storage& storage, const std::string& insight_id) {
  return Submit(storage, "embed_insight", "insight_id", insight_id);
}

Status RegisterEmbedCommands(CommandRegistry& registry, const CommandEnvironment& environment) {
  ON_RETURN_IF_ERROR(registry.Register(CommandSpec{
      "open_notebook", "embed_source", "Embed the chunks of a source with the default embedding model",
      [environment](JobContext& job) -> Result<nlohmann::json> {
        ON_ASSIGN_OR_RETURN(std::string id, StringField(job.input(), "embed_source", "source_id"));
        return EmbedItems(environment, job, storage::EmbeddingOwner{.source_id = id});
      },
      std::nullopt}));
  ON_RETURN_IF_ERROR(registry.Register(CommandSpec{
      "open_notebook", "embed_note", "Embed a note with the default embedding model",
      [environment](JobContext& job) -> Result<nlohmann::json> {
        ON_ASSIGN_OR_RETURN(std::string id, StringField(job.input(), "embed_note", "note_id"));
        return EmbedItems(environment, job, storage::EmbeddingOwner{.note_id = id});
      },
      std::nullopt}));
  ON_RETURN_IF_ERROR(registry.Register(CommandSpec{
      "open_notebook", "embed_insight", "Embed an insight with the default embedding model",
      [environment](JobContext& job) -> Result<nlohmann::json> {
        ON_ASSIGN_OR_RETURN(std::string id, StringField(job.input(), "embed_insight", "insight_id"));
        return EmbedItems(environment, job, storage::EmbeddingOwner{.insight_id = id});
      },
      std::nullopt}));
  return registry.Register(CommandSpec{
      "open_notebook", "rebuild_embeddings", "Submit an embed job for every source, note and insight with text",
      [environment](JobContext& job) { return RebuildEmbeddings(environment, job); }, std::nullopt});
}

}  // namespace on::jobs
