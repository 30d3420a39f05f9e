// Podcast speaker profiles, episode profiles and episodes on PostgreSQL.
#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "storage/postgres/postgres_jobs.h"
#include "storage/postgres/postgres_storage.h"

namespace on::storage::postgres {
namespace {

constexpr std::string_view kSpeakerColumns =
    "SELECT id, name, description, voice_model, speakers, created, updated FROM speaker_profile ";
constexpr std::string_view kEpisodeProfileColumns =
    "SELECT id, name, description, speaker_config, outline_llm, transcript_llm, language, default_briefing, "
    "num_segments, max_tokens, created, updated FROM episode_profile ";
constexpr std::string_view kEpisodeColumns =
    "SELECT id, name, briefing, episode_profile, speaker_profile, notebook_id, content, command_id, outline, "
    "transcript, audio_file, duration_ms, created, updated FROM episode ";

SpeakerProfile ReadSpeakerProfile(const Rows& rows, int row) {
  SpeakerProfile profile;
  profile.id = rows.Text(row, 0);
  profile.name = rows.Text(row, 1);
  profile.description = rows.Text(row, 2);
  profile.voice_model = rows.OptionalText(row, 3);
  profile.speakers_json = rows.Text(row, 4);
  profile.created = rows.Text(row, 5);
  profile.updated = rows.Text(row, 6);
  return profile;
}

EpisodeProfile ReadEpisodeProfile(const Rows& rows, int row) {
  EpisodeProfile profile;
  profile.id = rows.Text(row, 0);
  profile.name = rows.Text(row, 1);
  profile.description = rows.Text(row, 2);
  profile.speaker_config = rows.OptionalText(row, 3);
  profile.outline_llm = rows.OptionalText(row, 4);
  profile.transcript_llm = rows.OptionalText(row, 5);
  profile.language = rows.OptionalText(row, 6);
  profile.default_briefing = rows.Text(row, 7);
  profile.num_segments = static_cast<int>(rows.Int(row, 8));
  profile.max_tokens = rows.OptionalInt(row, 9);
  profile.created = rows.Text(row, 10);
  profile.updated = rows.Text(row, 11);
  return profile;
}

Episode ReadEpisode(const Rows& rows, int row) {
  Episode episode;
  episode.id = rows.Text(row, 0);
  episode.name = rows.Text(row, 1);
  episode.briefing = rows.Text(row, 2);
  episode.episode_profile_json = rows.Text(row, 3);
  episode.speaker_profile_json = rows.Text(row, 4);
  episode.notebook_id = rows.OptionalText(row, 5);
  episode.content = rows.Text(row, 6);
  episode.command_id = rows.OptionalText(row, 7);
  episode.outline_json = rows.OptionalText(row, 8);
  episode.transcript_json = rows.OptionalText(row, 9);
  episode.audio_file = rows.OptionalText(row, 10);
  episode.duration_ms = rows.OptionalInt(row, 11);
  episode.created = rows.Text(row, 12);
  episode.updated = rows.Text(row, 13);
  return episode;
}

// Finds a row of `columns` by id, or else by name (case-insensitively).
template <typename Record, typename Reader>
Result<Record> SelectByIdOrName(Connection& db, std::string_view columns, const std::string& key, std::string_view what,
                                Reader read) {
  ON_ASSIGN_OR_RETURN(auto by_id, db.Query(std::string(columns) + "WHERE id = $1", Params().Add(key)));
  if (!by_id.empty()) return read(by_id, 0);
  ON_ASSIGN_OR_RETURN(auto by_name, db.Query(std::string(columns) + "WHERE lower(name) = lower($1) ORDER BY id LIMIT 1",
                                             Params().Add(key)));
  if (!by_name.empty()) return read(by_name, 0);
  return NotFound(std::string(what) + " '" + key + "' was not found");
}

// kNotFound unless `sql` finds `id`; nothing to check for an empty `id`. FOR SHARE in `sql` keeps
// the row from being deleted before the caller's transaction ends.
Status RequireRow(Connection& db, std::string_view sql, const std::optional<std::string>& id, std::string_view what) {
  if (!id) return Status::Ok();
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(sql, Params().Add(*id)));
  if (rows.empty()) return NotFound(std::string(what) + " " + *id + " was not found");
  return Status::Ok();
}

Status RequireModel(Connection& db, const std::optional<std::string>& model_id) {
  return RequireRow(db, "SELECT 1 FROM model WHERE id = $1 FOR SHARE", model_id, "model");
}

// kConflict when another row of `table` (a literal of this file, not `own_id`) has `name`. The
// unique index on lower(name) also rejects a name taken by a concurrent insert, with kConflict.
Status RequireFreeName(Connection& db, std::string_view table, const std::string& name, const std::string& own_id) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT id FROM " + std::string(table) +
                                              " WHERE lower(name) = lower($1) AND id <> $2",
                                          Params().Add(name).Add(own_id)));
  if (!rows.empty()) {
    return Status(ErrorCode::kConflict, std::string(table == "speaker_profile" ? "speaker" : "episode") +
                                            " profile name '" + name + "' is already used by " + rows.Text(0, 0) +
                                            "; choose another name");
  }
  return Status::Ok();
}

