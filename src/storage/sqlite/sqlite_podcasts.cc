// Podcast speaker profiles, episode profiles and episodes on SQLite (migration 0008).
#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "storage/sqlite/sqlite_storage.h"

namespace on::storage::sqlite {
namespace {

constexpr std::string_view kSpeakerColumns =
    "SELECT id, name, description, voice_model, speakers, created, updated FROM speaker_profile ";

constexpr std::string_view kEpisodeProfileColumns =
    "SELECT id, name, description, speaker_config, outline_llm, transcript_llm, language, default_briefing, "
    "num_segments, max_tokens, created, updated FROM episode_profile ";

constexpr std::string_view kEpisodeColumns =
    "SELECT id, name, briefing, episode_profile, speaker_profile, notebook_id, content, command_id, outline, "
    "transcript, audio_file, duration_ms, created, updated FROM episode ";

std::optional<int64_t> OptionalInt(const Statement& row, int column) {
  if (row.IsNull(column)) return std::nullopt;
  return row.Int(column);
}

SpeakerProfile ReadSpeakerProfile(const Statement& row) {
  SpeakerProfile profile;
  profile.id = row.Text(0);
  profile.name = row.Text(1);
  profile.description = row.Text(2);
  profile.voice_model = row.OptionalText(3);
  profile.speakers_json = row.Text(4);
  profile.created = row.Text(5);
  profile.updated = row.Text(6);
  return profile;
}

EpisodeProfile ReadEpisodeProfile(const Statement& row) {
  EpisodeProfile profile;
  profile.id = row.Text(0);
  profile.name = row.Text(1);
  profile.description = row.Text(2);
  profile.speaker_config = row.OptionalText(3);
  profile.outline_llm = row.OptionalText(4);
  profile.transcript_llm = row.OptionalText(5);
  profile.language = row.OptionalText(6);
  profile.default_briefing = row.Text(7);
  profile.num_segments = static_cast<int>(row.Int(8));
  profile.max_tokens = OptionalInt(row, 9);
  profile.created = row.Text(10);
  profile.updated = row.Text(11);
  return profile;
}

Episode ReadEpisode(const Statement& row) {
  Episode episode;
  episode.id = row.Text(0);
  episode.name = row.Text(1);
  episode.briefing = row.Text(2);
  episode.episode_profile_json = row.Text(3);
  episode.speaker_profile_json = row.Text(4);
  episode.notebook_id = row.OptionalText(5);
  episode.content = row.Text(6);
  episode.command_id = row.OptionalText(7);
  episode.outline_json = row.OptionalText(8);
  episode.transcript_json = row.OptionalText(9);
  episode.audio_file = row.OptionalText(10);
  episode.duration_ms = OptionalInt(row, 11);
  episode.created = row.Text(12);
  episode.updated = row.Text(13);
  return episode;
}

// Finds a row of `columns` by id, or else by name (case-insensitively).
template <typename Record, typename Reader>
Result<Record> SelectByIdOrName(Connection& db, std::string_view columns, const std::string& key, std::string_view what,
                                Reader read) {
  ON_ASSIGN_OR_RETURN(auto by_id, db.Prepare(std::string(columns) + "WHERE id = ?1"));
  by_id.Bind(1, key);
  ON_ASSIGN_OR_RETURN(bool row, by_id.Step());
  if (row) return read(by_id);
  ON_ASSIGN_OR_RETURN(auto by_name, db.Prepare(std::string(columns) + "WHERE name = ?1 COLLATE NOCASE"));
  by_name.Bind(1, key);
  ON_ASSIGN_OR_RETURN(row, by_name.Step());
  if (row) return read(by_name);
  return NotFound(std::string(what) + " '" + key + "' was not found");
}

Status RequireRow(Connection& db, std::string_view sql, const std::optional<std::string>& id, std::string_view what) {
  if (!id) return Status::Ok();
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(sql));
  statement.Bind(1, *id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound(std::string(what) + " " + *id + " was not found");
  return Status::Ok();
}

Status RequireModel(Connection& db, const std::optional<std::string>& model_id) {
  return RequireRow(db, "SELECT 1 FROM model WHERE id = ?1", model_id, "model");
}

// kConflict when another row of `table` (not `own_id`) has `name`.
Status RequireFreeName(Connection& db, std::string_view table, const std::string& name, const std::string& own_id) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare("SELECT id FROM " + std::string(table) +
                                                 " WHERE name = ?1 COLLATE NOCASE AND id <> ?2"));
  statement.Bind(1, name).Bind(2, own_id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (row) {
    return Status(ErrorCode::kConflict, std::string(table == "speaker_profile" ? "speaker" : "episode") +
                                            " profile name '" + name + "' is already used by " + statement.Text(0) +
                                            "; choose another name");
  }
  return Status::Ok();
}

Status WriteSpeakerProfile(Connection& db, const SpeakerProfile& profile, bool insert) {
  ON_RETURN_IF_ERROR(RequireFreeName(db, "speaker_profile", profile.name, profile.id));
  ON_RETURN_IF_ERROR(RequireModel(db, profile.voice_model));
  ON_ASSIGN_OR_RETURN(auto statement,
                      db.Prepare(insert ? "INSERT INTO speaker_profile (id, name, description, voice_model, speakers, "
                                          "created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                                        : "UPDATE speaker_profile SET name = ?2, description = ?3, voice_model = ?4, "
                                          "speakers = ?5, updated = ?7 WHERE id = ?1 AND created = ?6"));
  statement.Bind(1, profile.id).Bind(2, profile.name).Bind(3, profile.description);
  statement.BindOptional(4, profile.voice_model).Bind(5, profile.speakers_json);
  statement.Bind(6, profile.created).Bind(7, profile.updated);
  return statement.Run();
}

Status WriteEpisodeProfile(Connection& db, const EpisodeProfile& profile, bool insert) {
  ON_RETURN_IF_ERROR(RequireFreeName(db, "episode_profile", profile.name, profile.id));
  ON_RETURN_IF_ERROR(RequireRow(db, "SELECT 1 FROM speaker_profile WHERE id = ?1", profile.speaker_config,
                                "speaker profile"));
  ON_RETURN_IF_ERROR(RequireModel(db, profile.outline_llm));
  ON_RETURN_IF_ERROR(RequireModel(db, profile.transcript_llm));
  ON_ASSIGN_OR_RETURN(
      auto statement,
      db.Prepare(insert ? "INSERT INTO episode_profile (id, name, description, speaker_config, outline_llm, "
                          "transcript_llm, language, default_briefing, num_segments, max_tokens, created, updated) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                        : "UPDATE episode_profile SET name = ?2, description = ?3, speaker_config = ?4, "
                          "outline_llm = ?5, transcript_llm = ?6, language = ?7, default_briefing = ?8, "
                          "num_segments = ?9, max_tokens = ?10, updated = ?12 WHERE id = ?1 AND created = ?11"));
  statement.Bind(1, profile.id).Bind(2, profile.name).Bind(3, profile.description);
  statement.BindOptional(4, profile.speaker_config).BindOptional(5, profile.outline_llm);
  statement.BindOptional(6, profile.transcript_llm).BindOptional(7, profile.language);
  statement.Bind(8, profile.default_briefing).Bind(9, static_cast<int64_t>(profile.num_segments));
  if (profile.max_tokens) {
    statement.Bind(10, *profile.max_tokens);
  } else {
    statement.BindNull(10);
  }
  statement.Bind(11, profile.created).Bind(12, profile.updated);
  return statement.Run();
}

Result<Episode> SelectEpisode(Connection& db, const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(std::string(kEpisodeColumns) + "WHERE id = ?1"));
  statement.Bind(1, id);
  ON_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound("episode " + id + " was not found");
  return ReadEpisode(statement);
}

