// Provider clients against the fake provider (tests/fake_provider), spawned per test on a free port.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include <nlohmann/json.hpp>

#include "ai/models.h"
#include "ai/provider_clients.h"
#include "ai/reasoning.h"
#include "ingest/url_fetcher.h"
#include "support/fake_provider_process.h"
#include "support/http_client.h"

namespace on::ai {
namespace {

using Clock = std::chrono::steady_clock;
using test::FakeProviderProcess;

// Short waits keep the suite fast; the Retry-After test still waits the header's full second.
RetryOptions FastRetries(int max_attempts = 3) {
  RetryOptions retry;
  retry.policy.max_attempts = max_attempts;
  retry.policy.wait_min = std::chrono::milliseconds(10);
  retry.policy.wait_max = std::chrono::milliseconds(50);
  return retry;
}

ProviderConfig Config(const FakeProviderProcess& fake, std::string provider, std::string model,
                      std::string base_path = "") {
  ProviderConfig config;
  config.provider = std::move(provider);
  config.base_url = fake.BaseUrl(base_path);
  config.model = std::move(model);
  config.api_key = "test-key";
  config.api_version = "2024-10-21";
  config.http.idle_timeout = std::chrono::seconds(5);
  config.retry = FastRetries();
  return config;
}

// A retrieval prompt with two sources and a note; only source:apt is about the question.
ChatRequest RetrievalRequest() {
  ChatRequest request;
  request.messages.push_back(
      {"system",
       "You are a research assistant. Cite sources by id.\n\n"
       "[source:apt] Debian installs packages with apt. The apt tool downloads packages from mirrors.\n\n"
       "[source:kernel] The Linux kernel schedules processes and manages memory.\n\n"
       "[note:pasta] Cook pasta in salted boiling water for ten minutes."});
  request.messages.push_back({"user", "How does Debian install packages?"});
  return request;
}

std::unique_ptr<ChatModel> MustChat(const ProviderConfig& config) {
  Result<std::unique_ptr<ChatModel>> chat = MakeChatModel(config);
  EXPECT_TRUE(chat.ok()) << chat.status().ToString();
  return chat.ok() ? std::move(*chat) : nullptr;
}

// Runs the non-streamed and streamed chat of one provider family and checks the citations.
void CheckChatFamily(const ProviderConfig& config) {
  SCOPED_TRACE("provider " + config.provider);
  std::unique_ptr<ChatModel> chat = MustChat(config);
  ASSERT_NE(chat, nullptr);

  const Result<ChatResult> complete = chat->Complete(RetrievalRequest());
  ASSERT_TRUE(complete.ok()) << complete.status().ToString();
  EXPECT_NE(complete->text.find("[source:apt]"), std::string::npos) << complete->text;
  EXPECT_EQ(complete->text.find("note:pasta"), std::string::npos) << complete->text;
  EXPECT_EQ(complete->text.find("source:kernel"), std::string::npos) << complete->text;
  EXPECT_FALSE(complete->finish_reason.empty());

  std::vector<std::string> deltas;
  const Result<ChatResult> streamed =
      chat->Stream(RetrievalRequest(), [&](std::string_view delta) { deltas.emplace_back(delta); });
  ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
  EXPECT_GT(deltas.size(), 3u);
  std::string joined;
  for (const std::string& delta : deltas) joined += delta;
  EXPECT_EQ(joined, streamed->text);
  EXPECT_EQ(streamed->text, complete->text);
  EXPECT_FALSE(streamed->finish_reason.empty());
}

TEST(AiProviders, OpenAiCompatibleChat) {
  FakeProviderProcess fake({"--api-key", "test-key"});
  CheckChatFamily(Config(fake, "openai_compatible", "fake-chat"));      // base URL without /v1
  CheckChatFamily(Config(fake, "openai_compatible", "fake-chat", "/v1/"));  // with /v1
}

TEST(AiProviders, OllamaAndAzureChat) {
  FakeProviderProcess fake({"--api-key", "test-key"});
  ProviderConfig ollama = Config(fake, "ollama", "fake-chat");
  ollama.api_key.clear();
  FakeProviderProcess open_fake;  // Ollama sends no key, so it talks to a fake without one
  ollama.base_url = open_fake.BaseUrl();
  CheckChatFamily(ollama);
  CheckChatFamily(Config(fake, "azure", "fake-chat"));
}

TEST(AiProviders, AnthropicChat) {
  FakeProviderProcess fake({"--api-key", "test-key"});
  CheckChatFamily(Config(fake, "anthropic_compatible", "fake-chat"));
}

TEST(AiProviders, GeminiChat) {
  FakeProviderProcess fake({"--api-key", "test-key"});
  CheckChatFamily(Config(fake, "google", "fake-chat"));
}

TEST(AiProviders, StrategyJsonAnswer) {
  FakeProviderProcess fake;
  for (const char* provider : {"openai_compatible", "anthropic_compatible", "google"}) {
    SCOPED_TRACE(provider);
    std::unique_ptr<ChatModel> chat = MustChat(Config(fake, provider, "fake-chat"));
    ChatRequest request;
    request.messages.push_back({"system", "Plan up to five searches. Answer with a JSON object with reasoning and searches."});
    request.messages.push_back({"user", "Which mirrors does apt download packages from?"});
    request.json_object = true;
    const Result<ChatResult> answer = chat->Complete(request);
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    const nlohmann::json strategy = nlohmann::json::parse(answer->text, nullptr, false);
    ASSERT_TRUE(strategy.is_object()) << answer->text;
    EXPECT_TRUE(strategy["reasoning"].is_string());
    ASSERT_TRUE(strategy["searches"].is_array());
    ASSERT_FALSE(strategy["searches"].empty());
    const std::string term = strategy["searches"][0]["term"];
    EXPECT_NE(term.find("mirrors"), std::string::npos) << term;
    EXPECT_NE(term.find("apt"), std::string::npos) << term;
    EXPECT_TRUE(strategy["searches"][0]["instructions"].is_string());
  }
}

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0;
  for (std::size_t i = 0; i < a.size(); ++i) dot += static_cast<double>(a[i]) * b[i];
  return dot;
}

TEST(AiProviders, EmbeddingsDeterministicAndSimilar) {
  FakeProviderProcess fake({"--api-key", "test-key"});
  for (const auto& [provider, model, dimensions] :
       {std::tuple{"openai_compatible", "fake-embed-384", 384u}, std::tuple{"azure", "fake-embed-768", 768u},
        std::tuple{"google", "fake-embed-768", 768u}}) {
    SCOPED_TRACE(provider);
    Result<std::unique_ptr<EmbeddingModel>> model_or = MakeEmbeddingModel(Config(fake, provider, model));
    ASSERT_TRUE(model_or.ok()) << model_or.status().ToString();
    EmbeddingModel& embedder = **model_or;
    const std::vector<std::string> texts = {"Debian installs packages with apt",
                                            "apt installs Debian packages quickly",
                                            "Cook pasta in boiling water"};
    const auto first = embedder.Embed(texts);
    const auto second = embedder.Embed({texts[0]});
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    ASSERT_EQ(first->size(), 3u);
    EXPECT_EQ((*first)[0].size(), dimensions);
    EXPECT_EQ((*first)[0], (*second)[0]);  // deterministic, and the order of the batch is kept
    EXPECT_NEAR(Cosine((*first)[0], (*first)[0]), 1.0, 1e-5);
    EXPECT_GT(Cosine((*first)[0], (*first)[1]), 0.5);
    EXPECT_LT(Cosine((*first)[0], (*first)[2]), 0.3);
  }
}

TEST(AiProviders, ListModelsEachFamily) {
  FakeProviderProcess fake({"--api-key", "test-key"});
  for (const char* provider : {"openai_compatible", "anthropic_compatible", "google", "azure", "ollama"}) {
    SCOPED_TRACE(provider);
    const Result<std::vector<ModelInfo>> models = ListModels(Config(fake, provider, ""));
    ASSERT_TRUE(models.ok()) << models.status().ToString();
    ASSERT_FALSE(models->empty());
    const std::string expected = std::string(provider) == "ollama" ? "fake-chat:latest" : "fake-chat";
    EXPECT_TRUE(std::any_of(models->begin(), models->end(), [&](const ModelInfo& m) { return m.id == expected; }));
  }
}

TEST(AiProviders, SpeechRoundTrip) {
  FakeProviderProcess fake({"--api-key", "test-key"});
  auto speech = MakeTextToSpeechModel(Config(fake, "openai_compatible", "fake-tts"));
  auto transcription = MakeSpeechToTextModel(Config(fake, "openai_compatible", "fake-stt"));
  ASSERT_TRUE(speech.ok()) << speech.status().ToString();
  ASSERT_TRUE(transcription.ok()) << transcription.status().ToString();
  const Result<SpeechAudio> audio = (*speech)->Synthesize("Hello from Open Notebook", "alloy", "wav");
  ASSERT_TRUE(audio.ok()) << audio.status().ToString();
  EXPECT_EQ(audio->bytes.substr(0, 4), "RIFF");
  EXPECT_EQ(audio->bytes.substr(8, 4), "WAVE");
  EXPECT_EQ(audio->content_type, "audio/wav");
  const Result<std::string> text = (*transcription)->Transcribe(audio->bytes, "hello.wav");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "Hello from Open Notebook");
}

