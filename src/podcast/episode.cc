#include "podcast/episode.h"

#include <algorithm>
#include <set>

#include "ai/embedding_service.h"
#include "ai/model_config.h"
#include "ai/reasoning.h"

namespace on::podcast {
namespace {

using nlohmann::json;

std::string Lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

std::string Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  const size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

Result<std::string> OptionalStringField(const json& object, const char* field, const std::string& where) {
  if (!object.contains(field) || object[field].is_null()) return std::string();
  if (!object[field].is_string()) return InvalidInput(where + " field '" + field + "' must be a string");
  return object[field].get<std::string>();
}

// The JSON object of a model response: reasoning removed, and the text from the first '{' to the
// last '}', so code fences and remarks around it do not matter.
Result<json> AnswerObject(std::string_view answer, std::string_view what) {
  const std::string text = ai::StripReasoning(answer);
  const size_t begin = text.find('{');
  const size_t end = text.rfind('}');
  if (begin == std::string::npos || end == std::string::npos || end < begin) {
    return Status(ErrorCode::kUpstream, "the language model's " + std::string(what) +
                                            " is not JSON; a model that follows instructions reliably, or one "
                                            "without a thinking mode, usually fixes this. It began: " +
                                            text.substr(0, 200));
  }
  json value = json::parse(text.substr(begin, end - begin + 1), nullptr, false);
  if (value.is_discarded() || !value.is_object()) {
    return Status(ErrorCode::kUpstream, "the language model's " + std::string(what) +
                                            " is malformed JSON; a model that follows instructions reliably, or "
                                            "one without a thinking mode, usually fixes this. It began: " +
                                            text.substr(0, 200));
  }
  return value;
}

std::string StringOr(const json& object, const char* field, std::string fallback) {
  if (object.contains(field) && object[field].is_string()) {
    std::string value = Trim(object[field].get<std::string>());
    if (!value.empty()) return value;
  }
  return fallback;
}

}  // namespace

Result<std::vector<Speaker>> ParseSpeakers(const json& speakers) {
  if (!speakers.is_array()) return InvalidInput("speakers must be a list of 1 to 4 speaker objects");
  if (speakers.size() < static_cast<size_t>(kMinSpeakers) || speakers.size() > static_cast<size_t>(kMaxSpeakers)) {
    return InvalidInput("speakers has " + std::to_string(speakers.size()) + " entries; a profile needs 1 to 4 speakers");
  }
  std::vector<Speaker> parsed;
  std::set<std::string> names;
  for (size_t i = 0; i < speakers.size(); ++i) {
    const json& item = speakers[i];
    const std::string where = "speaker " + std::to_string(i + 1);
    if (!item.is_object()) return InvalidInput(where + " must be an object with name and voice_id");
    Speaker speaker;
    ON_ASSIGN_OR_RETURN(speaker.name, OptionalStringField(item, "name", where));
    ON_ASSIGN_OR_RETURN(speaker.voice_id, OptionalStringField(item, "voice_id", where));
    ON_ASSIGN_OR_RETURN(speaker.backstory, OptionalStringField(item, "backstory", where));
    ON_ASSIGN_OR_RETURN(speaker.personality, OptionalStringField(item, "personality", where));
    ON_ASSIGN_OR_RETURN(std::string voice_model, OptionalStringField(item, "voice_model", where));
    speaker.name = Trim(speaker.name);
    speaker.voice_id = Trim(speaker.voice_id);
    if (speaker.name.empty()) return InvalidInput(where + " has no name");
    if (speaker.voice_id.empty()) return InvalidInput("speaker '" + speaker.name + "' has no voice_id");
    if (!names.insert(Lower(speaker.name)).second) {
      return InvalidInput("speaker name '" + speaker.name + "' appears twice; each speaker needs a distinct name");
    }
    if (!voice_model.empty()) speaker.voice_model = voice_model;
    parsed.push_back(std::move(speaker));
  }
  return parsed;
}

json SpeakersToJson(const std::vector<Speaker>& speakers) {
  json array = json::array();
  for (const auto& speaker : speakers) {
    json item = {{"name", speaker.name},
                 {"voice_id", speaker.voice_id},
                 {"backstory", speaker.backstory},
                 {"personality", speaker.personality}};
    item["voice_model"] = speaker.voice_model ? json(*speaker.voice_model) : json(nullptr);
    array.push_back(std::move(item));
  }
  return array;
}

Result<std::vector<OutlineSegment>> ParseOutline(std::string_view answer, int max_segments) {
  ON_ASSIGN_OR_RETURN(json value, AnswerObject(answer, "outline"));
  if (!value.contains("segments") || !value["segments"].is_array()) {
    return Status(ErrorCode::kUpstream, "the language model's outline has no \"segments\" list");
  }
  std::vector<OutlineSegment> segments;
  for (const json& item : value["segments"]) {
    if (!item.is_object()) continue;
    OutlineSegment segment;
    segment.name = StringOr(item, "name", "");
    segment.description = StringOr(item, "description", "");
    if (segment.name.empty() && segment.description.empty()) continue;
    if (segment.name.empty()) segment.name = "Segment " + std::to_string(segments.size() + 1);
    segment.size = Lower(StringOr(item, "size", "medium"));
    if (segment.size != "short" && segment.size != "long") segment.size = "medium";
    segments.push_back(std::move(segment));
    if (static_cast<int>(segments.size()) == max_segments) break;
  }
  if (segments.empty()) return Status(ErrorCode::kUpstream, "the language model's outline has no segment with a name");
  return segments;
}

json OutlineToJson(const std::vector<OutlineSegment>& segments) {
  json array = json::array();
  for (const auto& segment : segments) {
    array.push_back({{"name", segment.name}, {"description", segment.description}, {"size", segment.size}});
  }
  return json{{"segments", array}};
}

Result<std::vector<TranscriptLine>> ParseTranscript(std::string_view answer, const std::vector<Speaker>& speakers,
                                                    int segment) {
  ON_ASSIGN_OR_RETURN(json value, AnswerObject(answer, "transcript"));
  if (!value.contains("transcript") || !value["transcript"].is_array()) {
    return Status(ErrorCode::kUpstream, "the language model's transcript has no \"transcript\" list");
  }
  std::vector<TranscriptLine> lines;
  for (const json& item : value["transcript"]) {
    if (!item.is_object()) continue;
    TranscriptLine line;
    line.segment = segment;
    line.dialogue = StringOr(item, "dialogue", "");
    if (line.dialogue.empty()) continue;
    const std::string named = StringOr(item, "speaker", "");
    if (speakers.size() == 1) {
      line.speaker = speakers.front().name;
    } else {
      const auto match = std::find_if(speakers.begin(), speakers.end(),
                                      [&](const Speaker& speaker) { return Lower(speaker.name) == Lower(named); });
      if (match == speakers.end()) {
        std::string known;
        for (const auto& speaker : speakers) known += (known.empty() ? "" : ", ") + speaker.name;
        return Status(ErrorCode::kUpstream, "the language model's transcript gives a line to '" + named +
                                                "', who is not a speaker of this episode (" + known + ")");
      }
      line.speaker = match->name;
    }
    lines.push_back(std::move(line));
  }
  if (lines.empty()) return Status(ErrorCode::kUpstream, "the language model's transcript has no line of dialogue");
  return lines;
}

json TranscriptToJson(const std::vector<TranscriptLine>& lines, const std::vector<OutlineSegment>& segments) {
  json array = json::array();
  for (const auto& line : lines) {
    json item = {{"speaker", line.speaker}, {"dialogue", line.dialogue}, {"segment", line.segment}};
    if (line.segment >= 0 && static_cast<size_t>(line.segment) < segments.size()) {
      item["segment_name"] = segments[static_cast<size_t>(line.segment)].name;
    }
    array.push_back(std::move(item));
  }
  return json{{"transcript", array}};
}

Result<std::string> NotebookContent(storage::Storage& storage, const std::string& notebook_id) {
  ON_RETURN_IF_ERROR(storage.GetNotebook(notebook_id).status());
  std::string content;
  storage::SourceQuery query;
  query.notebook_id = notebook_id;
  query.limit = 1000;
  query.sort = storage::SourceSortField::kCreated;
  query.descending = false;
  ON_ASSIGN_OR_RETURN(std::vector<storage::Source> sources, storage.ListSources(query));
  for (const auto& listed : sources) {
    ON_ASSIGN_OR_RETURN(storage::Source source, storage.GetSource(listed.id, true));
    ON_ASSIGN_OR_RETURN(std::vector<storage::Insight> insights, storage.ListInsights(source.id));
    const std::string text = Trim(source.full_text.value_or(""));
    if (text.empty() && insights.empty()) continue;
    content += "## Source: " + source.title.value_or(source.id) + "\n\n" + text + "\n\n";
    if (!insights.empty()) {
      content += "Insights:\n";
      for (const auto& insight : insights) content += "- " + insight.insight_type + ": " + Trim(insight.content) + "\n";
      content += "\n";
    }
  }
  storage::NoteQuery note_query;
  note_query.notebook_id = notebook_id;
  ON_ASSIGN_OR_RETURN(std::vector<storage::Note> notes, storage.ListNotes(note_query));
  for (const auto& note : notes) {
    const std::string text = Trim(note.content);
    if (text.empty()) continue;
    content += "## Note: " + note.title.value_or("Untitled note") + "\n\n" + text + "\n\n";
  }
  return Trim(content);
}

Result<CastSpeech> PrepareCastSpeech(storage::Storage& storage, const ai::CredentialCipher* cipher,
                                     const EnvLookup& env, const Settings& settings,
                                     const std::vector<Speaker>& speakers,
                                     const std::optional<std::string>& profile_voice_model,
                                     const std::string& language) {
  CastSpeech cast;
  std::map<std::string, SpeechEngine*> by_model;  // "" is espeak-ng
  for (const auto& speaker : speakers) {
    const std::string model_id = speaker.voice_model.value_or(profile_voice_model.value_or(""));
    auto found = by_model.find(model_id);
    if (found == by_model.end()) {
      std::unique_ptr<SpeechEngine> engine;
      if (model_id.empty()) {
        EspeakOptions options;
        options.program = settings.espeak_program;
        options.language = language;
        options.timeout = std::chrono::seconds(settings.podcast_speech_timeout_s);
        ON_ASSIGN_OR_RETURN(engine, MakeEspeakSpeech(options));
      } else {
        ON_ASSIGN_OR_RETURN(ai::ModelConnection connection, ai::ResolveModelConfig(storage, cipher, env, model_id));
        if (connection.model_type != "text_to_speech") {
          return InvalidInput("model " + model_id + " of speaker '" + speaker.name + "' is a " + connection.model_type +
                              " model; choose a text_to_speech model");
        }
        ON_ASSIGN_OR_RETURN(auto model, ai::MakeTextToSpeechModel(ai::ToProviderConfig(connection)));
        engine = MakeProviderSpeech(std::move(model), connection.provider, connection.model_name);
      }
      found = by_model.emplace(model_id, engine.get()).first;
      cast.owned.push_back(std::move(engine));
    }
    const Status voice = found->second->CheckVoice(speaker.voice_id);
    if (!voice.ok()) return InvalidInput("speaker '" + speaker.name + "': " + voice.message());
    cast.engines.push_back(found->second);
  }
  return cast;
}

}  // namespace on::podcast
