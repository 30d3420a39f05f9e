// Pure functions of src/ai: URL resolution, error classification, reasoning removal. The
// transfers themselves are tested against the fake provider in tests/integration.
#include <gtest/gtest.h>

#include "ai/http_client.h"
#include "ai/models.h"
#include "ai/reasoning.h"
#include "core/retry_policy.h"
#include "http/error_mapping.h"

namespace on::ai {
namespace {

std::string Resolve(std::string provider, std::string base_url) {
  ProviderConfig config;
  config.provider = std::move(provider);
  config.base_url = std::move(base_url);
  Result<std::string> url = ResolveBaseUrl(config);
  return url.ok() ? *url : "error: " + url.status().message();
}

TEST(ResolveBaseUrl, AddsVersionOnlyWhenMissing) {
  EXPECT_EQ(Resolve("openai_compatible", "http://127.0.0.1:1234"), "http://127.0.0.1:1234/v1");
  EXPECT_EQ(Resolve("openai_compatible", "http://127.0.0.1:1234/"), "http://127.0.0.1:1234/v1");
  EXPECT_EQ(Resolve("openai_compatible", "http://127.0.0.1:1234/v1/"), "http://127.0.0.1:1234/v1");
  EXPECT_EQ(Resolve("openai_compatible", "https://api.example.com/openai/v1"), "https://api.example.com/openai/v1");
  EXPECT_EQ(Resolve("openai_compatible", "https://api.example.com/v3"), "https://api.example.com/v3");
  EXPECT_EQ(Resolve("ollama", "http://localhost:11434"), "http://localhost:11434/v1");
  EXPECT_EQ(Resolve("ollama", ""), "http://localhost:11434/v1");
  EXPECT_EQ(Resolve("anthropic_compatible", "http://127.0.0.1:9"), "http://127.0.0.1:9/v1");
  EXPECT_EQ(Resolve("google", "http://127.0.0.1:9"), "http://127.0.0.1:9/v1beta");
  EXPECT_EQ(Resolve("azure", "https://x.openai.azure.com/openai/"), "https://x.openai.azure.com");
  EXPECT_EQ(Resolve("openai", ""), "https://api.openai.com/v1");
}

TEST(ResolveBaseUrl, ElevenLabsDropsVersion) {
  EXPECT_EQ(Resolve("elevenlabs", ""), "https://api.elevenlabs.io");
  EXPECT_EQ(Resolve("elevenlabs", "https://api.elevenlabs.io/v1/"), "https://api.elevenlabs.io");
  EXPECT_EQ(Resolve("elevenlabs", "http://127.0.0.1:9"), "http://127.0.0.1:9");
  EXPECT_EQ(*FamilyOf("elevenlabs"), ApiFamily::kElevenLabs);
  EXPECT_EQ(MakeChatModel({.provider = "elevenlabs", .model = "eleven_multilingual_v2"}).status().code(),
            ErrorCode::kConfiguration);
}

TEST(ProviderReason, ReadsElevenLabsDetail) {
  EXPECT_EQ(ProviderReason(R"({"detail":{"status":"voice_not_found","message":"A voice was not found."}})"),
            "A voice was not found.");
  EXPECT_EQ(ProviderReason(R"({"detail":"Not authenticated"})"), "Not authenticated");
}

TEST(ResolveBaseUrl, RejectsMissingAndInvalidUrls) {
  EXPECT_NE(Resolve("openai_compatible", "").find("needs a base URL"), std::string::npos);
  EXPECT_NE(Resolve("azure", "").find("needs a base URL"), std::string::npos);
  EXPECT_NE(Resolve("openai_compatible", "ftp://host").find("must start with http"), std::string::npos);
}

TEST(FamilyOf, UnknownProviderIsConfigurationError) {
  const Result<ApiFamily> family = FamilyOf("no-such-provider");
  ASSERT_FALSE(family.ok());
  EXPECT_EQ(family.status().code(), ErrorCode::kConfiguration);
  EXPECT_NE(family.status().message().find("no-such-provider"), std::string::npos);
  EXPECT_EQ(*FamilyOf("groq"), ApiFamily::kOpenAiCompatible);
  EXPECT_EQ(*FamilyOf("anthropic"), ApiFamily::kAnthropic);
  EXPECT_EQ(*FamilyOf("google"), ApiFamily::kGemini);
  EXPECT_EQ(*FamilyOf("azure"), ApiFamily::kAzureOpenAi);
  EXPECT_EQ(*FamilyOf("ollama"), ApiFamily::kOllama);
}

TEST(MakeChatModel, RequiresModelName) {
  ProviderConfig config;
  config.provider = "openai";
  const auto chat = MakeChatModel(config);
  ASSERT_FALSE(chat.ok());
  EXPECT_EQ(chat.status().code(), ErrorCode::kConfiguration);
}

TEST(MakeEmbeddingModel, AnthropicHasNoEmbeddings) {
  ProviderConfig config;
  config.provider = "anthropic";
  config.model = "claude";
  const auto model = MakeEmbeddingModel(config);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), ErrorCode::kConfiguration);
}