TEST(AiProviders, ElevenLabsSpeechIsMp3) {
  FakeProviderProcess fake({"--api-key", "test-key"});
  auto speech = MakeTextToSpeechModel(Config(fake, "elevenlabs", "eleven_multilingual_v2", "/v1"));
  ASSERT_TRUE(speech.ok()) << speech.status().ToString();

  const auto voices = (*speech)->ListVoices();
  ASSERT_TRUE(voices.ok()) << voices.status().ToString();
  ASSERT_TRUE(voices->has_value());
  const auto rachel = std::find_if((*voices)->begin(), (*voices)->end(), [](const VoiceInfo& v) { return v.name == "Rachel"; });
  ASSERT_NE(rachel, (*voices)->end());
  EXPECT_EQ(rachel->id, "21m00Tcm4TlvDq8ikWAM");

  const Result<SpeechAudio> audio = (*speech)->Synthesize("Hello from Open Notebook", rachel->id, "wav");
  ASSERT_TRUE(audio.ok()) << audio.status().ToString();
  EXPECT_EQ(audio->content_type, "audio/mpeg");
  EXPECT_NE(audio->bytes.substr(0, 4), "RIFF");
  EXPECT_GT(audio->bytes.size(), 100u);
  EXPECT_EQ(fake.RequestCount("/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM"), 1);

  const auto models = ListModels(Config(fake, "elevenlabs", ""));
  ASSERT_TRUE(models.ok()) << models.status().ToString();
  EXPECT_TRUE(std::any_of(models->begin(), models->end(), [](const ModelInfo& m) { return m.id == "fake-tts"; }));
}

