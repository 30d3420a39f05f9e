#include "fake_provider/handlers.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "fake_provider/podcast_model.h"
#include "fake_provider/text_model.h"
#include "http/multipart.h"
#include "podcast/audio.h"

namespace on::fake {
namespace {

using nlohmann::json;

// kGemini also covers Google Cloud Text-to-Speech, which shares Gemini's key and error shapes.
enum class Protocol { kOpenAi, kAnthropic, kGemini, kElevenLabs };

const std::vector<std::string>& ModelIds() {
  static const std::vector<std::string> ids = {"fake-chat", "fake-embed-384", "fake-embed-768", "fake-tts",
                                               "fake-stt"};
  return ids;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

int ParseInt(std::string_view text, int fallback) {
  int value = fallback;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() ? value : fallback;
}

Reply JsonReply(int status, const json& body) {
  Reply reply;
  reply.status = status;
  reply.body = body.dump();
  return reply;
}

// The error body each provider family sends, so clients parse their real shapes.
Reply ErrorReply(Protocol protocol, int status, const std::string& message, const std::string& type,
                 const std::string& code) {
  switch (protocol) {
    case Protocol::kAnthropic:
      return JsonReply(status, {{"type", "error"}, {"error", {{"type", type}, {"message", message}}}});
    case Protocol::kGemini:
      return JsonReply(status, {{"error", {{"code", status}, {"message", message}, {"status", code}}}});
    case Protocol::kElevenLabs:
      return JsonReply(status, {{"detail", {{"status", code.empty() ? type : code}, {"message", message}}}});
    case Protocol::kOpenAi:
      break;
  }
  return JsonReply(status, {{"error",
                             {{"message", message},
                              {"type", type},
                              {"param", nullptr},
                              {"code", code.empty() ? json(nullptr) : json(code)}}}});
}

Reply StatusFaultReply(Protocol protocol, int status) {
  switch (status) {
    case 400:
      return ErrorReply(protocol, 400, "Invalid request: the fake provider was told to reject this request",
                        "invalid_request_error", protocol == Protocol::kGemini ? "INVALID_ARGUMENT" : "invalid_value");
    case 401:
      return ErrorReply(protocol, 401, "Incorrect API key provided.",
                        protocol == Protocol::kAnthropic ? "authentication_error" : "invalid_request_error",
                        protocol == Protocol::kGemini ? "UNAUTHENTICATED" : "invalid_api_key");
    case 403:
      return ErrorReply(protocol, 403, "The API key lacks permission for this model.",
                        protocol == Protocol::kAnthropic ? "permission_error" : "insufficient_permissions",
                        protocol == Protocol::kGemini ? "PERMISSION_DENIED" : "insufficient_permissions");
    case 404:
      return ErrorReply(protocol, 404, "The model does not exist or you do not have access to it.",
                        protocol == Protocol::kAnthropic ? "not_found_error" : "invalid_request_error",
                        protocol == Protocol::kGemini ? "NOT_FOUND" : "model_not_found");
    case 503:
      return ErrorReply(protocol, 503, "The server is overloaded, try again later.",
                        protocol == Protocol::kAnthropic ? "overloaded_error" : "server_error",
                        protocol == Protocol::kGemini ? "UNAVAILABLE" : "");
    default:
      break;
  }
  return ErrorReply(protocol, status, "The server had an error while processing your request.",
                    protocol == Protocol::kAnthropic ? "api_error" : "server_error",
                    protocol == Protocol::kGemini ? "INTERNAL" : "");
}

Reply ContextLengthReply(Protocol protocol, std::size_t words, std::size_t limit) {
  const std::string used = std::to_string(words);
  const std::string allowed = std::to_string(limit);
  switch (protocol) {
    case Protocol::kAnthropic:
      return ErrorReply(protocol, 400, "prompt is too long: " + used + " tokens > " + allowed + " maximum",
                        "invalid_request_error", "");
    case Protocol::kGemini:
      return ErrorReply(protocol, 400,
                        "The input token count (" + used + ") exceeds the maximum number of tokens allowed (" +
                            allowed + ").",
                        "", "INVALID_ARGUMENT");
    case Protocol::kElevenLabs:
    case Protocol::kOpenAi:
      break;
  }
  return ErrorReply(protocol, 400,
                    "This model's maximum context length is " + allowed + " tokens. However, your messages resulted in " +
                        used + " tokens. Please reduce the length of the messages.",
                    "invalid_request_error", "context_length_exceeded");
}

// Replies for faults that replace the answer entirely; nullopt for faults that shape an answer.
std::optional<Reply> FaultReply(Protocol protocol, const Fault& fault, std::size_t words) {
  switch (fault.kind) {
    case Fault::Kind::kStatus:
      return StatusFaultReply(protocol, fault.status);
    case Fault::Kind::kRateLimit: {
      Reply reply = ErrorReply(protocol, 429, "Rate limit reached for requests. Please try again in " +
                                                  std::to_string(fault.retry_after_s) + "s.",
                               protocol == Protocol::kAnthropic ? "rate_limit_error" : "requests",
                               protocol == Protocol::kGemini ? "RESOURCE_EXHAUSTED" : "rate_limit_exceeded");
      reply.headers.emplace_back("Retry-After", std::to_string(fault.retry_after_s));
      return reply;
    }
    case Fault::Kind::kReset: {
      Reply reply;
      reply.reset = true;
      return reply;
    }
    case Fault::Kind::kTimeout: {
      Reply reply;
      reply.never_answer = true;
      return reply;
    }
    case Fault::Kind::kContextLength:
      return ContextLengthReply(protocol, std::max<std::size_t>(words, 8193), 8192);
    case Fault::Kind::kEmptyBody: {
      Reply reply;
      reply.body.clear();
      return reply;
    }
    default:
      return std::nullopt;
  }
}

// The fault for this request: the X-Fake-Fault header, else a "~fault" suffix of the model name,
// else the next scripted fault. A spec that does not parse is reported as a 400 by the caller.
struct FaultChoice {
  std::optional<Fault> fault;
  std::string invalid_spec;
};

FaultChoice ChooseFault(const Request& request, std::string_view model_suffix, ControlState& control) {
  // Scripted faults are consumed by every request to the path, so a script counts requests even
  // when a header overrides it.
  std::optional<Fault> scripted = control.NextScripted(request.path);
  std::string spec = request.Header("x-fake-fault");
  if (spec.empty()) spec = std::string(model_suffix);
  if (spec.empty()) return {scripted, ""};
  std::optional<Fault> fault = ParseFault(spec);
  if (!fault) return {std::nullopt, spec};
  return {fault, ""};
}

// Splits "fake-chat~slow=200,20" into the model and the fault spec.
std::pair<std::string, std::string> SplitModel(std::string_view model) {
  const std::size_t tilde = model.find('~');
  if (tilde == std::string_view::npos) return {std::string(model), ""};
  return {std::string(model.substr(0, tilde)), std::string(model.substr(tilde + 1))};
}

std::string TextOfContent(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string text;
  if (content.is_array()) {
    for (const json& part : content) {
      if (part.is_object() && part.contains("text") && part["text"].is_string()) {
        if (!text.empty()) text += "\n";
        text += part["text"].get<std::string>();
      }
    }
  }
  return text;
}

// ----- chat -----

struct ChatInput {
  std::vector<Message> messages;
  bool json_format = false;
  bool stream = false;
  bool include_usage = false;
  std::size_t answer_max_words = 0;  // Options::answer_max_words
};

// The first `max_words` words of `answer` (0 keeps all), joined by single spaces.
std::string CutWords(const std::string& answer, std::size_t max_words) {
  if (max_words == 0) return answer;
  std::string cut;
  std::size_t words = 0;
  std::size_t at = 0;
  while (at < answer.size() && words < max_words) {
    const std::size_t begin = answer.find_first_not_of(" \t\r\n", at);
    if (begin == std::string::npos) break;
    std::size_t end = answer.find_first_of(" \t\r\n", begin);
    if (end == std::string::npos) end = answer.size();
    if (!cut.empty()) cut += ' ';
    cut.append(answer, begin, end - begin);
    ++words;
    at = end;
  }
  return cut;
}

std::string AnswerFor(const ChatInput& input, const std::optional<Fault>& fault) {
  if (fault && fault->kind == Fault::Kind::kEmptyAnswer) return "";
  if (std::optional<std::string> podcast = PodcastAnswer(input.messages)) return *podcast;
  if (fault && fault->kind == Fault::Kind::kSlow && fault->tokens > 0) {
    // A slow answer has exactly `tokens` pieces so tests know how long it lasts.
    std::string answer;
    for (int i = 0; i < fault->tokens; ++i) answer += "token" + std::to_string(i + 1) + (i + 1 < fault->tokens ? " " : "");
    return answer;
  }
  if (WantsStrategyJson(input.messages, input.json_format)) return StrategyAnswer(input.messages);
  return CutWords(CitingAnswer(input.messages), input.answer_max_words);
}

std::size_t PromptWords(const std::vector<Message>& messages) {
  std::size_t words = 0;
  for (const Message& message : messages) words += CountWords(message.text);
  return words;
}

// Applies the stream-shaping faults to a reply built from `pieces` frames.
void ShapeStream(Reply& reply, const std::optional<Fault>& fault) {
  reply.streamed = true;
  reply.content_type = "text/event-stream";
  reply.headers.emplace_back("Cache-Control", "no-cache");
  if (!fault) return;
  if (fault->kind == Fault::Kind::kSlow) reply.interval = fault->interval;
  if (fault->kind == Fault::Kind::kStall || fault->kind == Fault::Kind::kCut) {
    reply.stall_after = static_cast<std::size_t>(std::max(0, fault->tokens));
    reply.reset_at_stall = fault->kind == Fault::Kind::kCut;
    reply.interval = fault->interval;
  }
}

std::string DataFrame(const json& value) { return "data: " + value.dump() + "\n\n"; }

Reply OpenAiChat(const ChatInput& input, const std::string& model, const std::optional<Fault>& fault) {
  const std::string answer = AnswerFor(input, fault);
  const std::size_t prompt_words = PromptWords(input.messages);
  const std::size_t answer_words = CountWords(answer);
  const json usage = {{"prompt_tokens", prompt_words},
                      {"completion_tokens", answer_words},
                      {"total_tokens", prompt_words + answer_words}};
  const bool malformed = fault && fault->kind == Fault::Kind::kMalformedJson;
  if (!input.stream) {
    if (malformed) return Reply{.body = R"({"id":"chatcmpl-fake","choices":[{"message":{"content":"cut)"};
    Reply reply = JsonReply(200, {{"id", "chatcmpl-fake"},
                                  {"object", "chat.completion"},
                                  {"created", 1700000000},
                                  {"model", model},
                                  {"choices", json::array({{{"index", 0},
                                                            {"message", {{"role", "assistant"}, {"content", answer}}},
                                                            {"finish_reason", "stop"}}})},
                                  {"usage", usage}});
    if (fault && fault->kind == Fault::Kind::kSlow) reply.delay = fault->interval * fault->tokens;
    return reply;
  }

  const json base = {{"id", "chatcmpl-fake"}, {"object", "chat.completion.chunk"}, {"created", 1700000000}, {"model", model}};
  auto chunk = [&](const json& delta, const json& finish_reason) {
    json value = base;
    value["choices"] = json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish_reason}}});
    return DataFrame(value);
  };
  Reply reply;
  reply.frames.push_back(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
  for (const std::string& piece : StreamPieces(answer)) reply.frames.push_back(chunk({{"content", piece}}, nullptr));
  if (malformed) reply.frames.push_back("data: {\"choices\": [{\"delta\": {\"content\": \"cut\n\n");
  reply.frames.push_back(chunk(json::object(), "stop"));
  if (input.include_usage) {
    json value = base;
    value["choices"] = json::array();
    value["usage"] = usage;
    reply.frames.push_back(DataFrame(value));
  }
  reply.frames.push_back("data: [DONE]\n\n");
  ShapeStream(reply, fault);
  return reply;
}

