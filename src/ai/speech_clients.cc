// Text-to-speech APIs that are not OpenAI-shaped: ElevenLabs and Google Cloud Text-to-Speech.
#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "ai/provider_clients.h"

namespace on::ai::internal {
namespace {

using nlohmann::json;

constexpr std::string_view kGoogleSpeechLabel = "Google Cloud Text-to-Speech";
constexpr std::string_view kGoogleSpeechDefaultBase = "https://texttospeech.googleapis.com";

// Percent-encodes a path segment, so a voice id cannot change the request path.
std::string EncodePathSegment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (const char c : segment) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded.push_back(c);
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[byte >> 4]);
      encoded.push_back(kHex[byte & 0x0F]);
    }
  }
  return encoded;
}

class ElevenLabsSpeech final : public TextToSpeechModel {
 public:
  ElevenLabsSpeech(ProviderConfig config, std::string base) : config_(std::move(config)), base_(std::move(base)) {}

  Result<SpeechAudio> Synthesize(std::string_view text, std::string_view voice, std::string_view format,
                                 const CancelToken& cancel) override {
    (void)format;  // MP3 for every format, as TextToSpeechModel::Synthesize documents
    if (voice.empty()) return InvalidInput("ElevenLabs needs a voice id; list them with GET /v1/voices");
    HttpRequest request;
    request.method = "POST";
    request.url = base_ + "/v1/text-to-speech/" + EncodePathSegment(voice) + "?output_format=mp3_44100_128";
    request.headers.emplace_back("Content-Type", "application/json");
    request.headers.emplace_back("Accept", "audio/mpeg");
    AddAuthHeaders(config_, ApiFamily::kElevenLabs, request);
    request.body = json{{"text", text}, {"model_id", config_.model}}.dump();
    ON_ASSIGN_OR_RETURN(HttpResponse response, SendForBytes(config_, request, cancel));
    return SpeechAudio{std::move(response.body), response.content_type};
  }

  Result<std::optional<std::vector<VoiceInfo>>> ListVoices(const CancelToken& cancel) override {
    HttpRequest request;
    request.method = "GET";
    request.url = base_ + "/v1/voices";
    AddAuthHeaders(config_, ApiFamily::kElevenLabs, request);
    ON_ASSIGN_OR_RETURN(const json value, SendForJson(config_, request, cancel));
    std::vector<VoiceInfo> voices;
    for (const json& item : value.value("voices", json::array())) {
      if (!item.is_object() || !item.contains("voice_id") || !item["voice_id"].is_string()) continue;
      const std::string id = item["voice_id"].get<std::string>();
      voices.push_back({id, item.value("name", id), {}});
    }
    return std::optional<std::vector<VoiceInfo>>(std::move(voices));
  }

 private:
  ProviderConfig config_;
  std::string base_;
};

Result<std::string> DecodeBase64(std::string_view text) {
  std::string bytes(text.size() / 4 * 3 + 3, '\0');
  size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(), text.size(), "\r\n",
                        &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Status(ErrorCode::kUpstream, std::string(kGoogleSpeechLabel) + " returned audioContent that is not valid base64");
  }
  bytes.resize(length);
  return bytes;
}

// The language code of a Cloud Text-to-Speech voice name: its first two parts ("en-US" of
// "en-US-Standard-A", "cmn-CN" of "cmn-CN-Wavenet-A"). Empty when the name has no such form.
std::string GoogleVoiceLanguage(std::string_view voice) {
  const size_t first = voice.find('-');
  if (first == std::string_view::npos || first == 0) return "";
  const size_t second = voice.find('-', first + 1);
  if (second == std::string_view::npos || second == first + 1) return "";
  return std::string(voice.substr(0, second));
}

// Cloud Text-to-Speech picks the model from the voice name ("en-US-Neural2-C"), so the model name
// of the registered model is only a label and is not sent.
class GoogleSpeech final : public TextToSpeechModel {
 public:
  GoogleSpeech(ProviderConfig config, std::string base) : config_(std::move(config)), base_(std::move(base)) {}

