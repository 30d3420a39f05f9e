#include "jobs/podcast_commands.h"

#include <algorithm>
#include <fstream>
#include <random>

#include <spdlog/spdlog.h>

#include "ai/prompts.h"
#include "ai/transformation.h"
#include "core/retry_policy.h"
#include "podcast/audio.h"
#include "podcast/episode.h"
#include "search/tokenizer.h"

namespace on::jobs {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Silence between two lines of dialogue and, longer, between two segments.
constexpr int kLinePauseMs = 250;
constexpr int kSegmentPauseMs = 600;
// Tokens kept free for the prompt template and the speaker descriptions besides the material.
constexpr int64_t kPromptTokens = 2000;

struct EpisodePlan {
  storage::Episode episode;
  std::vector<podcast::Speaker> speakers;
  std::optional<std::string> voice_model;
  std::string language = "en";
  int num_segments = 5;
  std::optional<std::string> outline_llm;
  std::optional<std::string> transcript_llm;
  std::optional<int64_t> max_tokens;
};

std::optional<std::string> OptionalString(const json& object, const char* field) {
  if (object.contains(field) && object[field].is_string() && !object[field].get<std::string>().empty()) {
    return object[field].get<std::string>();
  }
  return std::nullopt;
}

// Reads the profile copies stored with the episode.
Result<EpisodePlan> LoadPlan(storage::Storage& storage, const std::string& episode_id) {
  EpisodePlan plan;
  ON_ASSIGN_OR_RETURN(plan.episode, storage.GetEpisode(episode_id));
  const json episode_profile = json::parse(plan.episode.episode_profile_json, nullptr, false);
  const json speaker_profile = json::parse(plan.episode.speaker_profile_json, nullptr, false);
  if (!episode_profile.is_object() || !speaker_profile.is_object()) {
    return InvalidInput("episode " + episode_id + " has damaged profile copies; delete it and generate it again");
  }
  ON_ASSIGN_OR_RETURN(plan.speakers, podcast::ParseSpeakers(speaker_profile.value("speakers", json())));
  plan.voice_model = OptionalString(speaker_profile, "voice_model");
  plan.language = OptionalString(episode_profile, "language").value_or("en");
  plan.num_segments = std::clamp(episode_profile.value("num_segments", 5), podcast::kMinSegments, podcast::kMaxSegments);
  plan.outline_llm = OptionalString(episode_profile, "outline_llm");
  plan.transcript_llm = OptionalString(episode_profile, "transcript_llm");
  if (episode_profile.contains("max_tokens") && episode_profile["max_tokens"].is_number_integer()) {
    plan.max_tokens = episode_profile["max_tokens"].get<int64_t>();
  }
  return plan;
}

std::string SpeakerNames(const std::vector<podcast::Speaker>& speakers) {
  std::string names;
  for (const auto& speaker : speakers) names += (names.empty() ? "" : " | ") + speaker.name;
  return names;
}

std::string SpeakerDetails(const std::vector<podcast::Speaker>& speakers) {
  std::string details;
  for (const auto& speaker : speakers) {
    details += "- " + speaker.name + ". Backstory: " + speaker.backstory + " Personality: " + speaker.personality + "\n";
  }
  return details;
}

// Cuts `content` so that it fits the model's context window besides the prompt and the answer.
std::string FitContent(const std::string& content, const ai::LanguageModelSetup& setup) {
  const int64_t budget = setup.context_tokens - setup.config.max_output_tokens - kPromptTokens;
  const size_t tokens = search::EstimateTokens(content);
  if (budget <= 0 || static_cast<int64_t>(tokens) <= budget) return content;
  size_t end = content.size() * static_cast<size_t>(budget) / tokens;
  while (end > 0 && (static_cast<unsigned char>(content[end]) & 0xC0) == 0x80) --end;
  spdlog::warn("podcast material of {} estimated tokens cut to about {} to fit the context window of model {}", tokens,
               budget, setup.model_id);
  return content.substr(0, end) + "\n\n[The material was cut here to fit the model's context window.]";
}

Result<ai::LanguageModelSetup> ResolveModel(const CommandEnvironment& environment, const Settings& settings,
                                            const std::optional<std::string>& model_id,
                                            const std::optional<int64_t>& max_tokens) {
  ON_ASSIGN_OR_RETURN(ai::LanguageModelSetup setup,
                      ai::ResolveLanguageModel(environment.storage, environment.cipher, environment.env, settings,
                                               {model_id}, "default_chat_model"));
  if (max_tokens) setup.config.max_output_tokens = static_cast<int>(std::min<int64_t>(*max_tokens, 1'000'000));
  return setup;
}

// Sends the rendered prompt with the material and returns the response text. The caller asks
// once more when the response does not parse; provider errors are returned as they are.
Result<std::string> AskForJson(ai::ChatModel& chat, const std::string& prompt, const std::string& material,
                               int max_output_tokens) {
  ai::ChatRequest request;
  request.messages = {{"system", prompt}, {"user", material}};
  request.json_object = true;
  request.max_output_tokens = max_output_tokens;
  ON_ASSIGN_OR_RETURN(ai::ChatResult answer, chat.Complete(request));
  return answer.text;
}

Result<std::string> RenderPrompt(std::string_view path, const std::map<std::string, std::string, std::less<>>& values) {
  return ai::FillPromptFile(
      path,
      [&](std::string_view name) -> std::optional<std::string_view> {
        const auto found = values.find(name);
        if (found == values.end()) return std::nullopt;
        return std::string_view(found->second);
      },
      true);
}

int TurnsFor(const std::string& size) {
  if (size == "short") return 4;
  if (size == "long") return 10;
  return 6;
}

// Speaks one line, retrying transient failures with exponential backoff and full jitter.
Result<podcast::PcmAudio> SpeakLine(JobContext& job, podcast::SpeechEngine& engine, const podcast::TranscriptLine& line,
                                    const podcast::Speaker& speaker, int attempts, const std::string& where) {
  std::mt19937 random(std::random_device{}());
  ai::CancelToken cancel;
  for (int attempt = 1;; ++attempt) {
    if (job.CancelRequested()) return Status(ErrorCode::kCancelled, "podcast generation was cancelled at " + where);
    auto audio = engine.Speak(line.dialogue, speaker.voice_id, cancel);
    if (audio.ok()) return audio;
    const Status& error = audio.status();
    if (!IsTransient(error) || attempt >= attempts) {
      return Status(error.code(), "speech of " + where + " (speaker " + speaker.name + ", " + engine.Name() +
                                      ") failed after " + std::to_string(attempt) + " attempt(s): " + error.message());
    }
    const int64_t cap_ms = std::min<int64_t>(8000, int64_t{500} << std::min(attempt - 1, 10));
    const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, cap_ms)(random));
    spdlog::warn("podcast job {}: speech of {} failed on attempt {} of {}, retrying in {} ms: {}", job.job_id(), where,
                 attempt, attempts, delay.count(), error.message());
    if (!job.SleepFor(delay)) return Status(ErrorCode::kCancelled, "podcast generation was cancelled at " + where);
  }
}