TEST(AiProviders, ElevenLabsErrorDetailInMessage) {
  FakeProviderProcess fake({"--api-key", "test-key"});
  auto speech = MakeTextToSpeechModel(Config(fake, "elevenlabs", "eleven_multilingual_v2"));
  ASSERT_TRUE(speech.ok()) << speech.status().ToString();
  const Result<SpeechAudio> unknown = (*speech)->Synthesize("Hello", "NoSuchVoiceId", "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kConfiguration) << unknown.status().ToString();
  EXPECT_NE(unknown.status().message().find("ElevenLabs"), std::string::npos) << unknown.status().ToString();
  EXPECT_NE(unknown.status().message().find("voice_id NoSuchVoiceId was not found"), std::string::npos)
      << unknown.status().ToString();

  ProviderConfig wrong_key = Config(fake, "elevenlabs", "eleven_multilingual_v2");
  wrong_key.api_key = "wrong";
  const auto voices = (*MakeTextToSpeechModel(wrong_key))->ListVoices();
  ASSERT_FALSE(voices.ok());
  EXPECT_EQ(voices.status().code(), ErrorCode::kConfiguration);
  EXPECT_NE(voices.status().message().find("Incorrect API key"), std::string::npos) << voices.status().ToString();
}

TEST(AiProviders, GoogleSpeechIsWav) {
  FakeProviderProcess fake({"--api-key", "test-key"});
  // A Gemini-style base URL with a version still reaches the speech API at the same host.
  auto speech = MakeTextToSpeechModel(Config(fake, "google", "cloud-tts", "/v1beta"));
  ASSERT_TRUE(speech.ok()) << speech.status().ToString();

  const auto voices = (*speech)->ListVoices();
  ASSERT_TRUE(voices.ok()) << voices.status().ToString();
  ASSERT_TRUE(voices->has_value());
  ASSERT_FALSE((*voices)->empty());
  EXPECT_EQ((*voices)->front().id, "en-US-Standard-A");
  EXPECT_EQ((*voices)->front().language_codes, std::vector<std::string>{"en-US"});

  const Result<SpeechAudio> wav = (*speech)->Synthesize("Hello from Open Notebook", "en-GB-Standard-A", "wav");
  ASSERT_TRUE(wav.ok()) << wav.status().ToString();
  EXPECT_EQ(wav->bytes.substr(0, 4), "RIFF");
  const Result<SpeechAudio> mp3 = (*speech)->Synthesize("Hello from Open Notebook", "en-GB-Standard-A", "mp3");
  ASSERT_TRUE(mp3.ok()) << mp3.status().ToString();
  EXPECT_EQ(mp3->content_type, "audio/mpeg");
  EXPECT_NE(mp3->bytes.substr(0, 4), "RIFF");
  EXPECT_EQ(fake.RequestCount("/v1/text:synthesize"), 2);
}

TEST(AiProviders, GoogleSpeechErrors) {
  FakeProviderProcess fake({"--api-key", "test-key"});
  auto speech = MakeTextToSpeechModel(Config(fake, "google", "cloud-tts"));
  ASSERT_TRUE(speech.ok()) << speech.status().ToString();

  const Result<SpeechAudio> unknown = (*speech)->Synthesize("Hello", "en-US-Nobody-Z", "wav");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kProviderRejected) << unknown.status().ToString();
  EXPECT_NE(unknown.status().message().find("Voice 'en-US-Nobody-Z' does not exist"), std::string::npos)
      << unknown.status().ToString();

  const Result<SpeechAudio> malformed = (*speech)->Synthesize("Hello", "Kore", "wav");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.status().code(), ErrorCode::kInvalidInput) << malformed.status().ToString();

  fake.Script("/v1/text:synthesize", {"empty_answer"});
  const Result<SpeechAudio> empty = (*speech)->Synthesize("Hello", "en-US-Standard-A", "wav");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), ErrorCode::kUpstream);
  EXPECT_NE(empty.status().message().find("without audioContent"), std::string::npos) << empty.status().ToString();

  // A transient 503 is retried by the HTTP layer.
  fake.Script("/v1/text:synthesize", {"unavailable"});
  const Result<SpeechAudio> retried = (*speech)->Synthesize("Hello", "en-US-Standard-A", "wav");
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
}

