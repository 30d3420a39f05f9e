// Embedding texts with the default embedding model: which model that is, and batching within
// the provider's limits.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ai/credential_cipher.h"
#include "ai/model_config.h"
#include "ai/models.h"
#include "core/settings.h"
#include "storage/storage.h"

namespace on::ai {

// Provider settings for a client call to the resolved model. The capability's own endpoint
// (endpoint_embedding, endpoint_llm, ...) wins over the credential's base URL.
ProviderConfig ToProviderConfig(const ModelConnection& connection);

// The model key that tags stored vectors: "<provider>/<model name>". Two model rows for the same
// provider model share vectors; a different model never does.
std::string EmbeddingModelKey(const ModelConnection& connection);

struct EmbeddingSetup {
  std::string model_id;  // the model row, "model:..."
  std::string key;       // EmbeddingModelKey
  ProviderConfig config;
};

// The default embedding model, or nullopt when none is set. Errors as ResolveModelConfig.
Result<std::optional<EmbeddingSetup>> DefaultEmbeddingSetup(storage::Storage& storage, const CredentialCipher* cipher,
                                                            const EnvLookup& env);

// Limits of one embedding request: OpenAI accepts up to 2,048 inputs and 300,000 tokens, local
// servers often far less, so the defaults stay small.
struct EmbedBatchLimits {
  size_t max_texts = 50;
  size_t max_tokens = 8000;
};

// Embeds `texts` in batches within `limits`, one vector per text in order. A batch the provider
// rejects as too long (kContextLengthExceeded) is split in halves and sent again. A single text
// that is still too long is cut to half its length until it fits (it loses its end, which is
// better than no vector). Checks that every vector has the same non-zero dimension and only
// finite values.
Result<std::vector<std::vector<float>>> EmbedInBatches(EmbeddingModel& model, const std::vector<std::string>& texts,
                                                       const EmbedBatchLimits& limits = {},
                                                       const CancelToken& cancel = {});

}  // namespace on::ai
