// The AI providers Open Notebook can use, in the order the UI lists them.
//
// Each row names the provider's id (as stored in credentials and models), its modalities and the
// environment variables of the legacy env-only setup: a provider counts as configured from the
// environment when every `required_env` variable and at least one `required_any_env` variable is
// set to a non-empty value.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/settings.h"

namespace on::ai {

struct ProviderSpec {
  std::string_view name;
  std::string_view display_name;
  std::vector<std::string_view> modalities;        // default modalities of a new credential
  std::vector<std::string_view> required_env;      // all must be set
  std::vector<std::string_view> required_any_env;  // at least one must be set
  std::vector<std::string_view> optional_env;      // read when present
  std::string_view docs_url;                       // where to get a key or set the provider up; may be empty
};

// Every provider, in display order.
std::span<const ProviderSpec> Providers();

// The provider named `name` (exact, lowercase ids such as "openai_compatible"), or nullptr.
const ProviderSpec* FindProvider(std::string_view name);

// Provider names joined by ", ", for error messages.
std::string ProviderNameList();

// True when `env` configures `provider` by the rule in this file's header.
bool EnvConfigured(const ProviderSpec& provider, const EnvLookup& env);

// Connection settings of a provider read from its environment variables; fields stay empty when
// the variables are unset. Produced for env-only setups and for migrating them to credentials.
struct EnvProviderSettings {
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
  std::optional<std::string> credentials_path;
};

EnvProviderSettings ReadEnvProviderSettings(const ProviderSpec& provider, const EnvLookup& env);

}  // namespace on::ai