TEST(AiProviders, GoogleSpeechBaseUrlDefault) {
  ProviderConfig config;
  config.provider = "google";
  EXPECT_EQ(*internal::GoogleSpeechBaseUrl(config), "https://texttospeech.googleapis.com");
  config.base_url = "https://texttospeech.googleapis.com/v1/";
  EXPECT_EQ(*internal::GoogleSpeechBaseUrl(config), "https://texttospeech.googleapis.com");
  config.base_url = "ftp://example.com";
  EXPECT_EQ(internal::GoogleSpeechBaseUrl(config).status().code(), ErrorCode::kConfiguration);
}

TEST(AiProviders, RetryAfterHonoured) {
  FakeProviderProcess fake;
  fake.Script("/v1/chat/completions", {"rate_limit=1"});
  auto chat = MustChat(Config(fake, "openai_compatible", "fake-chat"));
  const auto start = Clock::now();
  const Result<ChatResult> answer = chat->Complete(RetrievalRequest());
  const auto elapsed = Clock::now() - start;
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_GE(elapsed, std::chrono::seconds(1));  // the policy alone would wait at most 50 ms
  EXPECT_EQ(fake.RequestCount("/v1/chat/completions"), 2);
}

TEST(AiProviders, RetryAfterAboveLimitFailsAtOnce) {
  FakeProviderProcess fake;
  fake.Script("/v1/chat/completions", {"rate_limit=600"});
  ProviderConfig config = Config(fake, "openai_compatible", "fake-chat");
  config.retry.max_retry_after = std::chrono::seconds(30);
  const Result<ChatResult> answer = MustChat(config)->Complete(RetrievalRequest());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), ErrorCode::kRateLimited);
  EXPECT_NE(answer.status().message().find("600 s"), std::string::npos) << answer.status().message();
  EXPECT_EQ(fake.RequestCount("/v1/chat/completions"), 1);
}

