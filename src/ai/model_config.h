// Turns a registered model into the settings a provider client needs, and reads the default
// models.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ai/credential_cipher.h"
#include "core/error.h"
#include "core/settings.h"
#include "storage/storage.h"

namespace on::ai {

// Everything a provider client needs to call one model. Plain values; `api_key` is the decrypted
// key, so never log this struct.
struct ModelConnection {
  std::string provider;    // registry name, e.g. "openai_compatible"
  std::string model_name;  // the provider's model name, e.g. "gpt-4o-mini"
  std::string model_type;  // language, embedding, text_to_speech or speech_to_text
  std::optional<std::string> credential_id;  // nullopt when the settings come from the environment
  std::optional<std::string> api_key;
  std::optional<std::string> base_url;
  std::optional<std::string> endpoint;
  std::optional<std::string> api_version;
  std::optional<std::string> endpoint_llm;
  std::optional<std::string> endpoint_embedding;
  std::optional<std::string> endpoint_stt;
  std::optional<std::string> endpoint_tts;
  std::optional<std::string> project;
  std::optional<std::string> location;
  // NOTE: a path on the server, stored as the API client sent it and not confined to the data
  // directory; a Vertex client must report read failures without echoing the file's content.
  std::optional<std::string> credentials_path;
  std::optional<int64_t> num_ctx;
};

// Builds the connection settings of a provider without a model: from credential `credential_id`
// when given, else the provider's oldest credential, else its environment variables. Errors as
// ResolveModelConfig.
Result<ModelConnection> ResolveProviderConnection(storage::Storage& storage, const CredentialCipher* cipher,
                                                  const EnvLookup& env, const std::string& provider,
                                                  const std::optional<std::string>& credential_id = std::nullopt);

// Builds the ModelConnection of model `model_id`. Settings come from the model's credential, or
// when it has none from the oldest credential of its provider, or when there is none from the
// provider's environment variables (OPENAI_API_KEY, OLLAMA_API_BASE, ...). Stored URLs are checked
// again with ingest::CheckProviderUrl. Errors: kNotFound for an unknown model; kConfiguration when
// the credential's API key cannot be decrypted (no key configured, another key, damaged row), with
// the fix in the message; kInvalidInput for a stored URL that the check rejects. `cipher` is null
// when no encryption key is configured.
Result<ModelConnection> ResolveModelConfig(storage::Storage& storage, const CredentialCipher* cipher,
                                          const EnvLookup& env, const std::string& model_id);

// Copies the connection settings of `credential` into `config`, decrypting its API key.
// kConfiguration when the key cannot be decrypted.
Status ApplyCredential(const storage::Credential& credential, const CredentialCipher* cipher, ModelConnection& config);

// Decrypts the API key of `credential` (nullopt when it has none). kConfiguration naming the
// credential and the fix when it cannot be decrypted.
Result<std::optional<std::string>> DecryptApiKey(const storage::Credential& credential, const CredentialCipher* cipher);

// The seven default-model slots with the time each last changed. Code that depends on a slot
// (embeddings on default_embedding_model) compares that time or the model id with what it saw.
Result<storage::DefaultModels> DefaultModels(storage::Storage& storage);

// The model id to use for `slot`, applying the fallbacks: transformation, tools and large
// context use the chat model when empty; chat, embedding, speech and transcription have none.
std::optional<std::string> EffectiveDefaultModel(const storage::DefaultModels& defaults, std::string_view slot);

}  // namespace on::ai
