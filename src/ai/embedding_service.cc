#include "ai/embedding_service.h"

#include <cmath>

#include "search/tokenizer.h"

namespace on::ai {
namespace {

// Texts shorter than this are not cut further: a provider that rejects them has another problem.
constexpr size_t kMinimumCutBytes = 64;

// Cuts `text` to about half its bytes without splitting a UTF-8 sequence.
std::string FirstHalf(const std::string& text) {
  size_t end = text.size() / 2;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

Result<std::vector<std::vector<float>>> EmbedBatch(EmbeddingModel& model, std::vector<std::string> texts,
                                                   const CancelToken& cancel) {
  if (cancel.cancelled()) return Status(ErrorCode::kCancelled, "embedding was cancelled");
  auto vectors = model.Embed(texts, cancel);
  if (vectors.ok()) {
    if (vectors->size() != texts.size()) {
      return Status(ErrorCode::kUpstream, "the embedding provider returned " + std::to_string(vectors->size()) +
                                              " vectors for " + std::to_string(texts.size()) + " texts");
    }
    return vectors;
  }
  if (vectors.status().code() != ErrorCode::kContextLengthExceeded) return vectors.status();

  if (texts.size() > 1) {
    const auto middle = texts.begin() + static_cast<std::ptrdiff_t>(texts.size() / 2);
    ON_ASSIGN_OR_RETURN(auto first, EmbedBatch(model, std::vector<std::string>(texts.begin(), middle), cancel));
    ON_ASSIGN_OR_RETURN(auto second, EmbedBatch(model, std::vector<std::string>(middle, texts.end()), cancel));
    for (auto& vector : second) first.push_back(std::move(vector));
    return first;
  }
  if (texts.front().size() < kMinimumCutBytes) return vectors.status();
  texts.front() = FirstHalf(texts.front());
  return EmbedBatch(model, std::move(texts), cancel);
}

}  // namespace

ProviderConfig ToProviderConfig(const ModelConnection& connection) {
  ProviderConfig config;
  config.provider = connection.provider;
  config.model = connection.model_name;
  config.api_key = connection.api_key.value_or("");
  config.api_version = connection.api_version.value_or("");
  std::optional<std::string> capability_endpoint;
  if (connection.model_type == "embedding") capability_endpoint = connection.endpoint_embedding;
  if (connection.model_type == "language") capability_endpoint = connection.endpoint_llm;
  if (connection.model_type == "text_to_speech") capability_endpoint = connection.endpoint_tts;
  if (connection.model_type == "speech_to_text") capability_endpoint = connection.endpoint_stt;
  if (capability_endpoint && !capability_endpoint->empty()) {
    config.base_url = *capability_endpoint;
  } else if (connection.base_url && !connection.base_url->empty()) {
    config.base_url = *connection.base_url;
  } else if (connection.endpoint) {
    config.base_url = *connection.endpoint;
  }
  return config;
}

std::string EmbeddingModelKey(const ModelConnection& connection) {
  return connection.provider + "/" + connection.model_name;
}

Result<std::optional<EmbeddingSetup>> DefaultEmbeddingSetup(storage::Storage& storage, const CredentialCipher* cipher,
                                                            const EnvLookup& env) {
  ON_ASSIGN_OR_RETURN(auto defaults, DefaultModels(storage));
  const std::optional<std::string> model_id = defaults.ModelId("default_embedding_model");
  if (!model_id) return std::optional<EmbeddingSetup>();
  ON_ASSIGN_OR_RETURN(ModelConnection connection, ResolveModelConfig(storage, cipher, env, *model_id));
  if (connection.model_type != "embedding") {
    return Status(ErrorCode::kConfiguration, "the default embedding model " + *model_id + " is a " +
                                                 connection.model_type + " model; choose an embedding model");
  }
  return std::optional<EmbeddingSetup>(EmbeddingSetup{*model_id, EmbeddingModelKey(connection), ToProviderConfig(connection)});
}

Result<std::vector<std::vector<float>>> EmbedInBatches(EmbeddingModel& model, const std::vector<std::string>& texts,
                                                       const EmbedBatchLimits& limits, const CancelToken& cancel) {
  std::vector<std::vector<float>> vectors;
  vectors.reserve(texts.size());
  size_t begin = 0;
  while (begin < texts.size()) {
    size_t end = begin;
    size_t tokens = 0;
    while (end < texts.size() && end - begin < limits.max_texts) {
      const size_t text_tokens = search::EstimateTokens(texts[end]);
      if (end > begin && tokens + text_tokens > limits.max_tokens) break;
      tokens += text_tokens;
      ++end;
    }
    ON_ASSIGN_OR_RETURN(auto batch, EmbedBatch(model, std::vector<std::string>(texts.begin() + static_cast<std::ptrdiff_t>(begin),
                                                                             texts.begin() + static_cast<std::ptrdiff_t>(end)),
                                               cancel));
    for (auto& vector : batch) vectors.push_back(std::move(vector));
    begin = end;
  }

  const size_t dimension = vectors.empty() ? 0 : vectors.front().size();
  for (const auto& vector : vectors) {
    if (vector.empty() || vector.size() != dimension) {
      return Status(ErrorCode::kUpstream, "the embedding provider returned vectors of " + std::to_string(dimension) +
                                              " and " + std::to_string(vector.size()) + " dimensions in one answer");
    }
    for (float value : vector) {
      if (!std::isfinite(value)) return Status(ErrorCode::kUpstream, "the embedding provider returned a non-finite value");
    }
  }
  return vectors;
}

}  // namespace on::ai