// Inserts the generation job of `episode_id` and points the episode at it.
Result<std::string> QueueEpisodeJob(Connection& db, const std::string& episode_id, JobSpec job) {
  nlohmann::json input = nlohmann::json::parse(job.input_json, nullptr, false);
  if (!input.is_object()) input = nlohmann::json::object();
  input["episode_id"] = episode_id;
  job.input_json = input.dump();
  ON_ASSIGN_OR_RETURN(SubmitResult submitted, InsertJob(db, job, std::chrono::system_clock::now()));
  ON_ASSIGN_OR_RETURN(auto update, db.Prepare("UPDATE episode SET command_id = ?2, updated = ?3 WHERE id = ?1"));
  update.Bind(1, episode_id).Bind(2, submitted.job.id).Bind(3, NowTimestamp());
  ON_RETURN_IF_ERROR(update.Run());
  return submitted.job.id;
}

template <typename Record, typename Reader>
Result<std::vector<Record>> SelectAll(Database::ReaderLease& reader, std::string sql, Reader read) {
  ON_ASSIGN_OR_RETURN(auto statement, reader->Prepare(sql));
  std::vector<Record> records;
  for (;;) {
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    records.push_back(read(statement));
  }
  return records;
}

Status DeleteById(Writer& writer, std::string_view table, const std::string& id, std::string_view what) {
  return writer.Run<bool>([&](Connection& db) -> Result<bool> {
    ON_ASSIGN_OR_RETURN(auto remove, db.Prepare("DELETE FROM " + std::string(table) + " WHERE id = ?1"));
    remove.Bind(1, id);
    ON_RETURN_IF_ERROR(remove.Run());
    if (db.Changes() == 0) return NotFound(std::string(what) + " " + id + " was not found");
    return true;
  }).status();
}

}  // namespace