TEST(AiProviders, ThreeTransientFailuresThenSuccess) {
  FakeProviderProcess fake;
  fake.Script("/v1/chat/completions", {"server_error", "unavailable", "status=502"});
  ProviderConfig config = Config(fake, "openai_compatible", "fake-chat");
  config.retry = FastRetries(4);
  const Result<ChatResult> answer = MustChat(config)->Stream(RetrievalRequest(), {});
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_NE(answer->text.find("[source:apt]"), std::string::npos);
  EXPECT_EQ(fake.RequestCount("/v1/chat/completions"), 4);
}

TEST(AiProviders, TransientFailuresExhaustAttempts) {
  FakeProviderProcess fake;
  fake.Script("/v1/chat/completions", {"server_error", "server_error", "server_error"});
  const Result<ChatResult> answer = MustChat(Config(fake, "openai_compatible", "fake-chat"))->Complete(RetrievalRequest());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), ErrorCode::kUpstream);
  EXPECT_NE(answer.status().message().find("HTTP 500"), std::string::npos) << answer.status().message();
  EXPECT_EQ(fake.RequestCount("/v1/chat/completions"), 3);
}

TEST(AiProviders, PermanentBadRequestFailsOnce) {
  FakeProviderProcess fake;
  fake.Script("/v1/chat/completions", {"bad_request"});
  const Result<ChatResult> answer = MustChat(Config(fake, "openai_compatible", "fake-chat"))->Complete(RetrievalRequest());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), ErrorCode::kProviderRejected);
  EXPECT_NE(answer.status().message().find("told to reject"), std::string::npos) << answer.status().message();
  EXPECT_EQ(fake.RequestCount("/v1/chat/completions"), 1);
}

TEST(AiProviders, ConnectionResetRetried) {
  FakeProviderProcess fake;
  fake.Script("/v1/embeddings", {"reset", "reset"});
  auto embedder = MakeEmbeddingModel(Config(fake, "openai_compatible", "fake-embed-384"));
  ASSERT_TRUE(embedder.ok());
  const auto vectors = (*embedder)->Embed({"a text"});
  ASSERT_TRUE(vectors.ok()) << vectors.status().ToString();
  EXPECT_EQ(fake.RequestCount("/v1/embeddings"), 3);
}

TEST(AiProviders, BrokenStreamNotRetried) {
  FakeProviderProcess fake;
  std::string received;
  const Result<ChatResult> answer = MustChat(Config(fake, "openai_compatible", "fake-chat~cut=4"))
                                        ->Stream(RetrievalRequest(), [&](std::string_view delta) { received += delta; });
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), ErrorCode::kUpstream);
  EXPECT_NE(answer.status().message().find("stream broke"), std::string::npos) << answer.status().message();
  EXPECT_FALSE(received.empty());  // the caller keeps the text that arrived
  EXPECT_EQ(fake.RequestCount("/v1/chat/completions"), 1);
}

TEST(AiProviders, SlowStreamWithinIdleTimeout) {
  FakeProviderProcess fake;
  ProviderConfig config = Config(fake, "openai_compatible", "fake-chat~slow=200,20");
  config.http.idle_timeout = std::chrono::seconds(1);
  int deltas = 0;
  const auto start = Clock::now();
  const Result<ChatResult> answer = MustChat(config)->Stream(RetrievalRequest(), [&](std::string_view) { ++deltas; });
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(deltas, 20);
  EXPECT_GE(Clock::now() - start, std::chrono::seconds(4));  // 20 tokens, 200 ms apart: longer than the idle limit
}

// One token every 2 s for 60 s with a 5 s idle time-out. Disabled for a plain gtest run; ctest runs
// it under the label "slow" (tests/CMakeLists.txt), which `make test` includes.
TEST(AiProvidersSlow, DISABLED_MinuteLongStreamCompletes) {
  FakeProviderProcess fake;
  ProviderConfig config = Config(fake, "openai_compatible", "fake-chat~slow=2000,30");
  config.http.idle_timeout = std::chrono::seconds(5);
  int deltas = 0;
  const Result<ChatResult> answer = MustChat(config)->Stream(RetrievalRequest(), [&](std::string_view) { ++deltas; });
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(deltas, 30);
}

TEST(AiProviders, IdleTimeoutWhenNoAnswer) {
  FakeProviderProcess fake;
  ProviderConfig config = Config(fake, "openai_compatible", "fake-chat~timeout");
  config.http.idle_timeout = std::chrono::seconds(1);
  const auto start = Clock::now();
  const Result<ChatResult> answer = MustChat(config)->Complete(RetrievalRequest());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), ErrorCode::kTimeout);
  EXPECT_NE(answer.status().message().find("idle time-out"), std::string::npos) << answer.status().message();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(fake.RequestCount("/v1/chat/completions"), 1);  // not retried
}