TEST(ClassifyConnectionTest, FollowsReferenceMessages) {
  EXPECT_EQ(ClassifyConnectionTest(401, "Incorrect API key provided").message, "Invalid API key");
  EXPECT_FALSE(ClassifyConnectionTest(401, "x").success);
  EXPECT_EQ(ClassifyConnectionTest(403, "no access").message, "API key lacks required permissions");
  EXPECT_FALSE(ClassifyConnectionTest(403, "no access").success);
  EXPECT_EQ(ClassifyConnectionTest(429, "slow down").message, "Rate limited - but connection works");
  EXPECT_TRUE(ClassifyConnectionTest(429, "slow down").success);
  EXPECT_TRUE(ClassifyConnectionTest(400, "You exceeded your current quota").success);
  const ConnectionTestResult missing = ClassifyConnectionTest(404, "The model `gpt-x` does not exist");
  EXPECT_TRUE(missing.success);
  EXPECT_EQ(missing.message, "API key valid (test model unavailable)");
  const ConnectionTestResult other = ClassifyConnectionTest(500, std::string(300, 'e'));
  EXPECT_FALSE(other.success);
  EXPECT_EQ(other.message.rfind("Error: ", 0), 0u);
  EXPECT_LE(other.message.size(), std::string("Error: HTTP 500: ").size() + 100);
  EXPECT_FALSE(ClassifyConnectionTest(0, "connection refused").success);
}

HttpResponse Answer(long status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

TEST(ProviderErrorStatus, MapsStatusesToCodes) {
  EXPECT_EQ(ProviderErrorStatus("P", Answer(429, "")).code(), ErrorCode::kRateLimited);
  EXPECT_EQ(ProviderErrorStatus("P", Answer(500, "")).code(), ErrorCode::kUpstream);
  EXPECT_EQ(ProviderErrorStatus("P", Answer(503, "")).code(), ErrorCode::kUpstream);
  EXPECT_EQ(ProviderErrorStatus("P", Answer(401, "")).code(), ErrorCode::kConfiguration);
  EXPECT_EQ(ProviderErrorStatus("P", Answer(404, "")).code(), ErrorCode::kConfiguration);
  EXPECT_EQ(ProviderErrorStatus("P", Answer(400, R"({"error":{"message":"bad value"}})")).code(),
            ErrorCode::kProviderRejected);
  const Status rejected = ProviderErrorStatus("Acme", Answer(400, R"({"error":{"message":"bad value"}})"));
  EXPECT_NE(rejected.message().find("Acme returned HTTP 400: bad value"), std::string::npos);
}

TEST(ProviderErrorStatus, DetectsContextLengthInEachShape) {
  const char* bodies[] = {
      R"({"error":{"message":"too big","type":"invalid_request_error","code":"context_length_exceeded"}})",
      R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}})",
      R"({"error":{"code":400,"message":"The input token count (9000) exceeds the maximum number of tokens allowed (8192).","status":"INVALID_ARGUMENT"}})",
      R"({"error":"the input length exceeds the context length"})",
  };
  for (const char* body : bodies) {
    EXPECT_EQ(ProviderErrorStatus("P", Answer(400, body)).code(), ErrorCode::kContextLengthExceeded) << body;
  }
}

TEST(ProviderErrors, NewCodesArePermanent) {
  EXPECT_FALSE(IsTransient(Status(ErrorCode::kProviderRejected, "x")));
  EXPECT_FALSE(IsTransient(Status(ErrorCode::kContextLengthExceeded, "x")));
  EXPECT_EQ(http::HttpStatusFor(ErrorCode::kProviderRejected), 502);
  EXPECT_EQ(http::HttpStatusFor(ErrorCode::kContextLengthExceeded), 400);
}

TEST(StripReasoning, RemovesThinkBlocks) {
  EXPECT_EQ(StripReasoning("<think>plan</think>\n\nAnswer [source:a]"), "Answer [source:a]");
  EXPECT_EQ(StripReasoning("A <THINK>x</THINK>B<think>y</think> C"), "A B C");
  EXPECT_EQ(StripReasoning("lost opening tag</think>Answer"), "Answer");
  EXPECT_EQ(StripReasoning("Answer <think>cut off while reasoning"), "Answer");
  EXPECT_EQ(StripReasoning("  plain answer  "), "plain answer");
  EXPECT_EQ(StripReasoning("<think>only reasoning</think>"), "");
}

}  // namespace
}  // namespace on::ai