Result<SpeakerProfile> SqliteStorage::CreateSpeakerProfile(const SpeakerProfile& input) {
  return writer_->Run<SpeakerProfile>([&](Connection& db) -> Result<SpeakerProfile> {
    SpeakerProfile profile = input;
    profile.id = NewId("speaker_profile");
    profile.created = profile.updated = NowTimestamp();
    ON_RETURN_IF_ERROR(WriteSpeakerProfile(db, profile, true));
    return profile;
  });
}

Result<std::vector<SpeakerProfile>> SqliteStorage::ListSpeakerProfiles() {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectAll<SpeakerProfile>(reader, std::string(kSpeakerColumns) + "ORDER BY name COLLATE NOCASE, id",
                                   ReadSpeakerProfile);
}

Result<SpeakerProfile> SqliteStorage::GetSpeakerProfile(const std::string& id_or_name) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectByIdOrName<SpeakerProfile>(*reader, kSpeakerColumns, id_or_name, "speaker profile", ReadSpeakerProfile);
}

Result<SpeakerProfile> SqliteStorage::UpdateSpeakerProfile(const SpeakerProfile& input) {
  return writer_->Run<SpeakerProfile>([&](Connection& db) -> Result<SpeakerProfile> {
    ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(std::string(kSpeakerColumns) + "WHERE id = ?1"));
    statement.Bind(1, input.id);
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) return NotFound("speaker profile " + input.id + " was not found");
    SpeakerProfile profile = input;
    profile.created = statement.Text(5);
    profile.updated = NowTimestamp();
    ON_RETURN_IF_ERROR(WriteSpeakerProfile(db, profile, false));
    return profile;
  });
}

Status SqliteStorage::DeleteSpeakerProfile(const std::string& id) {
  return DeleteById(*writer_, "speaker_profile", id, "speaker profile");
}

Result<EpisodeProfile> SqliteStorage::CreateEpisodeProfile(const EpisodeProfile& input) {
  return writer_->Run<EpisodeProfile>([&](Connection& db) -> Result<EpisodeProfile> {
    EpisodeProfile profile = input;
    profile.id = NewId("episode_profile");
    profile.created = profile.updated = NowTimestamp();
    ON_RETURN_IF_ERROR(WriteEpisodeProfile(db, profile, true));
    return profile;
  });
}

Result<std::vector<EpisodeProfile>> SqliteStorage::ListEpisodeProfiles() {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectAll<EpisodeProfile>(reader, std::string(kEpisodeProfileColumns) + "ORDER BY name COLLATE NOCASE, id",
                                   ReadEpisodeProfile);
}

Result<EpisodeProfile> SqliteStorage::GetEpisodeProfile(const std::string& id_or_name) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectByIdOrName<EpisodeProfile>(*reader, kEpisodeProfileColumns, id_or_name, "episode profile",
                                          ReadEpisodeProfile);
}