TEST(AiProviders, IdleTimeoutWhenStreamStalls) {
  FakeProviderProcess fake;
  ProviderConfig config = Config(fake, "anthropic_compatible", "fake-chat~stall=4");
  config.http.idle_timeout = std::chrono::seconds(1);
  const Result<ChatResult> answer = MustChat(config)->Stream(RetrievalRequest(), {});
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), ErrorCode::kTimeout);
}

TEST(AiProviders, ContextLengthIsOwnKind) {
  FakeProviderProcess fake;
  for (const char* provider : {"openai_compatible", "anthropic_compatible", "google"}) {
    SCOPED_TRACE(provider);
    fake.Reset();
    const Result<ChatResult> answer =
        MustChat(Config(fake, provider, "fake-chat~context_length"))->Complete(RetrievalRequest());
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.status().code(), ErrorCode::kContextLengthExceeded) << answer.status().ToString();
    EXPECT_EQ(fake.Requests()["total"], 1);
  }
}

TEST(AiProviders, EmbeddingInputTooLongIsContextLength) {
  FakeProviderProcess fake({"--embed-max-words", "5"});
  auto embedder = MakeEmbeddingModel(Config(fake, "openai_compatible", "fake-embed-384"));
  ASSERT_TRUE(embedder.ok());
  const auto vectors = (*embedder)->Embed({"short", "one two three four five six seven"});
  ASSERT_FALSE(vectors.ok());
  EXPECT_EQ(vectors.status().code(), ErrorCode::kContextLengthExceeded);
  EXPECT_EQ(fake.RequestCount("/v1/embeddings"), 1);
}

TEST(AiProviders, MalformedJsonIsClearError) {
  FakeProviderProcess fake;
  auto chat = MustChat(Config(fake, "openai_compatible", "fake-chat~malformed_json"));
  const Result<ChatResult> complete = chat->Complete(RetrievalRequest());
  ASSERT_FALSE(complete.ok());
  EXPECT_EQ(complete.status().code(), ErrorCode::kUpstream);
  EXPECT_NE(complete.status().message().find("malformed JSON"), std::string::npos) << complete.status().message();
  const Result<ChatResult> streamed = chat->Stream(RetrievalRequest(), {});
  ASSERT_FALSE(streamed.ok());
  EXPECT_NE(streamed.status().message().find("malformed stream event"), std::string::npos) << streamed.status().message();
}

TEST(AiProviders, EmptyBodyIsClearError) {
  FakeProviderProcess fake;
  for (const char* provider : {"openai_compatible", "anthropic_compatible", "google"}) {
    SCOPED_TRACE(provider);
    auto chat = MustChat(Config(fake, provider, "fake-chat~empty_body"));
    for (const bool stream : {false, true}) {
      const Result<ChatResult> answer =
          stream ? chat->Stream(RetrievalRequest(), {}) : chat->Complete(RetrievalRequest());
      ASSERT_FALSE(answer.ok());
      EXPECT_EQ(answer.status().code(), ErrorCode::kUpstream);
      EXPECT_NE(answer.status().message().find("empty response"), std::string::npos) << answer.status().message();
    }
  }
}

TEST(AiProviders, EmptyAnswerIsClearError) {
  FakeProviderProcess fake;
  auto chat = MustChat(Config(fake, "openai_compatible", "fake-chat~empty_answer"));
  for (const bool stream : {false, true}) {
    const Result<ChatResult> answer = stream ? chat->Stream(RetrievalRequest(), {}) : chat->Complete(RetrievalRequest());
    ASSERT_FALSE(answer.ok());
    EXPECT_NE(answer.status().message().find("empty answer"), std::string::npos) << answer.status().message();
  }
}

TEST(AiProviders, CancellationStopsStream) {
  FakeProviderProcess fake;
  ProviderConfig config = Config(fake, "openai_compatible", "fake-chat~slow=200,50");
  auto chat = MustChat(config);
  CancelToken cancel;
  int deltas = 0;
  const auto start = Clock::now();
  const Result<ChatResult> answer = chat->Stream(
      RetrievalRequest(),
      [&](std::string_view) {
        if (++deltas == 3) cancel.Cancel();
      },
      cancel);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), ErrorCode::kCancelled);
  EXPECT_LT(deltas, 50);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));  // the whole stream takes 10 s
}

