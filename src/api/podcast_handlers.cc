// Podcasts: /api/podcasts/... (generation, jobs, episodes, audio), /api/episode-profiles and
// /api/speaker-profiles.
#include <cstdint>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/app_context.h"
#include "api/json_body.h"
#include "core/ids.h"
#include "jobs/podcast_commands.h"
#include "podcast/episode.h"

namespace on::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxNameLength = 200;
constexpr size_t kMaxDescriptionLength = 4000;
constexpr size_t kMaxBriefingLength = 20'000;
constexpr size_t kMaxContentLength = 20u << 20;
constexpr int64_t kMaxOutputTokens = 1'000'000;

json Optional(const std::optional<std::string>& value) { return value ? json(*value) : json(nullptr); }

// ---------------------------------------------------------------------------------------------
// Profiles

json SpeakerProfileJson(const storage::SpeakerProfile& profile) {
  json speakers = json::parse(profile.speakers_json, nullptr, false);
  if (!speakers.is_array()) speakers = json::array();
  return {{"id", profile.id},
          {"name", profile.name},
          {"description", profile.description},
          {"voice_model", Optional(profile.voice_model)},
          {"speakers", speakers},
          {"created", profile.created},
          {"updated", profile.updated}};
}

json EpisodeProfileJson(const storage::EpisodeProfile& profile, const std::optional<std::string>& speaker_name) {
  return {{"id", profile.id},
          {"name", profile.name},
          {"description", profile.description},
          {"speaker_config", Optional(profile.speaker_config)},
          {"speaker_config_name", Optional(speaker_name)},
          {"outline_llm", Optional(profile.outline_llm)},
          {"transcript_llm", Optional(profile.transcript_llm)},
          {"language", Optional(profile.language)},
          {"default_briefing", profile.default_briefing},
          {"num_segments", profile.num_segments},
          {"max_tokens", profile.max_tokens ? json(*profile.max_tokens) : json(nullptr)},
          {"created", profile.created},
          {"updated", profile.updated}};
}

// The name of the speaker profile an episode profile links to; nullopt when unset or gone.
std::optional<std::string> SpeakerName(AppContext& context, const storage::EpisodeProfile& profile) {
  if (!profile.speaker_config) return std::nullopt;
  auto speaker = context.storage().GetSpeakerProfile(*profile.speaker_config);
  if (!speaker.ok()) return std::nullopt;
  return speaker->name;
}

// A model id from a request that must name a model of `type`.
Result<std::string> ModelOfType(AppContext& context, std::string_view value, std::string_view field,
                                std::string_view type) {
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("model", value, field));
  ON_ASSIGN_OR_RETURN(storage::Model model, context.storage().GetModel(id));
  if (model.type != type) {
    return InvalidInput("field '" + std::string(field) + "': model " + id + " is a " + model.type + " model; expected a " +
                        std::string(type) + " model");
  }
  return id;
}

// Applies an optional model field: absent keeps `target`, null or "" clears it.
Status ApplyModelField(AppContext& context, const JsonBody& body, std::string_view field, std::string_view type,
                       std::optional<std::string>& target) {
  if (!body.Has(field)) return Status::Ok();
  ON_ASSIGN_OR_RETURN(auto value, body.String(field, 128));
  if (!value || TrimWhitespace(*value).empty()) {
    target.reset();
    return Status::Ok();
  }
  ON_ASSIGN_OR_RETURN(target, ModelOfType(context, *value, field, type));
  return Status::Ok();
}

Status ApplyName(const JsonBody& body, std::string& name, bool required) {
  ON_ASSIGN_OR_RETURN(auto value, body.String("name", kMaxNameLength));
  if (!value) return required ? InvalidInput("field 'name' is required") : Status::Ok();
  const std::string trimmed = TrimWhitespace(*value);
  if (trimmed.empty()) return InvalidInput("field 'name' cannot be empty");
  name = trimmed;
  return Status::Ok();
}