std::string EventFrame(const std::string& event, const json& value) {
  return "event: " + event + "\ndata: " + value.dump() + "\n\n";
}

Reply AnthropicChat(const ChatInput& input, const std::string& model, const std::optional<Fault>& fault) {
  const std::string answer = AnswerFor(input, fault);
  const std::size_t prompt_words = PromptWords(input.messages);
  const bool malformed = fault && fault->kind == Fault::Kind::kMalformedJson;
  if (!input.stream) {
    if (malformed) return Reply{.body = R"({"id":"msg_fake","content":[{"type":"text","text":"cut)"};
    Reply reply = JsonReply(200, {{"id", "msg_fake"},
                                  {"type", "message"},
                                  {"role", "assistant"},
                                  {"model", model},
                                  {"content", json::array({{{"type", "text"}, {"text", answer}}})},
                                  {"stop_reason", "end_turn"},
                                  {"stop_sequence", nullptr},
                                  {"usage", {{"input_tokens", prompt_words}, {"output_tokens", CountWords(answer)}}}});
    if (fault && fault->kind == Fault::Kind::kSlow) reply.delay = fault->interval * fault->tokens;
    return reply;
  }
  Reply reply;
  reply.frames.push_back(EventFrame("message_start", {{"type", "message_start"},
                                                      {"message",
                                                       {{"id", "msg_fake"},
                                                        {"type", "message"},
                                                        {"role", "assistant"},
                                                        {"model", model},
                                                        {"content", json::array()},
                                                        {"stop_reason", nullptr},
                                                        {"usage", {{"input_tokens", prompt_words}, {"output_tokens", 0}}}}}}));
  reply.frames.push_back(EventFrame("content_block_start", {{"type", "content_block_start"},
                                                            {"index", 0},
                                                            {"content_block", {{"type", "text"}, {"text", ""}}}}));
  reply.frames.push_back(EventFrame("ping", {{"type", "ping"}}));
  for (const std::string& piece : StreamPieces(answer)) {
    reply.frames.push_back(EventFrame("content_block_delta", {{"type", "content_block_delta"},
                                                              {"index", 0},
                                                              {"delta", {{"type", "text_delta"}, {"text", piece}}}}));
  }
  if (malformed) reply.frames.push_back("event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"delta\": {\n\n");
  reply.frames.push_back(EventFrame("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}}));
  reply.frames.push_back(EventFrame("message_delta", {{"type", "message_delta"},
                                                      {"delta", {{"stop_reason", "end_turn"}, {"stop_sequence", nullptr}}},
                                                      {"usage", {{"output_tokens", CountWords(answer)}}}}));
  reply.frames.push_back(EventFrame("message_stop", {{"type", "message_stop"}}));
  ShapeStream(reply, fault);
  return reply;
}

Reply GeminiChat(const ChatInput& input, const std::optional<Fault>& fault) {
  const std::string answer = AnswerFor(input, fault);
  const std::size_t prompt_words = PromptWords(input.messages);
  const bool malformed = fault && fault->kind == Fault::Kind::kMalformedJson;
  auto candidate = [](const std::string& text, bool last) {
    json value = {{"content", {{"parts", json::array({{{"text", text}}})}, {"role", "model"}}}, {"index", 0}};
    if (last) value["finishReason"] = "STOP";
    return value;
  };
  const json usage = {{"promptTokenCount", prompt_words},
                      {"candidatesTokenCount", CountWords(answer)},
                      {"totalTokenCount", prompt_words + CountWords(answer)}};
  if (!input.stream) {
    if (malformed) return Reply{.body = R"({"candidates":[{"content":{"parts":[{"text":"cut)"};
    Reply reply = JsonReply(200, {{"candidates", json::array({candidate(answer, true)})}, {"usageMetadata", usage}});
    if (fault && fault->kind == Fault::Kind::kSlow) reply.delay = fault->interval * fault->tokens;
    return reply;
  }
  Reply reply;
  const std::vector<std::string> pieces = StreamPieces(answer);
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    json value = {{"candidates", json::array({candidate(pieces[i], i + 1 == pieces.size())})}};
    if (i + 1 == pieces.size()) value["usageMetadata"] = usage;
    reply.frames.push_back(DataFrame(value));
  }
  if (pieces.empty()) reply.frames.push_back(DataFrame({{"candidates", json::array({candidate("", true)})}}));
  if (malformed) reply.frames.push_back("data: {\"candidates\": [\n\n");
  ShapeStream(reply, fault);
  return reply;
}

// ----- embeddings -----

std::optional<Reply> CheckEmbeddingLimits(Protocol protocol, const std::vector<std::string>& inputs,
                                          const Options& options) {
  if (options.embed_max_batch > 0 && inputs.size() > options.embed_max_batch) {
    return ErrorReply(protocol, 400,
                      "Too many inputs: " + std::to_string(inputs.size()) + " > maximum " +
                          std::to_string(options.embed_max_batch) + " per request",
                      "invalid_request_error", protocol == Protocol::kGemini ? "INVALID_ARGUMENT" : "invalid_value");
  }
  if (options.embed_max_words > 0) {
    for (const std::string& input : inputs) {
      const std::size_t words = CountWords(input);
      if (words > options.embed_max_words) return ContextLengthReply(protocol, words, options.embed_max_words);
    }
  }
  return std::nullopt;
}

json VectorJson(const std::string& text, std::size_t dimensions) { return EmbedText(text, dimensions); }

// ----- audio -----

void AppendLe(std::string& out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

// A 0.25 s, 8 kHz, 16-bit mono WAV of a square wave whose LIST/INFO/ICMT chunk carries `text`, so
// the fake's transcription endpoint can return the text that was spoken.
std::string MakeWav(const std::string& text) {
  constexpr uint32_t kRate = 8000;
  constexpr uint32_t kSamples = kRate / 4;
  std::string comment = text;
  comment.push_back('\0');
  if (comment.size() % 2 != 0) comment.push_back('\0');
  const auto comment_size = static_cast<uint32_t>(comment.size());
  const uint32_t list_size = 4 + 8 + comment_size;
  const uint32_t data_size = kSamples * 2;

  std::string wav = "RIFF";
  AppendLe(wav, 4 + (8 + 16) + (8 + list_size) + (8 + data_size), 4);
  wav += "WAVEfmt ";
  AppendLe(wav, 16, 4);
  AppendLe(wav, 1, 2);           // PCM
  AppendLe(wav, 1, 2);           // mono
  AppendLe(wav, kRate, 4);
  AppendLe(wav, kRate * 2, 4);   // byte rate
  AppendLe(wav, 2, 2);           // block align
  AppendLe(wav, 16, 2);          // bits per sample
  wav += "LIST";
  AppendLe(wav, list_size, 4);
  wav += "INFOICMT";
  AppendLe(wav, comment_size, 4);
  wav += comment;
  wav += "data";
  AppendLe(wav, data_size, 4);
  for (uint32_t i = 0; i < kSamples; ++i) AppendLe(wav, (i / 9) % 2 == 0 ? 0x1000 : 0xF000, 2);  // about 440 Hz
  return wav;
}

// The speech of MakeWav as constant-bitrate MP3.
std::string MakeMp3(const std::string& text) {
  Result<podcast::PcmAudio> audio = podcast::DecodeWav(MakeWav(text));
  Result<std::string> mp3 = audio.ok() ? podcast::EncodeMp3(*audio) : Result<std::string>(audio.status());
  return mp3.ok() ? *mp3 : std::string();
}

std::string ToBase64(const std::string& bytes) {
  std::string text(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  text.resize(text.size() - 1);  // drop the terminating NUL
  return text;
}

std::string TranscriptOf(std::string_view audio) {
  const std::size_t marker = audio.find("ICMT");
  if (marker != std::string_view::npos && marker + 8 <= audio.size()) {
    uint32_t size = 0;
    for (int i = 0; i < 4; ++i) size |= static_cast<uint32_t>(static_cast<unsigned char>(audio[marker + 4 + i])) << (8 * i);
    std::string_view text = audio.substr(marker + 8, std::min<std::size_t>(size, audio.size() - marker - 8));
    while (!text.empty() && text.back() == '\0') text.remove_suffix(1);
    return std::string(text);
  }
  return "Fake transcription of " + std::to_string(audio.size()) + " bytes of audio";
}

// ----- routing -----

std::string ExpectedKeyHeader(Protocol protocol, const Request& request) {
  if (protocol == Protocol::kAnthropic) return request.Header("x-api-key");
  if (protocol == Protocol::kElevenLabs) return request.Header("xi-api-key");
  if (protocol == Protocol::kGemini) {
    const std::string header = request.Header("x-goog-api-key");
    if (!header.empty()) return header;
    const auto key = request.query.find("key");
    return key == request.query.end() ? "" : key->second;
  }
  if (StartsWith(request.path, "/openai/")) return request.Header("api-key");
  const std::string authorization = request.Header("authorization");
  return StartsWith(authorization, "Bearer ") ? authorization.substr(7) : "";
}

// True for Google Cloud Text-to-Speech requests: synthesis, and a voice listing that carries a
// Google key. A voice listing without one is ElevenLabs'.
bool IsGoogleSpeech(const Request& request) {
  if (request.path == "/v1/text:synthesize") return true;
  return request.path == "/v1/voices" && (!request.Header("x-goog-api-key").empty() || request.query.contains("key"));
}

Protocol ProtocolOf(const Request& request) {
  if (StartsWith(request.path, "/v1beta/") || IsGoogleSpeech(request)) return Protocol::kGemini;
  if (StartsWith(request.path, "/v1/text-to-speech/") || request.path == "/v1/voices" ||
      !request.Header("xi-api-key").empty()) {
    return Protocol::kElevenLabs;
  }
  if (request.path == "/v1/messages" || !request.Header("anthropic-version").empty()) return Protocol::kAnthropic;
  return Protocol::kOpenAi;
}

json ModelList(Protocol protocol) {
  json data = json::array();
  if (protocol == Protocol::kGemini) {
    for (const std::string& id : ModelIds()) {
      const bool embed = StartsWith(id, "fake-embed");
      data.push_back({{"name", "models/" + id},
                      {"displayName", id},
                      {"supportedGenerationMethods",
                       embed ? json::array({"embedContent"}) : json::array({"generateContent", "countTokens"})}});
    }
    return {{"models", data}};
  }
  if (protocol == Protocol::kElevenLabs) {
    for (const std::string& id : ModelIds()) data.push_back({{"model_id", id}, {"name", id}, {"can_do_text_to_speech", true}});
    return data;
  }
  // One shape that is both OpenAI's and Anthropic's list, since both live at /v1/models.
  for (const std::string& id : ModelIds()) {
    data.push_back({{"id", id},
                    {"object", "model"},
                    {"type", "model"},
                    {"created", 1700000000},
                    {"created_at", "2024-01-01T00:00:00Z"},
                    {"display_name", id},
                    {"owned_by", "fake"}});
  }
  return {{"object", "list"}, {"data", data}, {"has_more", false}};
}

json OllamaTags() {
  json models = json::array();
  for (const std::string& id : ModelIds()) {
    models.push_back({{"name", id + ":latest"},
                      {"model", id + ":latest"},
                      {"modified_at", "2024-01-01T00:00:00Z"},
                      {"size", 1000},
                      {"digest", "0000"},
                      {"details", {{"family", "fake"}, {"parameter_size", "1M"}}}});
  }
  return {{"models", models}};
}

// The last path segment of "/openai/deployments/{name}/..." or an empty string.
std::string AzureDeployment(std::string_view path) {
  constexpr std::string_view kPrefix = "/openai/deployments/";
  if (!StartsWith(path, kPrefix)) return "";
  path.remove_prefix(kPrefix.size());
  return std::string(path.substr(0, path.find('/')));
}

Reply HandleControl(const Request& request, ControlState& control) {
  if (request.path == "/control/requests" && request.method == "GET") return JsonReply(200, control.Requests());
  if (request.path == "/control/reset" && request.method == "POST") {
    control.Reset();
    return JsonReply(200, {{"reset", true}});
  }
  if (request.path == "/control/script" && request.method == "POST") {
    const json body = json::parse(request.body, nullptr, false);
    json scripts = body.is_object() && body.contains("scripts") ? body["scripts"] : json::array({body});
    if (!scripts.is_array()) return JsonReply(400, {{"error", "scripts must be a list"}});
    for (const json& script : scripts) {
      if (!script.is_object() || !script.contains("path") || !script["path"].is_string() || !script.contains("faults") ||
          !script["faults"].is_array()) {
        return JsonReply(400, {{"error", "each script needs a string \"path\" and a list \"faults\""}});
      }
      std::vector<Fault> faults;
      for (const json& spec : script["faults"]) {
        const std::optional<Fault> fault = spec.is_string() ? ParseFault(spec.get<std::string>()) : std::nullopt;
        if (!fault) return JsonReply(400, {{"error", "invalid fault spec: " + spec.dump()}});
        faults.push_back(*fault);
      }
      control.Script(script["path"].get<std::string>(), std::move(faults));
    }
    return JsonReply(200, {{"scripted", true}});
  }
  return JsonReply(404, {{"error", "unknown control endpoint " + request.method + " " + request.path}});
}

// Everything a provider route needs after the common checks.
struct Routed {
  Protocol protocol;
  std::string model;
  std::optional<Fault> fault;
  json body;
};

Reply HandleChat(const Request& request, Routed& routed, const Options& options) {
  ChatInput input;
  input.answer_max_words = options.answer_max_words;
  const json& body = routed.body;
  if (routed.protocol == Protocol::kGemini) {
    if (body.contains("systemInstruction")) {
      input.messages.push_back({"system", TextOfContent(body["systemInstruction"].value("parts", json::array()))});
    }
    for (const json& content : body.value("contents", json::array())) {
      const std::string role = content.value("role", "user") == "model" ? "assistant" : "user";
      input.messages.push_back({role, TextOfContent(content.value("parts", json::array()))});
    }
    const json config = body.value("generationConfig", json::object());
    input.json_format = config.value("responseMimeType", "") == "application/json";
    input.stream = EndsWith(request.path, ":streamGenerateContent");
  } else {
    if (routed.protocol == Protocol::kAnthropic && body.contains("system")) {
      input.messages.push_back({"system", TextOfContent(body["system"])});
    }
    for (const json& message : body.value("messages", json::array())) {
      if (!message.is_object()) continue;
      input.messages.push_back({message.value("role", "user"), TextOfContent(message.value("content", json()))});
    }
    const json format = body.value("response_format", json::object());
    input.json_format = format.is_object() && StartsWith(format.value("type", ""), "json");
    input.stream = body.value("stream", false);
    input.include_usage = body.value("stream_options", json::object()).value("include_usage", false);
  }
  if (input.messages.empty()) {
    return ErrorReply(routed.protocol, 400, "messages must contain at least one message", "invalid_request_error",
                      routed.protocol == Protocol::kGemini ? "INVALID_ARGUMENT" : "invalid_value");
  }
  if (routed.protocol == Protocol::kAnthropic && !body.contains("max_tokens")) {
    return ErrorReply(routed.protocol, 400, "max_tokens: Field required", "invalid_request_error", "");
  }
  const std::size_t words = PromptWords(input.messages);
  if (options.context_words > 0 && words > options.context_words) {
    return ContextLengthReply(routed.protocol, words, options.context_words);
  }
  switch (routed.protocol) {
    case Protocol::kAnthropic: return AnthropicChat(input, routed.model, routed.fault);
    case Protocol::kGemini: return GeminiChat(input, routed.fault);
    case Protocol::kElevenLabs:
    case Protocol::kOpenAi: break;
  }
  return OpenAiChat(input, routed.model, routed.fault);
}

Reply HandleEmbeddings(const Request& request, Routed& routed, const Options& options) {
  const json& body = routed.body;
  const std::size_t dimensions = DimensionsForModel(routed.model);
  const bool malformed = routed.fault && routed.fault->kind == Fault::Kind::kMalformedJson;
  if (malformed) return Reply{.body = R"({"data":[{"embedding":[0.1,0.2)"};

  std::vector<std::string> inputs;
  if (routed.protocol == Protocol::kGemini) {
    if (EndsWith(request.path, ":batchEmbedContents")) {
      for (const json& item : body.value("requests", json::array())) {
        inputs.push_back(TextOfContent(item.value("content", json::object()).value("parts", json::array())));
      }
    } else {
      inputs.push_back(TextOfContent(body.value("content", json::object()).value("parts", json::array())));
    }
  } else {
    const json input = body.value("input", json());
    if (input.is_string()) {
      inputs.push_back(input.get<std::string>());
    } else if (input.is_array() && std::all_of(input.begin(), input.end(), [](const json& item) { return item.is_string(); })) {
      for (const json& item : input) inputs.push_back(item.get<std::string>());
    } else {
      return ErrorReply(routed.protocol, 400, "'input' must be a string or a list of strings", "invalid_request_error",
                        "invalid_value");
    }
  }
  if (inputs.empty()) {
    return ErrorReply(routed.protocol, 400, "'input' must not be empty", "invalid_request_error",
                      routed.protocol == Protocol::kGemini ? "INVALID_ARGUMENT" : "invalid_value");
  }
  if (std::optional<Reply> limit = CheckEmbeddingLimits(routed.protocol, inputs, options)) return *limit;

  const bool empty = routed.fault && routed.fault->kind == Fault::Kind::kEmptyAnswer;
  if (routed.protocol == Protocol::kGemini) {
    if (EndsWith(request.path, ":batchEmbedContents")) {
      json embeddings = json::array();
      for (const std::string& text : inputs) embeddings.push_back({{"values", empty ? json::array() : VectorJson(text, dimensions)}});
      return JsonReply(200, {{"embeddings", embeddings}});
    }
    return JsonReply(200, {{"embedding", {{"values", empty ? json::array() : VectorJson(inputs[0], dimensions)}}}});
  }
  json data = json::array();
  std::size_t words = 0;
  for (std::size_t i = 0; i < inputs.size() && !empty; ++i) {
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", VectorJson(inputs[i], dimensions)}});
    words += CountWords(inputs[i]);
  }
  // Returned in reverse order with explicit indexes, as some servers do, so clients must sort.
  std::reverse(data.begin(), data.end());
  Reply reply = JsonReply(200, {{"object", "list"},
                                {"data", data},
                                {"model", routed.model},
                                {"usage", {{"prompt_tokens", words}, {"total_tokens", words}}}});
  // slow=MS,N: the vectors come after MS×N ms, as from a busy embedding server.
  if (routed.fault && routed.fault->kind == Fault::Kind::kSlow) reply.delay = routed.fault->interval * routed.fault->tokens;
  return reply;
}

Reply HandleSpeech(Routed& routed) {
  const std::string text = routed.body.value("input", "");
  if (text.empty()) return ErrorReply(routed.protocol, 400, "'input' is required", "invalid_request_error", "invalid_value");
  Reply reply;
  reply.content_type = "audio/wav";
  reply.body = MakeWav(text);
  return reply;
}

// ElevenLabs' premade voices, with their public ids.
const std::vector<std::pair<std::string, std::string>>& ElevenLabsVoices() {
  static const std::vector<std::pair<std::string, std::string>> voices = {
      {"21m00Tcm4TlvDq8ikWAM", "Rachel"}, {"pNInz6obpgDQGcFmaJgB", "Adam"},
      {"EXAVITQu4vr4xnSDxMaL", "Bella"},  {"ErXwobaYiN019PkySvjV", "Antoni"}};
  return voices;
}

// Cloud Text-to-Speech voices: the name and its language code.
const std::vector<std::pair<std::string, std::string>>& GoogleVoices() {
  static const std::vector<std::pair<std::string, std::string>> voices = {
      {"en-US-Standard-A", "en-US"}, {"en-US-Standard-B", "en-US"}, {"en-GB-Standard-A", "en-GB"},
      {"de-DE-Standard-A", "de-DE"}, {"cmn-CN-Standard-A", "cmn-CN"}};
  return voices;
}

Reply HandleElevenLabsVoices() {
  json voices = json::array();
  for (const auto& [id, name] : ElevenLabsVoices()) {
    voices.push_back({{"voice_id", id}, {"name", name}, {"category", "premade"}});
  }
  return JsonReply(200, {{"voices", voices}});
}

// POST /v1/text-to-speech/{voice_id}: MP3, as ElevenLabs sends with output_format=mp3_44100_128.
Reply HandleElevenLabsSpeech(const Request& request, Routed& routed) {
  const std::string voice = request.path.substr(std::string_view("/v1/text-to-speech/").size());
  const bool known = std::any_of(ElevenLabsVoices().begin(), ElevenLabsVoices().end(),
                                 [&](const auto& entry) { return entry.first == voice; });
  if (!known) {
    return ErrorReply(routed.protocol, 404, "A voice with the voice_id " + voice + " was not found.", "", "voice_not_found");
  }
  const std::string text = routed.body.value("text", "");
  if (text.empty()) return ErrorReply(routed.protocol, 422, "text: Field required", "", "invalid_text");
  if (routed.fault && routed.fault->kind == Fault::Kind::kEmptyAnswer) return Reply{.content_type = "audio/mpeg"};
  Reply reply;
  reply.content_type = "audio/mpeg";
  reply.body = MakeMp3(text);
  return reply;
}

Reply HandleGoogleVoices() {
  json voices = json::array();
  for (const auto& [name, language] : GoogleVoices()) {
    voices.push_back({{"languageCodes", json::array({language})},
                      {"name", name},
                      {"ssmlGender", "FEMALE"},
                      {"naturalSampleRateHertz", 24000}});
  }
  return JsonReply(200, {{"voices", voices}});
}

// POST /v1/text:synthesize: base64 audioContent, a WAV for LINEAR16 and MP3 for MP3.
Reply HandleGoogleSpeech(Routed& routed) {
  const json& body = routed.body;
  const std::string text = body.value("input", json::object()).value("text", "");
  const json voice = body.value("voice", json::object());
  const std::string name = voice.value("name", "");
  const std::string language = voice.value("languageCode", "");
  const std::string encoding = body.value("audioConfig", json::object()).value("audioEncoding", "");
  if (text.empty()) return ErrorReply(routed.protocol, 400, "Either `input.text` or `input.ssml` is required.", "", "INVALID_ARGUMENT");
  const auto found = std::find_if(GoogleVoices().begin(), GoogleVoices().end(),
                                  [&](const auto& entry) { return entry.first == name; });
  if (found == GoogleVoices().end() || found->second != language) {
    return ErrorReply(routed.protocol, 400,
                      "Voice '" + name + "' does not exist. Is it misspelled?", "", "INVALID_ARGUMENT");
  }
  if (encoding != "LINEAR16" && encoding != "MP3") {
    return ErrorReply(routed.protocol, 400, "Unsupported audio encoding '" + encoding + "'.", "", "INVALID_ARGUMENT");
  }
  if (routed.fault && routed.fault->kind == Fault::Kind::kEmptyAnswer) return JsonReply(200, {{"audioContent", ""}});
  return JsonReply(200, {{"audioContent", ToBase64(encoding == "MP3" ? MakeMp3(text) : MakeWav(text))}});
}

Reply HandleTranscription(const Request& request, Routed& routed) {
  const Result<std::string> boundary = http::MultipartBoundary(request.Header("content-type"));
  if (!boundary.ok()) return ErrorReply(routed.protocol, 400, boundary.status().message(), "invalid_request_error", "");
  const Result<std::vector<http::MultipartPart>> parts = http::ParseMultipart(request.body, *boundary);
  if (!parts.ok()) return ErrorReply(routed.protocol, 400, parts.status().message(), "invalid_request_error", "");
  std::string_view audio;
  std::string format = "json";
  bool has_file = false;
  for (const http::MultipartPart& part : *parts) {
    if (part.name == "file") {
      audio = part.data;
      has_file = true;
    }
    if (part.name == "model") routed.model = SplitModel(part.data).first;
    if (part.name == "response_format") format = std::string(part.data);
  }
  if (!has_file) return ErrorReply(routed.protocol, 400, "the multipart field 'file' is required", "invalid_request_error", "");
  const std::string text = TranscriptOf(audio);
  if (format == "text") {
    Reply reply;
    reply.content_type = "text/plain; charset=utf-8";
    reply.body = text;
    return reply;
  }
  return JsonReply(200, {{"text", text}});
}

}  // namespace

std::string Request::Header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::optional<Fault> ParseFault(std::string_view spec) {
  Fault fault;
  fault.spec = std::string(spec);
  const std::size_t equals = spec.find('=');
  const std::string_view name = spec.substr(0, equals);
  std::vector<int> args;
  if (equals != std::string_view::npos) {
    std::string_view rest = spec.substr(equals + 1);
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const int value = ParseInt(rest.substr(0, comma), -1);
      if (value < 0) return std::nullopt;
      args.push_back(value);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  auto arg = [&](std::size_t index, int fallback) { return index < args.size() ? args[index] : fallback; };

  static const std::map<std::string, int, std::less<>> kStatuses = {
      {"server_error", 500}, {"unavailable", 503}, {"bad_request", 400},
      {"unauthorized", 401}, {"forbidden", 403},   {"model_not_found", 404}};
  if (const auto it = kStatuses.find(name); it != kStatuses.end()) {
    fault.status = it->second;
  } else if (name == "status") {
    fault.status = arg(0, 500);
    if (fault.status < 400 || fault.status > 599) return std::nullopt;
  } else if (name == "rate_limit") {
    fault.kind = Fault::Kind::kRateLimit;
    fault.retry_after_s = arg(0, 1);
  } else if (name == "reset") {
    fault.kind = Fault::Kind::kReset;
  } else if (name == "slow") {
    fault.kind = Fault::Kind::kSlow;
    fault.interval = std::chrono::milliseconds(arg(0, 200));
    fault.tokens = arg(1, 20);
  } else if (name == "stall") {
    fault.kind = Fault::Kind::kStall;
    fault.tokens = arg(0, 1);
    fault.interval = std::chrono::milliseconds(arg(1, 0));
  } else if (name == "cut") {
    fault.kind = Fault::Kind::kCut;
    fault.tokens = arg(0, 1);
  } else if (name == "timeout") {
    fault.kind = Fault::Kind::kTimeout;
  } else if (name == "context_length") {
    fault.kind = Fault::Kind::kContextLength;
  } else if (name == "empty_answer") {
    fault.kind = Fault::Kind::kEmptyAnswer;
  } else if (name == "malformed_json") {
    fault.kind = Fault::Kind::kMalformedJson;
  } else if (name == "empty_body") {
    fault.kind = Fault::Kind::kEmptyBody;
  } else if (name == "every") {
    fault.kind = Fault::Kind::kEvery;
    fault.tokens = arg(0, 0);
    fault.status = arg(1, 503);
    if (fault.tokens < 1 || fault.status < 400 || fault.status > 599) return std::nullopt;
  } else {
    return std::nullopt;
  }
  return fault;
}

void ControlState::Script(const std::string& path, std::vector<Fault> faults) {
  const std::lock_guard lock(mutex_);
  auto& queue = scripts_[path];
  for (Fault& fault : faults) queue.push_back(std::move(fault));
}

std::optional<Fault> ControlState::NextScripted(const std::string& path) {
  const std::lock_guard lock(mutex_);
  for (const std::string& key : {path, std::string("*")}) {
    auto it = scripts_.find(key);
    if (it == scripts_.end() || it->second.empty()) continue;
    Fault fault = std::move(it->second.front());
    it->second.pop_front();
    return fault;
  }
  return std::nullopt;
}

// The messages of an OpenAI or Anthropic chat body as [{"role", "text"}], for the request log.
static json RecordedMessages(const std::string& body) {
  const json parsed = json::parse(body, nullptr, false);
  json messages = json::array();
  if (!parsed.is_object()) return messages;
  if (parsed.contains("system")) messages.push_back({{"role", "system"}, {"text", TextOfContent(parsed["system"])}});
  if (parsed.contains("messages") && parsed["messages"].is_array()) {
    for (const json& message : parsed["messages"]) {
      if (!message.is_object()) continue;
      messages.push_back({{"role", message.value("role", "")},
                          {"text", message.contains("content") ? TextOfContent(message["content"]) : ""}});
    }
  }
  return messages;
}

void ControlState::Record(const Request& request, const std::string& model, const std::string& fault, int status) {
  json entry = {{"method", request.method}, {"path", request.path}, {"model", model}, {"fault", fault}, {"status", status}};
  if (record_messages_ && (EndsWith(request.path, "/chat/completions") || request.path == "/v1/messages")) {
    entry["messages"] = RecordedMessages(request.body);
  }
  const std::lock_guard lock(mutex_);
  ++counts_[request.path];
  constexpr std::size_t kMaxLog = 10000;
  if (log_.size() < kMaxLog) log_.push_back(std::move(entry));
}

nlohmann::json ControlState::Requests() const {
  const std::lock_guard lock(mutex_);
  int total = 0;
  for (const auto& [path, count] : counts_) total += count;
  return {{"total", total}, {"by_path", counts_}, {"log", log_}};
}

void ControlState::Reset() {
  const std::lock_guard lock(mutex_);
  scripts_.clear();
  log_.clear();
  counts_.clear();
  fault_uses_.clear();
}

int ControlState::CountFaultUse(const std::string& key) {
  const std::lock_guard lock(mutex_);
  return ++fault_uses_[key];
}

Reply HandleRequest(const Request& request, const Options& options, ControlState& control) {
  if (StartsWith(request.path, "/control/")) return HandleControl(request, control);

  Routed routed{ProtocolOf(request), "", std::nullopt, json::object()};
  if (request.method == "POST" && !StartsWith(request.Header("content-type"), "multipart/")) {
    routed.body = json::parse(request.body, nullptr, false);
    if (!routed.body.is_object()) {
      Reply reply = ErrorReply(routed.protocol, 400, "The request body is not a JSON object.", "invalid_request_error", "");
      control.Record(request, "", "", reply.status);
      return reply;
    }
  }

  // Gemini names the model in the path ("/v1beta/models/fake-chat:generateContent"); Azure names
  // the deployment ("/openai/deployments/fake-chat/chat/completions").
  std::string raw_model = routed.body.value(routed.protocol == Protocol::kElevenLabs ? "model_id" : "model", "");
  std::string gemini_method;
  if (routed.protocol == Protocol::kGemini && StartsWith(request.path, "/v1beta/models/")) {
    const std::string_view rest = std::string_view(request.path).substr(15);
    const std::size_t colon = rest.rfind(':');
    raw_model = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) gemini_method = std::string(rest.substr(colon + 1));
  }
  if (const std::string deployment = AzureDeployment(request.path); !deployment.empty()) raw_model = deployment;
  auto [model, suffix] = SplitModel(raw_model);
  routed.model = model;

  auto finish = [&](Reply reply, const std::string& fault_spec) {
    control.Record(request, routed.model, fault_spec, reply.reset || reply.never_answer ? 0 : reply.status);
    return reply;
  };

  if (!options.api_key.empty() && request.path != "/api/tags" && ExpectedKeyHeader(routed.protocol, request) != options.api_key) {
    return finish(StatusFaultReply(routed.protocol, 401), "");
  }
  if (StartsWith(request.path, "/openai/") && !request.query.contains("api-version")) {
    return finish(ErrorReply(routed.protocol, 404, "Resource not found: the api-version query parameter is missing",
                             "invalid_request_error", "404"),
                  "");
  }
  if (routed.protocol == Protocol::kAnthropic && request.path == "/v1/messages" &&
      request.Header("anthropic-version").empty()) {
    return finish(ErrorReply(routed.protocol, 400, "anthropic-version: header is required", "invalid_request_error", ""), "");
  }

  FaultChoice choice = ChooseFault(request, suffix, control);
  if (!choice.invalid_spec.empty()) {
    return finish(ErrorReply(routed.protocol, 400, "the fake provider does not know the fault '" + choice.invalid_spec + "'",
                             "invalid_request_error", ""),
                  choice.invalid_spec);
  }
  routed.fault = choice.fault;
  if (routed.fault && routed.fault->kind == Fault::Kind::kEvery) {
    // Counted per path and spelling, so "every=7" on speech requests fails the 7th, 14th, ...
    const int use = control.CountFaultUse(request.path + " " + routed.fault->spec);
    if (use % routed.fault->tokens == 0) {
      return finish(StatusFaultReply(routed.protocol, routed.fault->status), routed.fault->spec);
    }
    routed.fault.reset();
  }
  const std::string fault_spec = routed.fault ? routed.fault->spec : "";
  if (routed.fault) {
    if (std::optional<Reply> reply = FaultReply(routed.protocol, *routed.fault, CountWords(request.body))) {
      return finish(std::move(*reply), fault_spec);
    }
  }

  const std::string& path = request.path;
  if (request.method == "GET" && path == "/v1/voices") {
    return finish(IsGoogleSpeech(request) ? HandleGoogleVoices() : HandleElevenLabsVoices(), fault_spec);
  }
  if (request.method == "POST" && path == "/v1/text:synthesize") return finish(HandleGoogleSpeech(routed), fault_spec);
  if (request.method == "POST" && StartsWith(path, "/v1/text-to-speech/")) {
    return finish(HandleElevenLabsSpeech(request, routed), fault_spec);
  }
  if (request.method == "GET") {
    if (path == "/api/tags") return finish(JsonReply(200, OllamaTags()), fault_spec);
    if (EndsWith(path, "/models")) return finish(JsonReply(200, ModelList(routed.protocol)), fault_spec);
  } else if (request.method == "POST") {
    if (routed.protocol == Protocol::kGemini) {
      if (gemini_method == "generateContent" || gemini_method == "streamGenerateContent") {
        return finish(HandleChat(request, routed, options), fault_spec);
      }
      if (gemini_method == "embedContent" || gemini_method == "batchEmbedContents") {
        return finish(HandleEmbeddings(request, routed, options), fault_spec);
      }
    } else if (path == "/v1/messages") {
      return finish(HandleChat(request, routed, options), fault_spec);
    } else if (EndsWith(path, "/chat/completions")) {
      return finish(HandleChat(request, routed, options), fault_spec);
    } else if (EndsWith(path, "/embeddings")) {
      return finish(HandleEmbeddings(request, routed, options), fault_spec);
    } else if (EndsWith(path, "/audio/speech")) {
      return finish(HandleSpeech(routed), fault_spec);
    } else if (EndsWith(path, "/audio/transcriptions")) {
      return finish(HandleTranscription(request, routed), fault_spec);
    }
  }
  return finish(ErrorReply(routed.protocol, 404, "Unknown endpoint " + request.method + " " + path, "invalid_request_error",
                           routed.protocol == Protocol::kGemini ? "NOT_FOUND" : "unknown_url"),
                fault_spec);
}

}  // namespace on::fake