TEST(AiProviders, CancellationFromOtherThread) {
  FakeProviderProcess fake;
  auto chat = MustChat(Config(fake, "anthropic_compatible", "fake-chat~timeout"));
  CancelToken cancel;
  std::thread canceller([cancel] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel.Cancel();
  });
  const Result<ChatResult> answer = chat->Stream(RetrievalRequest(), {}, cancel);
  canceller.join();
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), ErrorCode::kCancelled);
}

TEST(AiProviders, WrongApiKeyRejected) {
  FakeProviderProcess fake({"--api-key", "right-key"});
  ProviderConfig config = Config(fake, "openai_compatible", "fake-chat");
  config.api_key = "wrong-key";
  const Result<ChatResult> answer = MustChat(config)->Complete(RetrievalRequest());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), ErrorCode::kConfiguration);
  EXPECT_NE(answer.status().message().find("HTTP 401"), std::string::npos) << answer.status().message();
  EXPECT_EQ(TestConnection(config).message, "Invalid API key");
  config.api_key = "right-key";
  const ConnectionTestResult ok = TestConnection(config);
  EXPECT_TRUE(ok.success);
  EXPECT_EQ(ok.message, "Connection successful");
}

TEST(AiProviders, ConnectionTestClassification) {
  FakeProviderProcess fake;
  const auto test_with = [&](const std::string& provider, const std::string& model) {
    return TestConnection(Config(fake, provider, model));
  };
  // "openai" and "anthropic" test with a chat call, as the reference does.
  EXPECT_EQ(test_with("openai", "fake-chat").message, "Connection successful");
  EXPECT_EQ(test_with("openai", "fake-chat~rate_limit=1").message, "Rate limited - but connection works");
  EXPECT_TRUE(test_with("openai", "fake-chat~rate_limit=1").success);
  EXPECT_EQ(test_with("anthropic", "fake-chat~model_not_found").message, "API key valid (test model unavailable)");
  EXPECT_EQ(test_with("openai", "fake-chat~forbidden").message, "API key lacks required permissions");
  EXPECT_EQ(test_with("openai", "fake-chat~server_error").message.rfind("Error: ", 0), 0u);
  EXPECT_FALSE(test_with("openai", "fake-chat~server_error").success);
  // Ollama and Azure test by listing models.
  EXPECT_EQ(test_with("ollama", "").message, "Connection successful");
  EXPECT_EQ(test_with("azure", "fake-chat").message, "Connection successful");
}

TEST(AiProviders, ConnectionRefusedIsUpstreamError) {
  ProviderConfig config;
  {
    FakeProviderProcess fake;
    config = Config(fake, "openai_compatible", "fake-chat");
  }  // the fake is gone, so its port refuses connections
  config.retry = FastRetries(2);
  const Result<ChatResult> answer = MustChat(config)->Complete(RetrievalRequest());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), ErrorCode::kUpstream);
  EXPECT_FALSE(TestConnection(config).success);
}

// The host name exists only in the test's resolver table, so a successful response proves that the
// request went to the address the client resolved and checked itself.
TEST(AiProviders, HostPinnedToCheckedAddress) {
  FakeProviderProcess fake;
  ingest::StaticHostResolver resolver;
  resolver.SetAnswers("models.provider.test", {{"127.0.0.1"}});
  ProviderConfig config = Config(fake, "openai_compatible", "fake-chat");
  config.base_url = "http://models.provider.test:" + std::to_string(fake.port());
  config.http.resolver = &resolver;

  const Result<ChatResult> answer = MustChat(config)->Complete(RetrievalRequest());
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(fake.RequestCount("/v1/chat/completions"), 1);
  EXPECT_EQ(resolver.ResolveCount("models.provider.test"), 1);
}

