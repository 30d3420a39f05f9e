// Speech engines for podcasts: a provider's text-to-speech model, or the offline espeak-ng
// program when the speaker profile names no speech model.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ai/models.h"
#include "core/error.h"
#include "podcast/audio.h"

namespace on::podcast {

class SpeechEngine {
 public:
  virtual ~SpeechEngine() = default;

  // kInvalidInput naming the voice and the accepted ones when this engine cannot speak with
  // `voice`. Sends no paid request, so it runs before any: at most one voice listing per engine
  // (ElevenLabs, Google), whose errors (a wrong key, an unreachable host) are returned as they are.
  virtual Status CheckVoice(std::string_view voice) = 0;

  // Speaks `text` with `voice`. Transient failures of the engine come back as transient codes
  // (kUnavailable, kUpstream, ...), so the caller can retry them.
  virtual Result<PcmAudio> Speak(std::string_view text, std::string_view voice, const ai::CancelToken& cancel) = 0;

  // "espeak-ng" or "<provider>/<model>", for logs and results.
  virtual std::string Name() const = 0;
};

// The voices of OpenAI's text-to-speech models (tts-1, tts-1-hd, gpt-4o-mini-tts).
const std::vector<std::string_view>& OpenAiVoices();

// A provider's text-to-speech model. `provider` decides which voices are accepted. OpenAI and
// Azure OpenAI have a fixed list (OpenAiVoices). ElevenLabs and Google accept the voices their
// voice listing returns, by id or by name ("Rachel"). Other providers accept any non-empty name.
std::unique_ptr<SpeechEngine> MakeProviderSpeech(std::unique_ptr<ai::TextToSpeechModel> model, std::string provider,
                                                 std::string model_name);

struct EspeakOptions {
  std::string program = "espeak-ng";
  // BCP 47 tag of the episode; picks the espeak-ng language that OpenAI voice names map onto.
  std::string language = "en";
  int words_per_minute = 165;
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

// espeak-ng in a child process. Voices are espeak-ng voices ("en-us", "en-gb+f3", "de"), or an
// OpenAI voice name, which maps to an espeak-ng variant of the episode's language so that
// default profiles speak offline with distinct voices. kConfiguration when the program is
// missing; kInvalidInput when the language has no espeak-ng voice.
Result<std::unique_ptr<SpeechEngine>> MakeEspeakSpeech(const EspeakOptions& options);

}  // namespace on::podcast