// Reads a speaker profile body over `profile` (POST: a new one, PUT: the stored one).
Status ApplySpeakerProfileBody(AppContext& context, const JsonBody& body, storage::SpeakerProfile& profile,
                               bool creating) {
  ON_RETURN_IF_ERROR(ApplyName(body, profile.name, creating));
  ON_ASSIGN_OR_RETURN(auto description, body.String("description", kMaxDescriptionLength));
  if (description) profile.description = *description;
  ON_RETURN_IF_ERROR(ApplyModelField(context, body, "voice_model", "text_to_speech", profile.voice_model));
  if (body.Has("speakers") || creating) {
    if (!body.Has("speakers")) return InvalidInput("field 'speakers' is required: a list of 1 to 4 speakers");
    ON_ASSIGN_OR_RETURN(auto speakers, podcast::ParseSpeakers(body.object().at("speakers")));
    for (auto& speaker : speakers) {
      if (speaker.voice_model) {
        ON_ASSIGN_OR_RETURN(speaker.voice_model, ModelOfType(context, *speaker.voice_model,
                                                             "speakers[].voice_model", "text_to_speech"));
      }
    }
    profile.speakers_json = podcast::SpeakersToJson(speakers).dump();
  }
  return Status::Ok();
}

bool IsLanguageTag(const std::string& tag) {
  static const std::regex pattern("^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$");
  return std::regex_match(tag, pattern);
}

Status ApplyEpisodeProfileBody(AppContext& context, const JsonBody& body, storage::EpisodeProfile& profile,
                               bool creating) {
  ON_RETURN_IF_ERROR(ApplyName(body, profile.name, creating));
  ON_ASSIGN_OR_RETURN(auto description, body.String("description", kMaxDescriptionLength));
  if (description) profile.description = *description;
  ON_ASSIGN_OR_RETURN(auto briefing, body.String("default_briefing", kMaxBriefingLength));
  if (briefing) profile.default_briefing = *briefing;
  if (body.Has("speaker_config")) {
    ON_ASSIGN_OR_RETURN(auto speaker, body.String("speaker_config", kMaxNameLength));
    if (!speaker || TrimWhitespace(*speaker).empty()) {
      profile.speaker_config.reset();
    } else {
      auto found = context.storage().GetSpeakerProfile(TrimWhitespace(*speaker));
      if (!found.ok()) {
        if (found.status().code() != ErrorCode::kNotFound) return found.status();
        return InvalidInput("speaker profile '" + *speaker +
                            "' was not found; name an existing speaker profile by id or name");
      }
      profile.speaker_config = found->id;
    }
  }
  ON_RETURN_IF_ERROR(ApplyModelField(context, body, "outline_llm", "language", profile.outline_llm));
  ON_RETURN_IF_ERROR(ApplyModelField(context, body, "transcript_llm", "language", profile.transcript_llm));
  if (body.Has("language")) {
    ON_ASSIGN_OR_RETURN(auto language, body.String("language", 35));
    if (!language || TrimWhitespace(*language).empty()) {
      profile.language.reset();
    } else if (!IsLanguageTag(TrimWhitespace(*language))) {
      return InvalidInput("language '" + *language + "' is not a BCP 47 language tag such as en, en-US or zh-CN");
    } else {
      profile.language = TrimWhitespace(*language);
    }
  }
  if (body.Has("num_segments") && !body.IsNull("num_segments")) {
    const json& value = body.object().at("num_segments");
    if (!value.is_number_integer()) return Status(ErrorCode::kValidation, "field 'num_segments' must be an integer");
    const int64_t segments = value.get<int64_t>();
    if (segments < podcast::kMinSegments || segments > podcast::kMaxSegments) {
      return InvalidInput("num_segments is " + std::to_string(segments) + "; expected 3 to 20");
    }
    profile.num_segments = static_cast<int>(segments);
  }
  if (body.Has("max_tokens")) {
    const json& value = body.object().at("max_tokens");
    if (value.is_null()) {
      profile.max_tokens.reset();
    } else if (!value.is_number_integer()) {
      return Status(ErrorCode::kValidation, "field 'max_tokens' must be an integer or null");
    } else if (value.get<int64_t>() < 1 || value.get<int64_t>() > kMaxOutputTokens) {
      return InvalidInput("max_tokens is " + value.dump() + "; expected 1 to " + std::to_string(kMaxOutputTokens));
    } else {
      profile.max_tokens = value.get<int64_t>();
    }
  }
  return Status::Ok();
}