// A host that passed once and then resolves to the cloud metadata address (DNS rebinding) is
// refused on the next call, before any connection: the check runs on every request.
TEST(AiProviders, RebindingToMetadataRefused) {
  FakeProviderProcess fake;
  ingest::StaticHostResolver resolver;
  resolver.SetAnswers("models.provider.test", {{"127.0.0.1"}, {"127.0.0.1", "169.254.169.254"}});
  ProviderConfig config = Config(fake, "openai_compatible", "fake-chat");
  config.base_url = "http://models.provider.test:" + std::to_string(fake.port());
  config.http.resolver = &resolver;
  std::unique_ptr<ChatModel> chat = MustChat(config);

  ASSERT_TRUE(chat->Complete(RetrievalRequest()).ok());
  const Result<ChatResult> rebound = chat->Complete(RetrievalRequest());
  ASSERT_FALSE(rebound.ok());
  EXPECT_EQ(rebound.status().code(), ErrorCode::kForbidden);
  EXPECT_NE(rebound.status().message().find("169.254.169.254"), std::string::npos) << rebound.status().message();
  EXPECT_EQ(fake.RequestCount("/v1/chat/completions"), 1);
}

TEST(AiProviders, MetadataHostNameRefused) {
  FakeProviderProcess fake;
  ingest::StaticHostResolver resolver;
  resolver.SetAnswers("metadata.google.internal", {{"127.0.0.1"}});
  ProviderConfig config = Config(fake, "openai_compatible", "fake-chat");
  config.base_url = "http://metadata.google.internal:" + std::to_string(fake.port());
  config.http.resolver = &resolver;

  const Result<ChatResult> answer = MustChat(config)->Complete(RetrievalRequest());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(resolver.ResolveCount("metadata.google.internal"), 0);
  EXPECT_EQ(fake.RequestCount("/v1/chat/completions"), 0);
}

TEST(AiProviders, ReasoningStrippedFromAnswer) {
  FakeProviderProcess fake;
  ChatRequest request;
  request.messages.push_back({"user", "<think>ignore</think> echo this"});
  const Result<ChatResult> answer = MustChat(Config(fake, "openai_compatible", "fake-chat"))->Complete(request);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_NE(answer->text.find("<think>"), std::string::npos);  // the fake echoes the question
  EXPECT_EQ(StripReasoning(answer->text).find("<think>"), std::string::npos);
}

}  // namespace
}  // namespace on::ai

namespace on::test {
namespace {

// The fake's own control surface, driven with a plain HTTP client.
TEST(FakeProvider, HeaderFaultScriptAndReset) {
  FakeProviderProcess fake;
  const HttpClient client(fake.port());
  const std::string body = R"({"model":"fake-chat","messages":[{"role":"user","content":"hi"}]})";
  const std::vector<std::pair<std::string, std::string>> json_type = {{"Content-Type", "application/json"}};

  std::vector<std::pair<std::string, std::string>> with_fault = json_type;
  with_fault.emplace_back("X-Fake-Fault", "unavailable");
  EXPECT_EQ(client.Send("POST", "/v1/chat/completions", body, with_fault).status, 503);

  with_fault.back().second = "no_such_fault";
  EXPECT_EQ(client.Send("POST", "/v1/chat/completions", body, with_fault).status, 400);

  fake.Script("*", {"rate_limit=7"});
  const HttpResult limited = client.Send("POST", "/v1/embeddings", R"({"model":"fake-embed-384","input":"x"})", json_type);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.Header("retry-after"), "7");
  EXPECT_EQ(client.Send("POST", "/v1/embeddings", R"({"model":"fake-embed-384","input":"x"})", json_type).status, 200);

  const nlohmann::json requests = fake.Requests();
  EXPECT_EQ(requests["total"], 4);
  EXPECT_EQ(requests["by_path"]["/v1/embeddings"], 2);
  ASSERT_EQ(requests["log"].size(), 4u);
  EXPECT_EQ(requests["log"][2]["fault"], "rate_limit=7");
  EXPECT_EQ(requests["log"][2]["status"], 429);

  fake.Reset();
  EXPECT_EQ(fake.Requests()["total"], 0);
}

TEST(FakeProvider, ChatContextLimit) {
  FakeProviderProcess fake({"--context-words", "3"});
  const HttpResult result =
      HttpClient(fake.port())
          .Send("POST", "/v1/chat/completions",
                R"({"model":"fake-chat","messages":[{"role":"user","content":"one two three four"}]})",
                {{"Content-Type", "application/json"}});
  EXPECT_EQ(result.status, 400);
  EXPECT_EQ(result.Json()["error"]["code"], "context_length_exceeded");
}

}  // namespace
}  // namespace on::test
