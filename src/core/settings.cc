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

std::string ValueText(const SettingSpec& spec, const Settings& settings) {
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
  return settings;
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
    const std::string text = ValueText(spec, *this);
    switch (spec.type) {
      case SettingType::kBool:
        values[std::string(spec.env)] = text == "true";
        break;
      case SettingType::kInt:
        values[std::string(spec.env)] = std::stoll(text);
        break;
      case SettingType::kString:
        values[std::string(spec.env)] = text;
        break;
    }
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
  return InvalidInput("OPEN_NOTEBOOK_DATABASE_URL must be empty or sqlite:///path/to/file.db");
}

std::string SettingsHelpText() {
  std::string text = "Settings (environment variables):\n";
  for (const auto& spec : SettingSpecs()) {
    text += "  " + std::string(spec.env);
    if (!spec.default_value.empty()) text += " (default: " + std::string(spec.default_value) + ")";
    if (!spec.choices.empty()) text += " [" + std::string(spec.choices) + "]";
    if (spec.flags & kReloadable) text += " [reloadable]";
    text += "\n      " + std::string(spec.description) + "\n";
  }
  return text;
}

}  // namespace on