Status WriteSpeakerProfile(Connection& db, const SpeakerProfile& profile, bool insert) {
  ON_RETURN_IF_ERROR(RequireFreeName(db, "speaker_profile", profile.name, profile.id));
  ON_RETURN_IF_ERROR(RequireModel(db, profile.voice_model));
  return db
      .Query(insert ? "INSERT INTO speaker_profile (id, name, description, voice_model, speakers, created, updated) "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    : "UPDATE speaker_profile SET name = $2, description = $3, voice_model = $4, speakers = $5, "
                      "updated = $7 WHERE id = $1 AND created = $6",
             Params()
                 .Add(profile.id)
                 .Add(profile.name)
                 .Add(profile.description)
                 .Add(profile.voice_model)
                 .Add(profile.speakers_json)
                 .Add(profile.created)
                 .Add(profile.updated))
      .status();
}

Status WriteEpisodeProfile(Connection& db, const EpisodeProfile& profile, bool insert) {
  ON_RETURN_IF_ERROR(RequireFreeName(db, "episode_profile", profile.name, profile.id));
  ON_RETURN_IF_ERROR(RequireRow(db, "SELECT 1 FROM speaker_profile WHERE id = $1 FOR SHARE", profile.speaker_config,
                                "speaker profile"));
  ON_RETURN_IF_ERROR(RequireModel(db, profile.outline_llm));
  ON_RETURN_IF_ERROR(RequireModel(db, profile.transcript_llm));
  Params params;
  params.Add(profile.id).Add(profile.name).Add(profile.description).Add(profile.speaker_config);
  params.Add(profile.outline_llm).Add(profile.transcript_llm).Add(profile.language).Add(profile.default_briefing);
  params.Add(profile.num_segments);
  if (profile.max_tokens) {
    params.Add(*profile.max_tokens);
  } else {
    params.AddNull();
  }
  params.Add(profile.created).Add(profile.updated);
  return db
      .Query(insert ? "INSERT INTO episode_profile (id, name, description, speaker_config, outline_llm, "
                      "transcript_llm, language, default_briefing, num_segments, max_tokens, created, updated) "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                    : "UPDATE episode_profile SET name = $2, description = $3, speaker_config = $4, "
                      "outline_llm = $5, transcript_llm = $6, language = $7, default_briefing = $8, "
                      "num_segments = $9, max_tokens = $10, updated = $12 WHERE id = $1 AND created = $11",
             params)
      .status();
}

Result<Episode> SelectEpisode(Connection& db, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto rows, db.Query(std::string(kEpisodeColumns) + "WHERE id = $1", Params().Add(id)));
  if (rows.empty()) return NotFound("episode " + id + " was not found");
  return ReadEpisode(rows, 0);
}

// Inserts the generation job of `episode_id` and points the episode at it.
Result<std::string> QueueEpisodeJob(Connection& db, const std::string& episode_id, JobSpec job) {
  nlohmann::json input = nlohmann::json::parse(job.input_json, nullptr, false);
  if (!input.is_object()) input = nlohmann::json::object();
  input["episode_id"] = episode_id;
  job.input_json = input.dump();
  ON_ASSIGN_OR_RETURN(SubmitResult submitted, InsertJob(db, job, std::chrono::system_clock::now()));
  ON_RETURN_IF_ERROR(db.Query("UPDATE episode SET command_id = $2, updated = $3 WHERE id = $1",
                              Params().Add(episode_id).Add(submitted.job.id).Add(NowTimestamp()))
                         .status());
  return submitted.job.id;
}