// A free name for a copy: "<name> - Copy", then "<name> - Copy 2", ...
template <typename Getter>
Result<std::string> CopyName(const std::string& name, Getter exists) {
  for (int i = 1; i <= 100; ++i) {
    std::string candidate = name + " - Copy" + (i == 1 ? "" : " " + std::to_string(i));
    ON_ASSIGN_OR_RETURN(bool taken, exists(candidate));
    if (!taken) return candidate;
  }
  return Status(ErrorCode::kConflict, "profile '" + name + "' already has 100 copies; rename some of them");
}

template <typename Record>
Result<bool> Exists(const Result<Record>& found) {
  if (found.ok()) return true;
  if (found.status().code() == ErrorCode::kNotFound) return false;
  return found.status();
}

Result<JsonBody> ParseSpeakerProfileBody(std::string_view body) {
  return JsonBody::Parse(body, {"name", "description", "voice_model", "speakers"});
}

Result<JsonBody> ParseEpisodeProfileBody(std::string_view body) {
  return JsonBody::Parse(body, {"name", "description", "speaker_config", "outline_llm", "transcript_llm", "language",
                                "default_briefing", "num_segments", "max_tokens"});
}

Result<http::Response> ListSpeakerProfiles(AppContext& context, http::Request&) {
  ON_ASSIGN_OR_RETURN(auto profiles, context.storage().ListSpeakerProfiles());
  json list = json::array();
  for (const auto& profile : profiles) list.push_back(SpeakerProfileJson(profile));
  return http::JsonResponse(list);
}

Result<http::Response> GetSpeakerProfile(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto profile, context.storage().GetSpeakerProfile(std::string(request.Param("profile"))));
  return http::JsonResponse(SpeakerProfileJson(profile));
}

Result<http::Response> CreateSpeakerProfile(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, ParseSpeakerProfileBody(request.body));
  storage::SpeakerProfile profile;
  ON_RETURN_IF_ERROR(ApplySpeakerProfileBody(context, body, profile, true));
  ON_ASSIGN_OR_RETURN(auto created, context.storage().CreateSpeakerProfile(profile));
  return http::JsonResponse(SpeakerProfileJson(created));
}

Result<http::Response> UpdateSpeakerProfile(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("speaker_profile", request.Param("profile"), "speaker profile id"));
  ON_ASSIGN_OR_RETURN(auto body, ParseSpeakerProfileBody(request.body));
  ON_ASSIGN_OR_RETURN(auto profile, context.storage().GetSpeakerProfile(id));
  if (profile.id != id) return NotFound("speaker profile " + id + " was not found");
  ON_RETURN_IF_ERROR(ApplySpeakerProfileBody(context, body, profile, false));
  ON_ASSIGN_OR_RETURN(auto updated, context.storage().UpdateSpeakerProfile(profile));
  return http::JsonResponse(SpeakerProfileJson(updated));
}

Result<http::Response> DeleteSpeakerProfile(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("speaker_profile", request.Param("profile"), "speaker profile id"));
  ON_RETURN_IF_ERROR(context.storage().DeleteSpeakerProfile(id));
  return http::JsonResponse({{"message", "Speaker profile deleted successfully"}});
}

Result<http::Response> DuplicateSpeakerProfile(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("speaker_profile", request.Param("profile"), "speaker profile id"));
  ON_ASSIGN_OR_RETURN(auto profile, context.storage().GetSpeakerProfile(id));
  if (profile.id != id) return NotFound("speaker profile " + id + " was not found");
  ON_ASSIGN_OR_RETURN(profile.name, CopyName(profile.name, [&](const std::string& name) {
                        return Exists(context.storage().GetSpeakerProfile(name));
                      }));
  ON_ASSIGN_OR_RETURN(auto created, context.storage().CreateSpeakerProfile(profile));
  return http::JsonResponse(SpeakerProfileJson(created));
}

