#include "podcast/speech.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "ingest/child_process.h"

namespace on::podcast {
namespace {

std::string Lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

std::string JoinNames(const std::vector<std::string_view>& names) {
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + std::string(name);
  return joined;
}

class ProviderSpeech final : public SpeechEngine {
 public:
  ProviderSpeech(std::unique_ptr<ai::TextToSpeechModel> model, std::string provider, std::string model_name)
      : model_(std::move(model)), provider_(std::move(provider)), model_name_(std::move(model_name)) {}

  Status CheckVoice(std::string_view voice) override {
    if (voice.empty()) return InvalidInput("a speaker has no voice_id; set one for " + Name());
    if (provider_ == "openai" || provider_ == "azure") {
      const auto& voices = OpenAiVoices();
      if (std::find(voices.begin(), voices.end(), Lower(voice)) != voices.end()) return Status::Ok();
      return InvalidInput("voice '" + std::string(voice) + "' is not a voice of " + Name() + "; choose one of " +
                          JoinNames(voices));
    }
    ON_RETURN_IF_ERROR(LoadVoices());
    // NOTE: OpenAI-compatible servers (Speaches, LocalAI, ...) have no voice listing and choose
    // their own names, so any name passes here and an unknown one fails at the first speech request.
    if (!voices_) return Status::Ok();
    if (FindVoice(voice)) return Status::Ok();
    std::vector<std::string_view> names;
    for (const auto& known : *voices_) {
      if (names.size() == 20) break;
      names.push_back(known.id);
    }
    std::string listed = names.empty() ? "none" : JoinNames(names);
    if (voices_->size() > names.size()) listed += ", ... (" + std::to_string(voices_->size()) + " in all)";
    return InvalidInput("voice '" + std::string(voice) + "' is not a voice of " + Name() + "; choose one of " + listed);
  }

  Result<PcmAudio> Speak(std::string_view text, std::string_view voice, const ai::CancelToken& cancel) override {
    // ElevenLabs accepts only ids, so a voice given by its name is sent as its id.
    std::string voice_id(voice);
    if (const ai::VoiceInfo* known = voices_ ? FindVoice(voice) : nullptr) voice_id = known->id;
    // OpenAI's speech API and Google's offer WAV, which decodes without libmpg123. ElevenLabs, and
    // a server that ignores the format, send MP3, which is decoded too.
    ON_ASSIGN_OR_RETURN(ai::SpeechAudio audio, model_->Synthesize(text, voice_id, "wav", cancel));
    return DecodeSpeech(audio.bytes, "the speech returned by " + Name());
  }

  std::string Name() const override { return provider_ + "/" + model_name_; }

 private:
  Status LoadVoices() {
    if (voices_loaded_) return Status::Ok();
    auto voices = model_->ListVoices(ai::CancelToken());
    if (!voices.ok()) {
      return Status(voices.status().code(), "listing the voices of " + Name() + " failed: " + voices.status().message());
    }
    voices_ = std::move(*voices);
    voices_loaded_ = true;
    return Status::Ok();
  }

  // The voice whose id equals `voice`, else the first whose name equals it ignoring case.
  const ai::VoiceInfo* FindVoice(std::string_view voice) const {
    for (const auto& known : *voices_) {
      if (known.id == voice) return &known;
    }
    const std::string lower = Lower(voice);
    for (const auto& known : *voices_) {
      if (Lower(known.name) == lower) return &known;
    }
    return nullptr;
  }

  std::unique_ptr<ai::TextToSpeechModel> model_;
  std::string provider_;
  std::string model_name_;
  bool voices_loaded_ = false;
  std::optional<std::vector<ai::VoiceInfo>> voices_;  // nullopt when the provider has no voice listing
};

// The espeak-ng variant each OpenAI voice name maps to: female names to f*, male ones to m*.
const std::map<std::string, std::string, std::less<>>& OpenAiVoiceVariants() {
  static const std::map<std::string, std::string, std::less<>> variants = {
      {"alloy", "m3"}, {"ash", "m2"},     {"ballad", "m5"}, {"cedar", "m6"}, {"coral", "f2"},  {"echo", "m4"},
      {"fable", "m7"}, {"marin", "f1"},   {"nova", "f3"},   {"onyx", "m1"},  {"sage", "f4"},   {"shimmer", "f5"},
      {"verse", "m8"},
  };
  return variants;
}

class EspeakSpeech final : public SpeechEngine {
 public:
  EspeakSpeech(EspeakOptions options, std::set<std::string> voices, std::set<std::string> variants, std::string base)
      : options_(std::move(options)), voices_(std::move(voices)), variants_(std::move(variants)), base_(std::move(base)) {}

  Status CheckVoice(std::string_view voice) override { return ResolveVoice(voice).status(); }

  Result<PcmAudio> Speak(std::string_view text, std::string_view voice, const ai::CancelToken& cancel) override {
    if (cancel.cancelled()) return Status(ErrorCode::kCancelled, "speech was cancelled");
    ON_ASSIGN_OR_RETURN(std::string espeak_voice, ResolveVoice(voice));
    // A leading space keeps text that starts with '-' from being read as an option.
    std::vector<std::string> argv = {options_.program, "-v", espeak_voice, "-s", std::to_string(options_.words_per_minute),
                                     "--stdout", " " + std::string(text)};
    ingest::ChildProcessLimits limits;
    limits.timeout = options_.timeout;
    limits.cpu_time = std::chrono::duration_cast<std::chrono::seconds>(options_.timeout) + std::chrono::seconds(1);
    limits.max_stdout_bytes = 256ull << 20;
    ON_ASSIGN_OR_RETURN(ingest::ChildProcessResult result, ingest::RunChildProcess(argv, limits));
    if (result.timed_out) {
      return Status(ErrorCode::kTimeout, "espeak-ng did not finish within " +
                                             std::to_string(options_.timeout.count()) + " ms for " +
                                             std::to_string(text.size()) + " bytes of text");
    }
    if (result.exit_code != 0) {
      return Status(ErrorCode::kInternal, "espeak-ng failed with exit code " + std::to_string(result.exit_code) +
                                              " and signal " + std::to_string(result.term_signal) + ": " +
                                              result.stderr_data.substr(0, 300));
    }
    return DecodeSpeech(result.stdout_data, "the output of espeak-ng");
  }

