#include "core/settings.h"

#include <charconv>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

namespace on {
namespace {

SettingType TypeOf(std::string_view name) {
  if (name == "Int") return SettingType::kInt;
  if (name == "Bool") return SettingType::kBool;
  return SettingType::kString;
}

std::optional<bool> ParseBool(std::string_view text) {
  if (text == "1" || text == "true" || text == "TRUE" || text == "True" || text == "yes" || text == "on") return true;
  if (text == "0" || text == "false" || text == "FALSE" || text == "False" || text == "no" || text == "off") return false;
  return std::nullopt;
}

bool ChoiceAllowed(std::string_view choices, std::string_view value) {
  if (choices.empty()) return true;
  size_t start = 0;
  while (start <= choices.size()) {
    size_t end = choices.find('|', start);
    if (end == std::string_view::npos) end = choices.size();
    if (choices.substr(start, end - start) == value) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

const std::vector<SettingSpec>& SettingSpecs() {
  static const std::vector<SettingSpec> specs = {
#define ON_SETTING_SPEC(field, env, type, def, min, max, choices, flags, description) \
  SettingSpec{#field, env, TypeOf(#type), def, min, max, choices, flags, description},
      ON_SETTINGS(ON_SETTING_SPEC)
#undef ON_SETTING_SPEC
  };
  return specs;
}

EnvLookup ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

namespace {

template <typename T>
Status ParseValue(const SettingSpec& spec, std::string_view text, T& field) {
  auto invalid = [&](std::string_view expected) {
    return InvalidInput(std::string(spec.env) + "='" + std::string(text) + "' is invalid: expected " +
                        std::string(expected));
  };

  if constexpr (std::is_same_v<T, bool>) {
    auto parsed = ParseBool(text);
    if (!parsed) return invalid("true or false");
    field = *parsed;
  } else if constexpr (std::is_same_v<T, int64_t>) {
    int64_t parsed = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    std::string range = "an integer from " + std::to_string(spec.min) + " to " + std::to_string(spec.max);
    if (ec != std::errc() || ptr != text.data() + text.size()) return invalid(range);
    if (parsed < spec.min || parsed > spec.max) return invalid(range);
    field = parsed;
  } else {
    if (!ChoiceAllowed(spec.choices, text)) return invalid("one of " + std::string(spec.choices));
    field = std::string(text);
  }
  return Status::Ok();
}

template <typename T>
std::string FormatValue(const T& field) {
  if constexpr (std::is_same_v<T, bool>) {
    return field ? "true" : "false";
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return std::to_string(field);
  } else {
    return field;
  }
}

Status ParseInto(const SettingSpec& spec, std::string_view text, Settings& settings) {
#define ON_SETTING_ASSIGN(field, ...) \
  if (spec.member == #field) return ParseValue(spec, text, settings.field);
  ON_SETTINGS(ON_SETTING_ASSIGN)
#undef ON_SETTING_ASSIGN
  return InternalError("setting " + std::string(spec.member) + " has no parser");
}

std::string FormatSetting(const SettingSpec& spec, const Settings& settings) {
#define ON_SETTING_TEXT(field, ...) \
  if (spec.member == #field) return FormatValue(settings.field);
  ON_SETTINGS(ON_SETTING_TEXT)
#undef ON_SETTING_TEXT
  return "";
}

}  // namespace

Result<Settings> Settings::Load(const EnvLookup& env) {
  Settings settings;
  for (const auto& spec : SettingSpecs()) {
    ON_RETURN_IF_ERROR(ParseInto(spec, spec.default_value, settings));
    std::optional<std::string> value = env(spec.env);
    if (value) ON_RETURN_IF_ERROR(ParseInto(spec, *value, settings));
  }
  ON_RETURN_IF_ERROR(settings.CheckConsistency());
  return settings;
}

Status Settings::CheckConsistency() const {
  if (chunk_overlap >= chunk_size) {
    return InvalidInput("OPEN_NOTEBOOK_CHUNK_OVERLAP=" + std::to_string(chunk_overlap) +
                        " is invalid: it must be smaller than OPEN_NOTEBOOK_CHUNK_SIZE=" + std::to_string(chunk_size) +
                        "; lower the overlap or raise the chunk size");
  }
  if (retry_wait_min_s > retry_wait_max_s) {
    return InvalidInput("OPEN_NOTEBOOK_RETRY_WAIT_MIN=" + std::to_string(retry_wait_min_s) +
                        " is invalid: it must not exceed OPEN_NOTEBOOK_RETRY_WAIT_MAX=" + std::to_string(retry_wait_max_s) +
                        "; lower the minimum or raise the maximum");
  }
  return Status::Ok();
}

const SettingSpec* FindSetting(std::string_view name) {
  for (const auto& spec : SettingSpecs()) {
    if (spec.member == name || spec.env == name) return &spec;
  }
  return nullptr;
}

std::optional<std::string> Settings::ValueText(std::string_view name) const {
  const SettingSpec* spec = FindSetting(name);
  if (spec == nullptr) return std::nullopt;
  return FormatSetting(*spec, *this);
}

nlohmann::json Settings::ValueJson(const SettingSpec& spec) const {
  const std::string text = FormatSetting(spec, *this);
  switch (spec.type) {
    case SettingType::kBool:
      return text == "true";
    case SettingType::kInt:
      return std::stoll(text);
    case SettingType::kString:
      break;
  }
  return text;
}

Status Settings::Set(std::string_view name, std::string_view value) {
  for (const auto& spec : SettingSpecs()) {
    if (spec.member == name || spec.env == name) return ParseInto(spec, value, *this);
  }
  return InvalidInput("unknown setting '" + std::string(name) + "'; `open-notebook --help` lists them");
}

nlohmann::json Settings::PublicValues() const {
  nlohmann::json values = nlohmann::json::object();
  for (const auto& spec : SettingSpecs()) {
    if (spec.flags & kSecret) continue;
    values[std::string(spec.env)] = ValueJson(spec);
  }
  return values;
}

namespace {

// Reads the first line of a secret file, without trailing blanks; kInvalidInput naming `setting`.
Result<std::string> ReadSecretFile(std::string_view setting, const std::string& path, std::string_view what) {
  std::ifstream file(path);
  if (!file) {
    return InvalidInput(std::string(setting) + "='" + path + "' cannot be read; check the path and its permissions");
  }
  std::string line;
  std::getline(file, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
  if (line.empty()) {
    return InvalidInput(std::string(setting) + "='" + path + "' is empty; write the " + std::string(what) +
                        " on its first line");
  }
  return line;
}

}  // namespace

Result<std::string> Settings::ResolvePassword() const {
  if (!password.empty()) return password;
  if (password_file.empty()) return std::string();
  return ReadSecretFile("OPEN_NOTEBOOK_PASSWORD_FILE", password_file, "password");
}

Result<std::string> Settings::ResolveEncryptionKey() const {
  if (!encryption_key.empty()) return encryption_key;
  if (encryption_key_file.empty()) return std::string();
  return ReadSecretFile("OPEN_NOTEBOOK_ENCRYPTION_KEY_FILE", encryption_key_file, "encryption key");
}

Result<std::string> Settings::SqlitePath() const {
  if (database_url.empty()) return data_dir + "/open-notebook.db";
  constexpr std::string_view kScheme = "sqlite://";
  if (database_url.rfind(kScheme, 0) == 0 && database_url.size() > kScheme.size()) {
    return database_url.substr(kScheme.size());
  }
  if (database_url.starts_with("postgresql://") || database_url.starts_with("postgres://")) {
    return InvalidInput("OPEN_NOTEBOOK_DATABASE_URL names a PostgreSQL database, which has no database file");
  }
  return InvalidInput("OPEN_NOTEBOOK_DATABASE_URL must be empty, sqlite:///path/to/file.db or postgresql://user@host/database");
}

namespace {

std::string_view TrimBlanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

bool IsVariableName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<std::map<std::string, std::string>> ReadEnvFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return NotFound("OPEN_NOTEBOOK_ENV_FILE='" + path + "' cannot be read; check the path and its permissions");
  }
  std::map<std::string, std::string> values;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    std::string_view text = TrimBlanks(line);
    if (text.empty() || text.front() == '#') continue;
    if (text.rfind("export ", 0) == 0) text = TrimBlanks(text.substr(7));
    const size_t equals = text.find('=');
    const std::string_view name = equals == std::string_view::npos ? text : TrimBlanks(text.substr(0, equals));
    if (equals == std::string_view::npos || !IsVariableName(name)) {
      // The line is not echoed: it may hold a secret.
      return InvalidInput(path + " line " + std::to_string(number) +
                          " is not a KEY=VALUE line; write one variable per line, e.g. OPEN_NOTEBOOK_LOG_LEVEL=debug");
    }
    std::string_view value = TrimBlanks(text.substr(equals + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    values[std::string(name)] = std::string(value);
  }
  return values;
}

EnvLookup LayeredEnv(EnvLookup primary, std::map<std::string, std::string> fallback) {
  return [primary = std::move(primary), fallback = std::move(fallback)](std::string_view name) -> std::optional<std::string> {
    if (auto value = primary(name)) return value;
    auto found = fallback.find(std::string(name));
    if (found == fallback.end()) return std::nullopt;
    return found->second;
  };
}

Result<Settings> LoadProcessSettings(const EnvLookup& process_env, std::map<std::string, std::string>* file_values) {
  std::map<std::string, std::string> values;
  if (auto path = process_env("OPEN_NOTEBOOK_ENV_FILE"); path && !path->empty()) {
    ON_ASSIGN_OR_RETURN(values, ReadEnvFile(*path));
  }
  if (file_values != nullptr) *file_values = values;
  return Settings::Load(LayeredEnv(process_env, std::move(values)));
}

std::string SettingsHelpText() {
  std::string text = "Settings (environment variables):\n";
  for (const auto& spec : SettingSpecs()) {
    text += "  " + std::string(spec.env);
    if (!spec.default_value.empty()) text += " (default: " + std::string(spec.default_value) + ")";
    if (!spec.choices.empty()) text += " [" + std::string(spec.choices) + "]";
    if (spec.flags & kRuntime) text += " [runtime: PUT /api/settings]";
    if (spec.flags & kReloadable) text += " [reloadable: SIGHUP]";
    text += "\n      " + std::string(spec.description) + "\n";
  }
  return text;
}

}  // namespace on