Result<http::Response> ListEpisodeProfiles(AppContext& context, http::Request&) {
  ON_ASSIGN_OR_RETURN(auto profiles, context.storage().ListEpisodeProfiles());
  json list = json::array();
  for (const auto& profile : profiles) list.push_back(EpisodeProfileJson(profile, SpeakerName(context, profile)));
  return http::JsonResponse(list);
}

Result<http::Response> GetEpisodeProfile(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto profile, context.storage().GetEpisodeProfile(std::string(request.Param("profile"))));
  return http::JsonResponse(EpisodeProfileJson(profile, SpeakerName(context, profile)));
}

Result<http::Response> CreateEpisodeProfile(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, ParseEpisodeProfileBody(request.body));
  storage::EpisodeProfile profile;
  ON_RETURN_IF_ERROR(ApplyEpisodeProfileBody(context, body, profile, true));
  ON_ASSIGN_OR_RETURN(auto created, context.storage().CreateEpisodeProfile(profile));
  return http::JsonResponse(EpisodeProfileJson(created, SpeakerName(context, created)));
}

Result<http::Response> UpdateEpisodeProfile(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("episode_profile", request.Param("profile"), "episode profile id"));
  ON_ASSIGN_OR_RETURN(auto body, ParseEpisodeProfileBody(request.body));
  ON_ASSIGN_OR_RETURN(auto profile, context.storage().GetEpisodeProfile(id));
  if (profile.id != id) return NotFound("episode profile " + id + " was not found");
  ON_RETURN_IF_ERROR(ApplyEpisodeProfileBody(context, body, profile, false));
  ON_ASSIGN_OR_RETURN(auto updated, context.storage().UpdateEpisodeProfile(profile));
  return http::JsonResponse(EpisodeProfileJson(updated, SpeakerName(context, updated)));
}

Result<http::Response> DeleteEpisodeProfile(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("episode_profile", request.Param("profile"), "episode profile id"));
  ON_RETURN_IF_ERROR(context.storage().DeleteEpisodeProfile(id));
  return http::JsonResponse({{"message", "Episode profile deleted successfully"}});
}

Result<http::Response> DuplicateEpisodeProfile(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("episode_profile", request.Param("profile"), "episode profile id"));
  ON_ASSIGN_OR_RETURN(auto profile, context.storage().GetEpisodeProfile(id));
  if (profile.id != id) return NotFound("episode profile " + id + " was not found");
  ON_ASSIGN_OR_RETURN(profile.name, CopyName(profile.name, [&](const std::string& name) {
                        return Exists(context.storage().GetEpisodeProfile(name));
                      }));
  ON_ASSIGN_OR_RETURN(auto created, context.storage().CreateEpisodeProfile(profile));
  return http::JsonResponse(EpisodeProfileJson(created, SpeakerName(context, created)));
}

// ---------------------------------------------------------------------------------------------
// Episodes

fs::path PodcastsDir(AppContext& context) { return jobs::PodcastsDirectory(*context.settings()); }

bool IsInside(const fs::path& root, const fs::path& path) {
  auto root_part = root.begin();
  auto path_part = path.begin();
  for (; root_part != root.end(); ++root_part, ++path_part) {
    if (path_part == path.end() || *root_part != *path_part) return false;
  }
  return true;
}

// Resolves an episode's stored audio path inside the podcasts directory, following symlinks.
// kForbidden for absolute paths, file:// URLs, "..", and links that lead outside; kNotFound when
// the file is gone.
Result<fs::path> ResolveAudio(const fs::path& podcasts_dir, std::string_view relative) {
  std::error_code error;
  const fs::path root = fs::weakly_canonical(podcasts_dir, error);
  if (error) return Status(ErrorCode::kIo, "cannot resolve " + podcasts_dir.string() + ": " + error.message());
  const fs::path candidate(relative);
  if (relative.empty() || candidate.is_absolute() || relative.find("://") != std::string_view::npos) {
    return Status(ErrorCode::kForbidden, "the episode's audio path is outside the podcasts folder");
  }
  const fs::path resolved = fs::weakly_canonical(root / candidate, error);
  if (error || resolved == root || !IsInside(root, resolved)) {
    return Status(ErrorCode::kForbidden, "the episode's audio path is outside the podcasts folder");
  }
  if (!fs::is_regular_file(resolved, error)) return NotFound("the episode's audio file is no longer on disk");
  return resolved;
}

