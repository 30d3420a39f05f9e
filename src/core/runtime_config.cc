#include "core/runtime_config.h"

#include <spdlog/spdlog.h>

namespace on {

RuntimeConfig::RuntimeConfig(Settings base, std::map<std::string, std::string> command_line, EnvLookup process_env)
    : base_(std::move(base)), command_line_(std::move(command_line)), process_env_(std::move(process_env)) {
  auto composed = Compose(base_, stored_);
  // Composing fails only when a command-line option breaks a rule between two settings, and none
  // of the options takes part in such a rule. The base alone is the fallback all the same.
  current_ = std::make_shared<const Settings>(composed.ok() ? *composed : base_);
}

std::unique_ptr<RuntimeConfig> RuntimeConfig::Fixed(Settings settings) {
  return std::make_unique<RuntimeConfig>(std::move(settings), std::map<std::string, std::string>{},
                                         [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
}

SettingsSnapshot RuntimeConfig::Current() const {
  std::lock_guard lock(snapshot_mutex_);
  return current_;
}

int64_t RuntimeConfig::version() const { return version_.load(); }

int RuntimeConfig::AddListener(Listener listener) {
  std::lock_guard lock(mutex_);
  listeners_[++next_listener_] = std::move(listener);
  return next_listener_;
}

void RuntimeConfig::RemoveListener(int id) {
  std::lock_guard lock(mutex_);
  listeners_.erase(id);
}

Result<Settings> RuntimeConfig::Compose(const Settings& base, const std::map<std::string, std::string>& stored) const {
  Settings settings = base;
  for (const auto& [name, value] : stored) {
    const SettingSpec* spec = FindSetting(name);
    if (spec == nullptr || !(spec->flags & kRuntime)) {
      spdlog::warn("the database stores a value for '{}', which is not a runtime setting of this version; it is ignored",
                   name);
      continue;
    }
    if (Status set = settings.Set(spec->member, value); !set.ok()) {
      spdlog::warn("the value stored through the API is ignored: {}; send a valid value with PUT /api/settings",
                   set.message());
    }
  }
  for (const auto& [name, value] : command_line_) {
    if (Status set = settings.Set(name, value); !set.ok()) return set;
  }
  ON_RETURN_IF_ERROR(settings.CheckConsistency());
  return settings;
}

void RuntimeConfig::Publish(Settings next, std::string_view cause) {
  SettingsSnapshot before = Current();
  std::vector<std::string> changed;
  for (const auto& spec : SettingSpecs()) {
    const std::string old_text = *before->ValueText(spec.member);
    const std::string new_text = *next.ValueText(spec.member);
    if (old_text == new_text) continue;
    changed.emplace_back(spec.env);
    if (spec.flags & kSecret) {
      spdlog::info("{} changed ({}); the value is secret and not logged", spec.env, cause);
    } else {
      spdlog::info("{} changed from '{}' to '{}' ({})", spec.env, old_text, new_text, cause);
    }
  }
  if (changed.empty()) return;

  auto after = std::make_shared<const Settings>(std::move(next));
  {
    std::lock_guard lock(snapshot_mutex_);
    current_ = after;
  }
  for (const auto& [id, listener] : listeners_) listener(*before, *after);
}

void RuntimeConfig::ApplyStored(int64_t version, const std::map<std::string, std::string>& stored) {
  std::lock_guard lock(mutex_);
  // The watcher may have read an older version just before a request of this process applied a
  // newer one. Versions only grow while processes run (a restore needs every process stopped).
  if (version < version_) return;
  auto composed = Compose(base_, stored);
  if (!composed.ok()) {
    spdlog::warn("configuration version {} is not applied: {}; this process keeps its current settings", version,
                 composed.status().message());
    version_ = version;
    return;
  }
  stored_ = stored;
  version_ = version;
  Publish(std::move(composed).value(), "configuration version " + std::to_string(version));
}

Status RuntimeConfig::ReloadEnvFile() {
  std::lock_guard lock(mutex_);
  const std::string path = process_env_("OPEN_NOTEBOOK_ENV_FILE").value_or(base_.env_file);
  if (path.empty()) {
    spdlog::warn("SIGHUP received, but OPEN_NOTEBOOK_ENV_FILE is not set, so there is no file to re-read");
    return Status::Ok();
  }
  auto file = ReadEnvFile(path);
  if (!file.ok()) {
    spdlog::error("re-reading {} failed: {}; the settings stay as they were", path, file.status().message());
    return file.status();
  }
  auto fresh = Settings::Load(LayeredEnv(process_env_, *file));
  if (!fresh.ok()) {
    spdlog::error("re-reading {} failed: {}; the settings stay as they were", path, fresh.status().message());
    return fresh.status();
  }

  Settings base = base_;
  for (const auto& spec : SettingSpecs()) {
    const std::string old_text = *base_.ValueText(spec.member);
    const std::string new_text = *fresh->ValueText(spec.member);
    if (old_text == new_text) {
      if (file->contains(std::string(spec.env)) && process_env_(spec.env) &&
          *process_env_(spec.env) != file->at(std::string(spec.env)) && (spec.flags & kReloadable)) {
        spdlog::warn("{} in {} is ignored because the process environment sets it, which takes precedence", spec.env,
                     path);
      }
      continue;
    }
    if (!(spec.flags & kReloadable)) {
      spdlog::warn("{} changed in {}, but it is not reloadable: restart the process to apply it", spec.env, path);
      continue;
    }
    if (Status set = base.Set(spec.member, new_text); !set.ok()) return set;
    if ((spec.flags & kRuntime) && stored_.contains(std::string(spec.member))) {
      spdlog::warn("{} changed in {}, but a value set through PUT /api/settings takes precedence; send null for it to "
                   "use the file's value", spec.env, path);
    }
  }
  auto composed = Compose(base, stored_);
  if (!composed.ok()) {
    spdlog::error("re-reading {} failed: {}; the settings stay as they were", path, composed.status().message());
    return composed.status();
  }
  base_ = std::move(base);
  spdlog::info("re-read {} after SIGHUP", path);
  Publish(std::move(composed).value(), "SIGHUP re-read " + path);
  return Status::Ok();
}

Status RuntimeConfig::CheckChanges(const std::map<std::string, std::optional<std::string>>& changes) const {
  std::lock_guard lock(mutex_);
  Settings settings = base_;
  std::map<std::string, std::string> stored = stored_;
  for (const auto& [name, value] : changes) {
    if (value) {
      stored[name] = *value;
    } else {
      stored.erase(name);
    }
  }
  for (const auto& [name, value] : stored) {
    const SettingSpec* spec = FindSetting(name);
    if (spec == nullptr || !(spec->flags & kRuntime)) continue;
    ON_RETURN_IF_ERROR(settings.Set(spec->member, value));
  }
  return settings.CheckConsistency();
}

}  // namespace on