Result<EpisodeProfile> SqliteStorage::UpdateEpisodeProfile(const EpisodeProfile& input) {
  return writer_->Run<EpisodeProfile>([&](Connection& db) -> Result<EpisodeProfile> {
    ON_ASSIGN_OR_RETURN(auto statement, db.Prepare(std::string(kEpisodeProfileColumns) + "WHERE id = ?1"));
    statement.Bind(1, input.id);
    ON_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) return NotFound("episode profile " + input.id + " was not found");
    EpisodeProfile profile = input;
    profile.created = statement.Text(10);
    profile.updated = NowTimestamp();
    ON_RETURN_IF_ERROR(WriteEpisodeProfile(db, profile, false));
    return profile;
  });
}

Status SqliteStorage::DeleteEpisodeProfile(const std::string& id) {
  return DeleteById(*writer_, "episode_profile", id, "episode profile");
}

Result<Episode> SqliteStorage::CreateEpisode(const Episode& input, const JobSpec& job) {
  std::string job_id;
  auto created = writer_->Run<Episode>([&](Connection& db) -> Result<Episode> {
    if (input.notebook_id) {
      ON_RETURN_IF_ERROR(RequireRow(db, "SELECT 1 FROM notebook WHERE id = ?1", input.notebook_id, "notebook"));
    }
    const std::string id = NewId("episode");
    const std::string now = NowTimestamp();
    ON_ASSIGN_OR_RETURN(auto insert, db.Prepare(
        "INSERT INTO episode (id, name, briefing, episode_profile, speaker_profile, notebook_id, content, created, "
        "updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"));
    insert.Bind(1, id).Bind(2, input.name).Bind(3, input.briefing).Bind(4, input.episode_profile_json);
    insert.Bind(5, input.speaker_profile_json).BindOptional(6, input.notebook_id).Bind(7, input.content).Bind(8, now);
    ON_RETURN_IF_ERROR(insert.Run());
    ON_ASSIGN_OR_RETURN(job_id, QueueEpisodeJob(db, id, job));
    return SelectEpisode(db, id);
  });
  if (created.ok()) jobs().NotifySubmitted(job_id);
  return created;
}

Result<Episode> SqliteStorage::GetEpisode(const std::string& id) {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectEpisode(*reader, id);
}

Result<std::vector<Episode>> SqliteStorage::ListEpisodes() {
  ON_ASSIGN_OR_RETURN(auto reader, Reader());
  return SelectAll<Episode>(reader, std::string(kEpisodeColumns) + "ORDER BY created DESC, id DESC", ReadEpisode);
}

Status SqliteStorage::SaveEpisodeOutput(const std::string& id, const EpisodeOutput& output) {
  return writer_->Run<bool>([&](Connection& db) -> Result<bool> {
    ON_ASSIGN_OR_RETURN(auto update, db.Prepare(
        "UPDATE episode SET outline = coalesce(?2, outline), transcript = coalesce(?3, transcript), "
        "audio_file = coalesce(?4, audio_file), duration_ms = coalesce(?5, duration_ms), updated = ?6 WHERE id = ?1"));
    update.Bind(1, id).BindOptional(2, output.outline_json).BindOptional(3, output.transcript_json);
    update.BindOptional(4, output.audio_file);
    if (output.duration_ms) {
      update.Bind(5, *output.duration_ms);
    } else {
      update.BindNull(5);
    }
    update.Bind(6, NowTimestamp());
    ON_RETURN_IF_ERROR(update.Run());
    if (db.Changes() == 0) return NotFound("episode " + id + " was not found");
    return true;
  }).status();
}

Result<Episode> SqliteStorage::RequeueEpisode(const std::string& id, const JobSpec& job) {
  std::string job_id;
  auto requeued = writer_->Run<Episode>([&](Connection& db) -> Result<Episode> {
    ON_ASSIGN_OR_RETURN(auto clear, db.Prepare(
        "UPDATE episode SET outline = NULL, transcript = NULL, audio_file = NULL, duration_ms = NULL WHERE id = ?1"));
    clear.Bind(1, id);
    ON_RETURN_IF_ERROR(clear.Run());
    if (db.Changes() == 0) return NotFound("episode " + id + " was not found");
    ON_ASSIGN_OR_RETURN(job_id, QueueEpisodeJob(db, id, job));
    return SelectEpisode(db, id);
  });
  if (requeued.ok()) jobs().NotifySubmitted(job_id);
  return requeued;
}

Status SqliteStorage::DeleteEpisode(const std::string& id) { return DeleteById(*writer_, "episode", id, "episode"); }

}  // namespace on::storage::sqlite