// Removes an episode's audio file and its directory when that is empty; paths outside the
// podcasts directory are never touched.
void RemoveAudio(const fs::path& podcasts_dir, const std::string& relative) {
  auto resolved = ResolveAudio(podcasts_dir, relative);
  if (!resolved.ok()) return;
  std::error_code error;
  fs::remove(*resolved, error);
  if (error) spdlog::warn("cannot remove episode audio {}: {}", resolved->string(), error.message());
  fs::remove(resolved->parent_path(), error);  // only succeeds when empty
}

struct JobView {
  std::string status = "unknown";
  std::optional<std::string> error_message;
};

JobView EpisodeJob(AppContext& context, const storage::Episode& episode) {
  JobView view;
  if (!episode.command_id) {
    view.status = episode.audio_file ? "completed" : "unknown";
    return view;
  }
  auto job = context.storage().jobs().Get(*episode.command_id);
  if (!job.ok()) return view;
  view.status = std::string(storage::JobStatusName(job->status));
  view.error_message = job->error_message;
  return view;
}

json ParsedOrNull(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  json value = json::parse(*text, nullptr, false);
  return value.is_discarded() ? json(nullptr) : value;
}

json EpisodeJson(AppContext& context, const storage::Episode& episode) {
  const JobView job = EpisodeJob(context, episode);
  std::optional<std::string> audio_url;
  if (episode.audio_file && ResolveAudio(PodcastsDir(context), *episode.audio_file).ok()) {
    audio_url = "/api/podcasts/episodes/" + episode.id + "/audio";
  }
  return {{"id", episode.id},
          {"name", episode.name},
          {"episode_profile", ParsedOrNull(episode.episode_profile_json)},
          {"speaker_profile", ParsedOrNull(episode.speaker_profile_json)},
          {"briefing", episode.briefing},
          {"notebook_id", Optional(episode.notebook_id)},
          {"audio_file", Optional(episode.audio_file)},
          {"audio_url", Optional(audio_url)},
          {"duration_ms", episode.duration_ms ? json(*episode.duration_ms) : json(nullptr)},
          {"transcript", ParsedOrNull(episode.transcript_json)},
          {"outline", ParsedOrNull(episode.outline_json)},
          {"command_id", Optional(episode.command_id)},
          {"job_status", job.status},
          {"error_message", Optional(job.error_message)},
          {"created", episode.created},
          {"updated", episode.updated}};
}

Result<std::string> EpisodeIdParam(const http::Request& request) {
  return NormalizeId("episode", request.Param("episode_id"), "episode id");
}

// The profile copy stored with an episode: the profile as the API shows it.
json SpeakerSnapshot(const storage::SpeakerProfile& profile) { return SpeakerProfileJson(profile); }