template <typename Record, typename Reader>
Result<std::vector<Record>> SelectAll(Pool& pool, const std::string& sql, Reader read) {
  ON_ASSIGN_OR_RETURN(auto db, pool.Acquire());
  ON_ASSIGN_OR_RETURN(auto rows, db->Query(sql));
  std::vector<Record> records;
  for (int row = 0; row < rows.size(); ++row) records.push_back(read(rows, row));
  return records;
}

// Deletes the row `id` of `table` (a literal of this file).
Status DeleteById(Pool& pool, std::string_view table, const std::string& id, std::string_view what) {
  ON_ASSIGN_OR_RETURN(auto db, pool.Acquire());
  ON_ASSIGN_OR_RETURN(auto deleted, db->Query("DELETE FROM " + std::string(table) + " WHERE id = $1", Params().Add(id)));
  if (deleted.affected() == 0) return NotFound(std::string(what) + " " + id + " was not found");
  return Status::Ok();
}

}  // namespace

Result<SpeakerProfile> PostgresStorage::CreateSpeakerProfile(const SpeakerProfile& input) {
  return InTransaction<SpeakerProfile>([&](Connection& db) -> Result<SpeakerProfile> {
    SpeakerProfile profile = input;
    profile.id = NewId("speaker_profile");
    profile.created = profile.updated = NowTimestamp();
    ON_RETURN_IF_ERROR(WriteSpeakerProfile(db, profile, true));
    return profile;
  });
}

Result<std::vector<SpeakerProfile>> PostgresStorage::ListSpeakerProfiles() {
  return SelectAll<SpeakerProfile>(*pool_, std::string(kSpeakerColumns) + "ORDER BY lower(name), id", ReadSpeakerProfile);
}

Result<SpeakerProfile> PostgresStorage::GetSpeakerProfile(const std::string& id_or_name) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  return SelectByIdOrName<SpeakerProfile>(*db, kSpeakerColumns, id_or_name, "speaker profile", ReadSpeakerProfile);
}

Result<SpeakerProfile> PostgresStorage::UpdateSpeakerProfile(const SpeakerProfile& input) {
  return InTransaction<SpeakerProfile>([&](Connection& db) -> Result<SpeakerProfile> {
    ON_ASSIGN_OR_RETURN(auto rows, db.Query(std::string(kSpeakerColumns) + "WHERE id = $1 FOR UPDATE", Params().Add(input.id)));
    if (rows.empty()) return NotFound("speaker profile " + input.id + " was not found");
    SpeakerProfile profile = input;
    profile.created = rows.Text(0, 5);
    profile.updated = NowTimestamp();
    ON_RETURN_IF_ERROR(WriteSpeakerProfile(db, profile, false));
    return profile;
  });
}

Status PostgresStorage::DeleteSpeakerProfile(const std::string& id) {
  return DeleteById(*pool_, "speaker_profile", id, "speaker profile");
}

Result<EpisodeProfile> PostgresStorage::CreateEpisodeProfile(const EpisodeProfile& input) {
  return InTransaction<EpisodeProfile>([&](Connection& db) -> Result<EpisodeProfile> {
    EpisodeProfile profile = input;
    profile.id = NewId("episode_profile");
    profile.created = profile.updated = NowTimestamp();
    ON_RETURN_IF_ERROR(WriteEpisodeProfile(db, profile, true));
    return profile;
  });
}

Result<std::vector<EpisodeProfile>> PostgresStorage::ListEpisodeProfiles() {
  return SelectAll<EpisodeProfile>(*pool_, std::string(kEpisodeProfileColumns) + "ORDER BY lower(name), id",
                                   ReadEpisodeProfile);
}

Result<EpisodeProfile> PostgresStorage::GetEpisodeProfile(const std::string& id_or_name) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  return SelectByIdOrName<EpisodeProfile>(*db, kEpisodeProfileColumns, id_or_name, "episode profile",
                                          ReadEpisodeProfile);
}

