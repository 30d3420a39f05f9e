// Podcast episodes: speaker lists, the outline and transcript a language model writes, the
// material an episode talks about, and the speech engines of a cast.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ai/credential_cipher.h"
#include "core/error.h"
#include "core/settings.h"
#include "podcast/speech.h"
#include "storage/storage.h"

namespace on::podcast {

inline constexpr int kMinSpeakers = 1;
inline constexpr int kMaxSpeakers = 4;
inline constexpr int kMinSegments = 3;
inline constexpr int kMaxSegments = 20;

struct Speaker {
  std::string name;
  std::string voice_id;
  std::string backstory;
  std::string personality;
  std::optional<std::string> voice_model;  // overrides the profile's model for this speaker
};

// Validates a speakers array (1 to 4 objects with a unique non-empty name and a non-empty
// voice_id). kInvalidInput naming the speaker and field otherwise.
Result<std::vector<Speaker>> ParseSpeakers(const nlohmann::json& speakers);
nlohmann::json SpeakersToJson(const std::vector<Speaker>& speakers);

struct OutlineSegment {
  std::string name;
  std::string description;
  std::string size;  // short, medium or long
};

struct TranscriptLine {
  std::string speaker;
  std::string dialogue;
  int segment = 0;  // index into the outline
};

// Parses the model's outline response ({"segments": [...]}, fenced or surrounded by text). Keeps at most
// `max_segments`. kUpstream when the response contains no usable segment.
Result<std::vector<OutlineSegment>> ParseOutline(std::string_view answer, int max_segments);
nlohmann::json OutlineToJson(const std::vector<OutlineSegment>& segments);

// Parses the model's transcript response for segment `segment` ({"transcript": [{speaker, dialogue}]}).
// Speaker names are matched case-insensitively to `speakers`; with one speaker every line is
// theirs. kUpstream when a line names another speaker or no line has dialogue.
Result<std::vector<TranscriptLine>> ParseTranscript(std::string_view answer, const std::vector<Speaker>& speakers,
                                                    int segment);
nlohmann::json TranscriptToJson(const std::vector<TranscriptLine>& lines,
                                const std::vector<OutlineSegment>& segments);

// The material of a notebook: each source's title and text with its insights, then each note.
// Empty when the notebook has nothing with text.
Result<std::string> NotebookContent(storage::Storage& storage, const std::string& notebook_id);

// The speech engine of each speaker of a cast, built and checked without sending any request.
struct CastSpeech {
  // One engine per speaker, in cast order; speakers that share a model share an engine.
  std::vector<SpeechEngine*> engines;
  std::vector<std::unique_ptr<SpeechEngine>> owned;
};

// Builds the engines of `speakers`: each speaker's voice_model, else `profile_voice_model`,
// else espeak-ng for `language`. Checks every voice against its engine. Errors: kNotFound for a
// missing model, kInvalidInput for a model that is not text-to-speech or a voice the engine
// does not have, kConfiguration for a provider without speech or a missing espeak-ng.
Result<CastSpeech> PrepareCastSpeech(storage::Storage& storage, const ai::CredentialCipher* cipher,
                                     const EnvLookup& env, const Settings& settings,
                                     const std::vector<Speaker>& speakers,
                                     const std::optional<std::string>& profile_voice_model,
                                     const std::string& language);

}  // namespace on::podcast