Result<http::Response> GeneratePodcast(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(request.body, {"episode_profile", "speaker_profile", "episode_name",
                                                                "content", "notebook_id", "briefing_suffix"}));
  ON_ASSIGN_OR_RETURN(std::string profile_key, body.RequiredString("episode_profile", kMaxNameLength));
  ON_ASSIGN_OR_RETURN(std::string episode_name, body.RequiredString("episode_name", kMaxNameLength));
  episode_name = TrimWhitespace(episode_name);
  if (episode_name.empty()) return InvalidInput("field 'episode_name' cannot be empty");
  ON_ASSIGN_OR_RETURN(auto speaker_key, body.String("speaker_profile", kMaxNameLength));
  ON_ASSIGN_OR_RETURN(auto content, body.String("content", kMaxContentLength));
  ON_ASSIGN_OR_RETURN(auto notebook_value, body.String("notebook_id", 128));
  ON_ASSIGN_OR_RETURN(auto suffix, body.String("briefing_suffix", kMaxBriefingLength));

  storage::Storage& storage = context.storage();
  ON_ASSIGN_OR_RETURN(storage::EpisodeProfile episode_profile, storage.GetEpisodeProfile(TrimWhitespace(profile_key)));
  std::optional<std::string> speaker_ref;
  if (speaker_key && !TrimWhitespace(*speaker_key).empty()) {
    speaker_ref = TrimWhitespace(*speaker_key);
  } else {
    speaker_ref = episode_profile.speaker_config;
  }
  if (!speaker_ref) {
    return InvalidInput("episode profile '" + episode_profile.name +
                        "' has no speaker profile; set its speaker_config or pass speaker_profile");
  }
  ON_ASSIGN_OR_RETURN(storage::SpeakerProfile speaker_profile, storage.GetSpeakerProfile(*speaker_ref));
  ON_ASSIGN_OR_RETURN(auto speakers, podcast::ParseSpeakers(json::parse(speaker_profile.speakers_json, nullptr, false)));

  // The material: the request's content, else the notebook's sources, notes and insights.
  storage::Episode episode;
  if (notebook_value) {
    ON_ASSIGN_OR_RETURN(episode.notebook_id, NormalizeId("notebook", *notebook_value, "notebook_id"));
  }
  if (content && !TrimWhitespace(*content).empty()) {
    episode.content = *content;
  } else if (episode.notebook_id) {
    ON_ASSIGN_OR_RETURN(episode.content, podcast::NotebookContent(storage, *episode.notebook_id));
    if (episode.content.empty()) {
      return InvalidInput("notebook " + *episode.notebook_id +
                          " has nothing to talk about: none of its sources has text yet and it has no notes or "
                          "insights. Add a source, wait for its processing to finish, or pass 'content'");
    }
  } else {
    return InvalidInput("there is nothing to talk about: pass 'notebook_id' of a notebook with sources or notes, "
                        "or the text itself in 'content'");
  }

  // Voices are checked before the job exists, so no language-model call is made for a cast
  // that cannot be spoken.
  const std::string language = episode_profile.language.value_or("en");
  ON_RETURN_IF_ERROR(podcast::PrepareCastSpeech(storage, context.cipher(), context.env, *context.settings(), speakers,
                                                speaker_profile.voice_model, language)
                         .status());

  episode.name = episode_name;
  episode.briefing = episode_profile.default_briefing;
  if (suffix && !TrimWhitespace(*suffix).empty()) episode.briefing += "\n\nAdditional instructions: " + *suffix;
  json profile_copy = EpisodeProfileJson(episode_profile, speaker_profile.name);
  profile_copy["speaker_config"] = speaker_profile.id;
  episode.episode_profile_json = profile_copy.dump();
  episode.speaker_profile_json = SpeakerSnapshot(speaker_profile).dump();

  ON_ASSIGN_OR_RETURN(storage::Episode created, storage.CreateEpisode(episode, jobs::PodcastJobSpec()));
  spdlog::info("podcast episode {} '{}' submitted as job {} with profile {} and speakers {}", created.id, created.name,
               created.command_id.value_or(""), episode_profile.name, speaker_profile.name);
  return http::JsonResponse({{"job_id", created.command_id.value_or("")},
                             {"episode_id", created.id},
                             {"status", "submitted"},
                             {"message", "Podcast generation started for episode '" + created.name + "'"},
                             {"episode_profile", episode_profile.name},
                             {"episode_name", created.name}});
}

Result<http::Response> GetPodcastJob(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, NormalizeId("command", request.Param("job_id"), "job id"));
  ON_ASSIGN_OR_RETURN(storage::Job job, context.storage().jobs().Get(id));
  if (job.FullCommand() != "open_notebook.generate_podcast") return NotFound("podcast job " + id + " was not found");
  json progress = nullptr;
  if (job.progress_stage || job.progress_percent) {
    progress = {{"stage", Optional(job.progress_stage)},
                {"percent", job.progress_percent ? json(*job.progress_percent) : json(nullptr)}};
  }
  return http::JsonResponse({{"job_id", job.id},
                             {"status", std::string(storage::JobStatusName(job.status))},
                             {"result", ParsedOrNull(job.result_json)},
                             {"error_message", Optional(job.error_message)},
                             {"created", job.created},
                             {"updated", job.updated},
                             {"progress", progress}});
}