void AppendSilence(podcast::PcmAudio& audio, int milliseconds) {
  audio.samples.insert(audio.samples.end(), static_cast<size_t>(audio.sample_rate) * static_cast<size_t>(milliseconds) / 1000,
                       int16_t{0});
}

// Writes `bytes` to `path` through a temporary file and a rename, so a crash leaves no partial file.
Status WriteFileAtomically(const fs::path& path, const std::string& bytes) {
  std::error_code error;
  fs::create_directories(path.parent_path(), error);
  if (error) return Status(ErrorCode::kIo, "cannot create " + path.parent_path().string() + ": " + error.message());
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    file.flush();
    if (!file) return Status(ErrorCode::kIo, "cannot write " + temporary.string());
  }
  fs::rename(temporary, path, error);
  if (error) return Status(ErrorCode::kIo, "cannot rename " + temporary.string() + ": " + error.message());
  return Status::Ok();
}

Result<json> GeneratePodcast(const CommandEnvironment& environment, JobContext& job) {
  const json& input = job.input();
  if (!input.is_object() || !input.contains("episode_id") || !input["episode_id"].is_string()) {
    return InvalidInput("generate_podcast needs {\"episode_id\": \"episode:...\"}");
  }
  const std::string episode_id = input["episode_id"].get<std::string>();
  storage::Storage& storage = environment.storage;
  const SettingsSnapshot settings = environment.JobSettings();

  job.Progress("preparing", 1);
  ON_ASSIGN_OR_RETURN(EpisodePlan plan, LoadPlan(storage, episode_id));
  if (plan.episode.content.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidInput("episode " + episode_id + " has no material to talk about");
  }
  // Voices are checked before any language-model call, so a typo costs no tokens.
  ON_ASSIGN_OR_RETURN(podcast::CastSpeech cast,
                      podcast::PrepareCastSpeech(storage, environment.cipher, environment.env, *settings, plan.speakers,
                                                 plan.voice_model, plan.language));

  ON_ASSIGN_OR_RETURN(ai::LanguageModelSetup outline_setup,
                      ResolveModel(environment, *settings, plan.outline_llm, plan.max_tokens));
  ON_ASSIGN_OR_RETURN(ai::LanguageModelSetup transcript_setup,
                      ResolveModel(environment, *settings, plan.transcript_llm, plan.max_tokens));
  ON_ASSIGN_OR_RETURN(auto outline_model, ai::MakeChatModel(outline_setup.config));
  ON_ASSIGN_OR_RETURN(auto transcript_model, ai::MakeChatModel(transcript_setup.config));

  const std::map<std::string, std::string, std::less<>> common = {
      {"episode_name", plan.episode.name},
      {"language", plan.language},
      {"briefing", plan.episode.briefing},
      {"speaker_names", SpeakerNames(plan.speakers)},
      {"speaker_details", SpeakerDetails(plan.speakers)},
  };

  // Outline.
  job.Progress("outline", 5);
  auto outline_values = common;
  outline_values["num_segments"] = std::to_string(plan.num_segments);
  ON_ASSIGN_OR_RETURN(std::string outline_prompt, RenderPrompt("prompts/podcast/outline.md", outline_values));
  const std::string outline_material = FitContent(plan.episode.content, outline_setup);
  std::vector<podcast::OutlineSegment> segments;
  for (int attempt = 1;; ++attempt) {
    ON_ASSIGN_OR_RETURN(std::string answer, AskForJson(*outline_model, outline_prompt, outline_material,
                                                       outline_setup.config.max_output_tokens));
    auto parsed = podcast::ParseOutline(answer, plan.num_segments);
    if (parsed.ok()) {
      segments = std::move(*parsed);
      break;
    }
    if (attempt == 2) return parsed.status();
    spdlog::warn("podcast job {}: outline response is unusable, requesting it again: {}", job.job_id(), parsed.status().message());
  }
  const json outline_json = podcast::OutlineToJson(segments);
  ON_RETURN_IF_ERROR(storage.SaveEpisodeOutput(episode_id, {.outline_json = outline_json.dump()}));

  // Transcript, one segment at a time.
  std::vector<podcast::TranscriptLine> lines;
  const std::string transcript_material = FitContent(plan.episode.content, transcript_setup);
  std::string outline_text;
  for (size_t i = 0; i < segments.size(); ++i) {
    outline_text += std::to_string(i + 1) + ". " + segments[i].name + ": " + segments[i].description + "\n";
  }
  for (size_t i = 0; i < segments.size(); ++i) {
    if (job.CancelRequested()) return Status(ErrorCode::kCancelled, "podcast generation was cancelled");
    job.Progress("transcript", 10 + static_cast<int>(30 * i / segments.size()));
    auto values = common;
    values["outline"] = outline_text;
    values["segment_number"] = std::to_string(i + 1);
    values["segment_count"] = std::to_string(segments.size());
    values["segment_name"] = segments[i].name;
    values["segment_description"] = segments[i].description;
    values["segment_size"] = segments[i].size;
    values["short_turns"] = std::to_string(TurnsFor("short"));
    values["medium_turns"] = std::to_string(TurnsFor("medium"));
    values["long_turns"] = std::to_string(TurnsFor("long"));
    values["speaker_rules"] =
        plan.speakers.size() == 1
            ? "There is one speaker, who talks to the listener directly: a monologue, with no other voices."
            : "The speakers talk with each other: they take turns, react to what the previous speaker said, ask "
              "and answer questions, and each speaks in the manner of their personality.";
    values["position_rules"] =
        i == 0 ? "This is the first segment: welcome the listener, introduce the speakers and say what the episode is about."
        : i + 1 == segments.size()
            ? "This is the final segment: sum up the main points and close the episode with a goodbye to the listener."
            : "This segment continues the conversation: do not greet the listener again and do not close the episode.";
    ON_ASSIGN_OR_RETURN(std::string prompt, RenderPrompt("prompts/podcast/transcript.md", values));
    for (int attempt = 1;; ++attempt) {
      ON_ASSIGN_OR_RETURN(std::string answer, AskForJson(*transcript_model, prompt, transcript_material,
                                                         transcript_setup.config.max_output_tokens));
      auto parsed = podcast::ParseTranscript(answer, plan.speakers, static_cast<int>(i));
      if (parsed.ok()) {
        for (auto& line : *parsed) lines.push_back(std::move(line));
        break;
      }
      if (attempt == 2) {
        return Status(parsed.status().code(), "segment " + std::to_string(i + 1) + " (" + segments[i].name + "): " +
                                                  parsed.status().message());
      }
      spdlog::warn("podcast job {}: transcript response of segment {} is unusable, requesting it again: {}", job.job_id(), i + 1,
                   parsed.status().message());
    }
  }
  ON_RETURN_IF_ERROR(storage.SaveEpisodeOutput(
      episode_id, {.transcript_json = podcast::TranscriptToJson(lines, segments).dump()}));

  // Speech, line by line, joined at one sample rate with pauses.
  podcast::PcmAudio episode_audio;
  episode_audio.sample_rate = podcast::kEpisodeSampleRate;
  std::vector<int64_t> segment_samples(segments.size(), 0);
  std::vector<int> segment_lines(segments.size(), 0);
  int pauses_between_lines = 0;
  int pauses_between_segments = 0;
  const int attempts = static_cast<int>(settings->podcast_speech_attempts);
  for (size_t i = 0; i < lines.size(); ++i) {
    job.Progress("speech", 40 + static_cast<int>(50 * i / lines.size()));
    const auto& line = lines[i];
    const size_t speaker_index = static_cast<size_t>(
        std::find_if(plan.speakers.begin(), plan.speakers.end(),
                     [&](const podcast::Speaker& speaker) { return speaker.name == line.speaker; }) -
        plan.speakers.begin());
    const std::string where = "line " + std::to_string(i + 1) + " of " + std::to_string(lines.size()) + " (segment " +
                              std::to_string(line.segment + 1) + ")";
    ON_ASSIGN_OR_RETURN(podcast::PcmAudio speech, SpeakLine(job, *cast.engines[speaker_index], line,
                                                            plan.speakers[speaker_index], attempts, where));
    const podcast::PcmAudio resampled = podcast::Resample(speech, podcast::kEpisodeSampleRate);
    if (i > 0) {
      const bool new_segment = lines[i - 1].segment != line.segment;
      AppendSilence(episode_audio, new_segment ? kSegmentPauseMs : kLinePauseMs);
      ++(new_segment ? pauses_between_segments : pauses_between_lines);
    }
    episode_audio.samples.insert(episode_audio.samples.end(), resampled.samples.begin(), resampled.samples.end());
    segment_samples[static_cast<size_t>(line.segment)] += static_cast<int64_t>(resampled.samples.size());
    ++segment_lines[static_cast<size_t>(line.segment)];
  }

  // One MP3 file, complete only once it decodes to the length that was encoded.
  job.Progress("encoding", 92);
  ON_ASSIGN_OR_RETURN(std::string mp3, podcast::EncodeMp3(episode_audio));
  const std::string directory_name = episode_id.substr(episode_id.find(':') + 1);
  const std::string relative = "episodes/" + directory_name + "/episode.mp3";
  const fs::path path = PodcastsDirectory(*settings) / relative;
  ON_RETURN_IF_ERROR(WriteFileAtomically(path, mp3));
  auto check = podcast::CheckMp3File(path);
  const int64_t expected_ms = episode_audio.DurationMs();
  Status verified = check.status();
  if (verified.ok() && std::llabs(check->DurationMs() - expected_ms) > 100) {
    verified = InternalError("the encoded episode decodes to " + std::to_string(check->DurationMs()) + " ms instead of " +
                             std::to_string(expected_ms) + " ms");
  }
  if (!verified.ok()) {
    std::error_code ignored;
    fs::remove(path, ignored);
    return Status(ErrorCode::kInternal, "episode audio " + path.string() + " failed verification: " + verified.message());
  }
  const Status saved = storage.SaveEpisodeOutput(episode_id, {.audio_file = relative, .duration_ms = check->DurationMs()});
  if (!saved.ok()) {
    // The episode was deleted while it was being generated: its file must not stay behind.
    std::error_code ignored;
    fs::remove(path, ignored);
    fs::remove(path.parent_path(), ignored);
    return saved;
  }

  json segment_results = json::array();
  for (size_t i = 0; i < segments.size(); ++i) {
    segment_results.push_back({{"name", segments[i].name},
                               {"lines", segment_lines[i]},
                               {"speech_ms", segment_samples[i] * 1000 / podcast::kEpisodeSampleRate}});
  }
  job.Progress("done", 100);
  spdlog::info("podcast job {}: episode {} complete: {} segments, {} lines, {} ms, {} bytes", job.job_id(), episode_id,
               segments.size(), lines.size(), check->DurationMs(), mp3.size());
  return json{{"episode_id", episode_id},
              {"audio_file", relative},
              {"duration_ms", check->DurationMs()},
              {"header_samples", check->header_samples},
              {"decoded_samples", check->decoded_samples},
              {"sample_rate", check->sample_rate},
              {"bytes", mp3.size()},
              {"segments", segment_results},
              {"line_pause_ms", kLinePauseMs},
              {"segment_pause_ms", kSegmentPauseMs},
              {"line_pauses", pauses_between_lines},
              {"segment_pauses", pauses_between_segments},
              {"speech_engines", [&] {
                 json names = json::array();
                 for (const auto& engine : cast.owned) names.push_back(engine->Name());
                 return names;
               }()}};
}

}  // namespace

storage::JobSpec PodcastJobSpec() {
  storage::JobSpec spec;
  spec.app = "open_notebook";
  spec.command = "generate_podcast";
  spec.input_json = "{}";
  spec.max_attempts = 1;
  return spec;
}

fs::path PodcastsDirectory(const Settings& settings) { return fs::path(settings.data_dir) / "podcasts"; }

Status RegisterPodcastCommands(CommandRegistry& registry, const CommandEnvironment& environment) {
  return registry.Register(CommandSpec{
      "open_notebook", "generate_podcast",
      "Write an episode's outline and transcript with a language model, speak it and store one MP3 file",
      [environment](JobContext& job) { return GeneratePodcast(environment, job); }, std::nullopt});
}

}  // namespace on::jobs