  std::string Name() const override { return "espeak-ng"; }

 private:
  Result<std::string> ResolveVoice(std::string_view voice) const {
    const std::string lower = Lower(voice);
    if (lower.empty()) return InvalidInput("a speaker has no voice_id; set an espeak-ng voice such as en-us or en-gb+f3");
    if (auto mapped = OpenAiVoiceVariants().find(lower); mapped != OpenAiVoiceVariants().end()) {
      return base_ + "+" + mapped->second;
    }
    const size_t plus = lower.find('+');
    const std::string base = lower.substr(0, plus);
    const bool base_known = voices_.count(base) > 0;
    const bool variant_known = plus == std::string::npos || variants_.count(lower.substr(plus + 1)) > 0;
    if (base_known && variant_known) return lower;
    return InvalidInput("voice '" + std::string(voice) +
                        "' is not an espeak-ng voice; use a language such as en-us or de, optionally with a "
                        "variant such as en-us+f3, or an OpenAI voice name (" +
                        JoinNames([] {
                          std::vector<std::string_view> names;
                          for (const auto& [name, variant] : OpenAiVoiceVariants()) names.push_back(name);
                          return names;
                        }()) +
                        ")");
  }

  EspeakOptions options_;
  std::set<std::string> voices_;    // languages and voice files, lower-case
  std::set<std::string> variants_;  // variant names, lower-case
  std::string base_;                // espeak-ng language for OpenAI voice names
};

// Runs `espeak-ng --voices[=variant]` and returns the requested columns of its table, lower-case.
Result<std::set<std::string>> ListEspeak(const EspeakOptions& options, bool variants) {
  ingest::ChildProcessLimits limits;
  limits.timeout = std::chrono::seconds(20);
  ON_ASSIGN_OR_RETURN(ingest::ChildProcessResult result,
                      ingest::RunChildProcess({options.program, variants ? "--voices=variant" : "--voices"}, limits));
  if (result.exit_code != 0) {
    return Status(ErrorCode::kConfiguration, "espeak-ng --voices failed with exit code " +
                                                 std::to_string(result.exit_code) + "; reinstall espeak-ng");
  }
  // Columns: Pty, Language, Age/Gender, VoiceName, File, Other Languages.
  std::set<std::string> names;
  std::istringstream lines(result.stdout_data);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string priority, language, gender, name, file;
    if (!(fields >> priority >> language >> gender >> name >> file)) continue;
    if (variants) {
      const size_t slash = file.rfind('/');
      names.insert(Lower(slash == std::string::npos ? file : file.substr(slash + 1)));
    } else {
      names.insert(Lower(language));
      names.insert(Lower(file));
    }
  }
  return names;
}

// The espeak-ng language for a BCP 47 tag: the tag itself, its primary subtag, or for Chinese
// Mandarin ("cmn"), the name espeak-ng uses.
std::optional<std::string> EspeakLanguage(const std::set<std::string>& voices, std::string_view tag) {
  std::string lower = Lower(tag);
  std::replace(lower.begin(), lower.end(), '_', '-');
  if (lower.empty()) lower = "en";
  if (voices.count(lower)) return lower;
  const std::string primary = lower.substr(0, lower.find('-'));
  if (primary == "zh" && voices.count("cmn")) return std::string("cmn");
  if (primary == "en" && voices.count("en-us")) return std::string("en-us");
  if (voices.count(primary)) return primary;
  return std::nullopt;
}

}  // namespace

const std::vector<std::string_view>& OpenAiVoices() {
  static const std::vector<std::string_view> voices = {"alloy", "ash",  "ballad", "cedar", "coral",   "echo", "fable",
                                                       "marin", "nova", "onyx",   "sage",  "shimmer", "verse"};
  return voices;
}

std::unique_ptr<SpeechEngine> MakeProviderSpeech(std::unique_ptr<ai::TextToSpeechModel> model, std::string provider,
                                                 std::string model_name) {
  return std::make_unique<ProviderSpeech>(std::move(model), std::move(provider), std::move(model_name));
}

Result<std::unique_ptr<SpeechEngine>> MakeEspeakSpeech(const EspeakOptions& options) {
  ON_ASSIGN_OR_RETURN(std::set<std::string> voices, ListEspeak(options, false));
  ON_ASSIGN_OR_RETURN(std::set<std::string> variants, ListEspeak(options, true));
  std::optional<std::string> base = EspeakLanguage(voices, options.language);
  if (!base) {
    return InvalidInput("language '" + options.language +
                        "' has no espeak-ng voice; choose another language or a text-to-speech model");
  }
  return std::unique_ptr<SpeechEngine>(
      std::make_unique<EspeakSpeech>(options, std::move(voices), std::move(variants), std::move(*base)));
}

}  // namespace on::podcast