  Result<SpeechAudio> Synthesize(std::string_view text, std::string_view voice, std::string_view format,
                                 const CancelToken& cancel) override {
    const std::string language = GoogleVoiceLanguage(voice);
    if (language.empty()) {
      return InvalidInput("'" + std::string(voice) + "' is not a " + std::string(kGoogleSpeechLabel) +
                          " voice name; use a name such as en-US-Standard-A");
    }
    const bool mp3 = format == "mp3";
    HttpRequest request;
    request.method = "POST";
    request.url = base_ + "/v1/text:synthesize";
    request.headers.emplace_back("Content-Type", "application/json");
    AddAuthHeaders(config_, ApiFamily::kGemini, request);
    request.body = json{{"input", {{"text", text}}},
                        {"voice", {{"languageCode", language}, {"name", voice}}},
                        {"audioConfig", {{"audioEncoding", mp3 ? "MP3" : "LINEAR16"}}}}
                       .dump();
    ON_ASSIGN_OR_RETURN(const json value, SendForJson(config_, request, cancel));
    if (!value.contains("audioContent") || !value["audioContent"].is_string() ||
        value["audioContent"].get<std::string>().empty()) {
      return Status(ErrorCode::kUpstream, std::string(kGoogleSpeechLabel) + " returned a response without audioContent");
    }
    ON_ASSIGN_OR_RETURN(std::string bytes, DecodeBase64(value["audioContent"].get<std::string>()));
    // LINEAR16 audio comes with a WAV header, so it decodes like any WAV file.
    return SpeechAudio{std::move(bytes), mp3 ? "audio/mpeg" : "audio/wav"};
  }

  Result<std::optional<std::vector<VoiceInfo>>> ListVoices(const CancelToken& cancel) override {
    HttpRequest request;
    request.method = "GET";
    request.url = base_ + "/v1/voices";
    AddAuthHeaders(config_, ApiFamily::kGemini, request);
    ON_ASSIGN_OR_RETURN(const json value, SendForJson(config_, request, cancel));
    std::vector<VoiceInfo> voices;
    for (const json& item : value.value("voices", json::array())) {
      if (!item.is_object() || !item.contains("name") || !item["name"].is_string()) continue;
      VoiceInfo voice;
      voice.id = item["name"].get<std::string>();
      voice.name = voice.id;
      for (const json& code : item.value("languageCodes", json::array())) {
        if (code.is_string()) voice.language_codes.push_back(code.get<std::string>());
      }
      voices.push_back(std::move(voice));
    }
    return std::optional<std::vector<VoiceInfo>>(std::move(voices));
  }

 private:
  ProviderConfig config_;
  std::string base_;
};

}  // namespace

Result<std::string> GoogleSpeechBaseUrl(const ProviderConfig& config) {
  if (config.base_url.empty()) return std::string(kGoogleSpeechDefaultBase);
  std::string url = config.base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return Status(ErrorCode::kConfiguration, "the text-to-speech URL '" + config.base_url + "' of provider '" +
                                                 config.provider + "' must start with http:// or https://");
  }
  // Drop a trailing version ("/v1", "/v1beta") because the client adds "/v1/..." itself.
  const size_t slash = url.rfind('/');
  const std::string_view last = std::string_view(url).substr(slash + 1);
  const bool has_path = url.find('/', url.find("://") + 3) != std::string::npos;
  if (has_path && last.size() >= 2 && last[0] == 'v' && std::isdigit(static_cast<unsigned char>(last[1]))) {
    url.resize(slash);
  }
  return url;
}

std::unique_ptr<TextToSpeechModel> MakeElevenLabsSpeech(ProviderConfig config, std::string base) {
  return std::make_unique<ElevenLabsSpeech>(std::move(config), std::move(base));
}

std::unique_ptr<TextToSpeechModel> MakeGoogleSpeech(ProviderConfig config, std::string base) {
  return std::make_unique<GoogleSpeech>(std::move(config), std::move(base));
}

}  // namespace on::ai::internal