Result<http::Response> ListEpisodes(AppContext& context, http::Request&) {
  ON_ASSIGN_OR_RETURN(auto episodes, context.storage().ListEpisodes());
  json list = json::array();
  for (const auto& episode : episodes) list.push_back(EpisodeJson(context, episode));
  return http::JsonResponse(list);
}

Result<http::Response> GetEpisode(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, EpisodeIdParam(request));
  ON_ASSIGN_OR_RETURN(auto episode, context.storage().GetEpisode(id));
  return http::JsonResponse(EpisodeJson(context, episode));
}

struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
};

// Parses a single "bytes=" range against a file of `size` bytes. Returns nullopt for a header
// this server ignores (other units, several ranges, malformed), so the whole file is sent.
// Returns kInvalidInput, sent as 416, when the range starts beyond the end.
Result<std::optional<ByteRange>> ParseRange(std::string_view header, uint64_t size) {
  constexpr std::string_view kPrefix = "bytes=";
  if (!header.starts_with(kPrefix)) return std::optional<ByteRange>();
  const std::string_view spec = header.substr(kPrefix.size());
  if (spec.find(',') != std::string_view::npos) return std::optional<ByteRange>();
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::optional<ByteRange>();
  auto number = [](std::string_view text) -> std::optional<uint64_t> {
    if (text.empty() || text.size() > 19) return std::nullopt;
    uint64_t value = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    return value;
  };
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);
  ByteRange range;
  if (first_text.empty()) {
    const auto suffix = number(last_text);
    if (!suffix) return std::optional<ByteRange>();
    if (*suffix == 0 || size == 0) return InvalidInput("range " + std::string(header) + " selects no byte");
    range.first = size - std::min(*suffix, size);
    range.last = size - 1;
    return std::optional<ByteRange>(range);
  }
  const auto first = number(first_text);
  if (!first) return std::optional<ByteRange>();
  const std::optional<uint64_t> last = last_text.empty() ? std::optional<uint64_t>(UINT64_MAX) : number(last_text);
  if (!last || *last < *first) return std::optional<ByteRange>();
  if (*first >= size) return InvalidInput("range " + std::string(header) + " starts beyond the end of the file");
  range.first = *first;
  range.last = std::min(*last, size - 1);
  return std::optional<ByteRange>(range);
}

Result<http::Response> EpisodeAudio(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, EpisodeIdParam(request));
  ON_ASSIGN_OR_RETURN(auto episode, context.storage().GetEpisode(id));
  if (!episode.audio_file) return NotFound("episode " + id + " has no audio yet");
  ON_ASSIGN_OR_RETURN(fs::path path, ResolveAudio(PodcastsDir(context), *episode.audio_file));

  std::error_code error;
  const uint64_t size = fs::file_size(path, error);
  if (error) return Status(ErrorCode::kIo, "cannot read the size of " + path.string() + ": " + error.message());

  http::Response response;
  response.content_type = "audio/mpeg";
  response.SetHeader("Accept-Ranges", "bytes");
  std::optional<ByteRange> range;
  if (auto header = request.Header("range")) {
    auto parsed = ParseRange(*header, size);
    if (!parsed.ok()) {
      response.status = 416;
      response.content_type = "application/json";
      response.body = json{{"detail", parsed.status().message()}}.dump();
      response.SetHeader("Content-Range", "bytes */" + std::to_string(size));
      return response;
    }
    range = *parsed;
  }
  const uint64_t first = range ? range->first : 0;
  const uint64_t length = range ? range->last - range->first + 1 : size;

  std::ifstream file(path, std::ios::binary);
  if (!file) return Status(ErrorCode::kIo, "cannot open the audio of episode " + id);
  file.seekg(static_cast<std::streamoff>(first));
  response.body.resize(length);
  file.read(response.body.data(), static_cast<std::streamsize>(length));
  if (static_cast<uint64_t>(file.gcount()) != length) {
    return Status(ErrorCode::kIo, "the audio of episode " + id + " changed while it was read; try again");
  }
  if (range) {
    response.status = 206;
    response.SetHeader("Content-Range", "bytes " + std::to_string(range->first) + "-" + std::to_string(range->last) +
                                            "/" + std::to_string(size));
  }
  return response;
}