Result<EpisodeProfile> PostgresStorage::UpdateEpisodeProfile(const EpisodeProfile& input) {
  return InTransaction<EpisodeProfile>([&](Connection& db) -> Result<EpisodeProfile> {
    ON_ASSIGN_OR_RETURN(auto rows,
                        db.Query(std::string(kEpisodeProfileColumns) + "WHERE id = $1 FOR UPDATE", Params().Add(input.id)));
    if (rows.empty()) return NotFound("episode profile " + input.id + " was not found");
    EpisodeProfile profile = input;
    profile.created = rows.Text(0, 10);
    profile.updated = NowTimestamp();
    ON_RETURN_IF_ERROR(WriteEpisodeProfile(db, profile, false));
    return profile;
  });
}

Status PostgresStorage::DeleteEpisodeProfile(const std::string& id) {
  return DeleteById(*pool_, "episode_profile", id, "episode profile");
}

Result<Episode> PostgresStorage::CreateEpisode(const Episode& input, const JobSpec& job) {
  std::string job_id;
  auto created = InTransaction<Episode>([&](Connection& db) -> Result<Episode> {
    ON_RETURN_IF_ERROR(RequireRow(db, "SELECT 1 FROM notebook WHERE id = $1 FOR SHARE", input.notebook_id, "notebook"));
    const std::string id = NewId("episode");
    const std::string now = NowTimestamp();
    ON_RETURN_IF_ERROR(db.Query("INSERT INTO episode (id, name, briefing, episode_profile, speaker_profile, notebook_id, "
                                "content, created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                                Params()
                                    .Add(id)
                                    .Add(input.name)
                                    .Add(input.briefing)
                                    .Add(input.episode_profile_json)
                                    .Add(input.speaker_profile_json)
                                    .Add(input.notebook_id)
                                    .Add(input.content)
                                    .Add(now))
                           .status());
    ON_ASSIGN_OR_RETURN(job_id, QueueEpisodeJob(db, id, job));
    return SelectEpisode(db, id);
  });
  if (created.ok()) jobs().NotifySubmitted(job_id);
  return created;
}

Result<Episode> PostgresStorage::GetEpisode(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  return SelectEpisode(*db, id);
}

Result<std::vector<Episode>> PostgresStorage::ListEpisodes() {
  return SelectAll<Episode>(*pool_, std::string(kEpisodeColumns) + "ORDER BY created DESC, id DESC", ReadEpisode);
}

Status PostgresStorage::SaveEpisodeOutput(const std::string& id, const EpisodeOutput& output) {
  Params params;
  params.Add(id).Add(output.outline_json).Add(output.transcript_json).Add(output.audio_file);
  if (output.duration_ms) {
    params.Add(*output.duration_ms);
  } else {
    params.AddNull();
  }
  params.Add(NowTimestamp());
  ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
  ON_ASSIGN_OR_RETURN(auto updated, db->Query("UPDATE episode SET outline = coalesce($2, outline), "
                                              "transcript = coalesce($3, transcript), audio_file = coalesce($4, audio_file), "
                                              "duration_ms = coalesce($5, duration_ms), updated = $6 WHERE id = $1",
                                              params));
  if (updated.affected() == 0) return NotFound("episode " + id + " was not found");
  return Status::Ok();
}

Result<Episode> PostgresStorage::RequeueEpisode(const std::string& id, const JobSpec& job) {
  std::string job_id;
  auto requeued = InTransaction<Episode>([&](Connection& db) -> Result<Episode> {
    ON_ASSIGN_OR_RETURN(auto cleared, db.Query("UPDATE episode SET outline = NULL, transcript = NULL, audio_file = NULL, "
                                               "duration_ms = NULL WHERE id = $1",
                                               Params().Add(id)));
    if (cleared.affected() == 0) return NotFound("episode " + id + " was not found");
    ON_ASSIGN_OR_RETURN(job_id, QueueEpisodeJob(db, id, job));
    return SelectEpisode(db, id);
  });
  if (requeued.ok()) jobs().NotifySubmitted(job_id);
  return requeued;
}

Status PostgresStorage::DeleteEpisode(const std::string& id) { return DeleteById(*pool_, "episode", id, "episode"); }

}  // namespace on::storage::postgres