Result<http::Response> RetryEpisode(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, EpisodeIdParam(request));
  ON_ASSIGN_OR_RETURN(auto episode, context.storage().GetEpisode(id));
  const JobView job = EpisodeJob(context, episode);
  if (job.status != "failed" && job.status != "cancelled") {
    return InvalidInput("episode " + id + " is " + job.status + "; only failed or cancelled episodes can be retried");
  }
  if (episode.audio_file) RemoveAudio(PodcastsDir(context), *episode.audio_file);
  ON_ASSIGN_OR_RETURN(auto requeued, context.storage().RequeueEpisode(id, jobs::PodcastJobSpec()));
  return http::JsonResponse({{"job_id", requeued.command_id.value_or("")},
                             {"episode_id", id},
                             {"message", "Podcast generation started again for episode '" + requeued.name + "'"}});
}

Result<http::Response> DeleteEpisode(AppContext& context, http::Request& request) {
  ON_ASSIGN_OR_RETURN(std::string id, EpisodeIdParam(request));
  ON_ASSIGN_OR_RETURN(auto episode, context.storage().GetEpisode(id));
  if (episode.command_id) {
    // Stops a running job at its next check. A job that is already writing its file removes the
    // file itself when it finds the episode gone.
    auto cancelled = context.storage().jobs().Cancel(*episode.command_id);
    if (!cancelled.ok() && cancelled.status().code() != ErrorCode::kNotFound) return cancelled.status();
  }
  ON_RETURN_IF_ERROR(context.storage().DeleteEpisode(id));
  if (episode.audio_file) RemoveAudio(PodcastsDir(context), *episode.audio_file);
  return http::JsonResponse({{"message", "Episode deleted successfully"}, {"episode_id", id}});
}

}  // namespace

void RegisterPodcastRoutes(http::Router& router, AppContext& context) {
  router.Add("POST", "/api/podcasts/generate", Bind(context, GeneratePodcast));
  router.Add("GET", "/api/podcasts/jobs/{job_id}", Bind(context, GetPodcastJob));
  router.Add("GET", "/api/podcasts/episodes", Bind(context, ListEpisodes));
  router.Add("GET", "/api/podcasts/episodes/{episode_id}", Bind(context, GetEpisode));
  router.Add("GET", "/api/podcasts/episodes/{episode_id}/audio", Bind(context, EpisodeAudio));
  router.Add("POST", "/api/podcasts/episodes/{episode_id}/retry", Bind(context, RetryEpisode));
  router.Add("DELETE", "/api/podcasts/episodes/{episode_id}", Bind(context, DeleteEpisode));

  router.Add("GET", "/api/episode-profiles", Bind(context, ListEpisodeProfiles));
  router.Add("POST", "/api/episode-profiles", Bind(context, CreateEpisodeProfile));
  router.Add("GET", "/api/episode-profiles/{profile}", Bind(context, GetEpisodeProfile));
  router.Add("PUT", "/api/episode-profiles/{profile}", Bind(context, UpdateEpisodeProfile));
  router.Add("DELETE", "/api/episode-profiles/{profile}", Bind(context, DeleteEpisodeProfile));
  router.Add("POST", "/api/episode-profiles/{profile}/duplicate", Bind(context, DuplicateEpisodeProfile));

  router.Add("GET", "/api/speaker-profiles", Bind(context, ListSpeakerProfiles));
  router.Add("POST", "/api/speaker-profiles", Bind(context, CreateSpeakerProfile));
  router.Add("GET", "/api/speaker-profiles/{profile}", Bind(context, GetSpeakerProfile));
  router.Add("PUT", "/api/speaker-profiles/{profile}", Bind(context, UpdateSpeakerProfile));
  router.Add("DELETE", "/api/speaker-profiles/{profile}", Bind(context, DeleteSpeakerProfile));
  router.Add("POST", "/api/speaker-profiles/{profile}/duplicate", Bind(context, DuplicateSpeakerProfile));
}

}  // namespace on::api
