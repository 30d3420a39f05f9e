#include "jobs/command_registry.h"

namespace on::jobs {
namespace {

bool IsValidPart(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!allowed) return false;
  }
  return true;
}

std::string JoinNames(const std::vector<std::string>& names) {
  if (names.empty()) return "none (this process registers no commands)";
  std::string joined;
  for (const auto& name : names) {
    if (!joined.empty()) joined += ", ";
    joined += name;
  }
  return joined;
}

}  // namespace

Status CommandRegistry::Register(CommandSpec spec) {
  if (!IsValidPart(spec.app) || !IsValidPart(spec.name)) {
    return InvalidInput("command '" + spec.FullName() +
                        "' has an invalid name: app and name must be 1 to 64 lowercase letters, digits or '_'");
  }
  if (!spec.handler) return InvalidInput("command '" + spec.FullName() + "' has no handler");
  std::string full_name = spec.FullName();
  if (commands_.contains(full_name)) return InvalidInput("command '" + full_name + "' is registered twice");
  commands_.emplace(std::move(full_name), std::move(spec));
  return Status::Ok();
}

Result<const CommandSpec*> CommandRegistry::Find(std::string_view app, std::string_view name) const {
  if (app.empty()) {
    const size_t dot = name.find('.');
    if (dot != std::string_view::npos) return Find(name.substr(0, dot), name.substr(dot + 1));

    const CommandSpec* match = nullptr;
    int matches = 0;
    for (const auto& [full_name, spec] : commands_) {
      if (spec.name == name) {
        match = &spec;
        ++matches;
      }
    }
    if (matches == 1) return match;
    if (matches > 1) {
      return InvalidInput("command '" + std::string(name.substr(0, 100)) +
                          "' exists in several apps: set 'app' to one of the apps in " + JoinNames(FullNames()));
    }
  } else {
    const std::string full_name = std::string(app) + "." + std::string(name);
    if (const CommandSpec* spec = FindFull(full_name)) return spec;
  }

  std::string requested = app.empty() ? std::string(name) : std::string(app) + "." + std::string(name);
  return InvalidInput("unknown command '" + requested.substr(0, 200) + "': known commands are " +
                      JoinNames(FullNames()));
}

const CommandSpec* CommandRegistry::FindFull(std::string_view full_name) const {
  auto found = commands_.find(full_name);
  return found == commands_.end() ? nullptr : &found->second;
}

RetryPolicy CommandRegistry::PolicyFor(const CommandSpec& command) const {
  return command.retry ? *command.retry : default_policy();
}

RetryPolicy CommandRegistry::default_policy() const {
  std::lock_guard lock(policy_mutex_);
  return default_policy_;
}

void CommandRegistry::SetDefaultPolicy(RetryPolicy policy) {
  std::lock_guard lock(policy_mutex_);
  default_policy_ = policy;
}

std::vector<std::string> CommandRegistry::FullNames() const {
  std::vector<std::string> names;
  for (const auto& [full_name, spec] : commands_) names.push_back(full_name);
  return names;
}

std::vector<const CommandSpec*> CommandRegistry::Commands() const {
  std::vector<const CommandSpec*> specs;
  for (const auto& [full_name, spec] : commands_) specs.push_back(&spec);
  return specs;
}

}  // namespace on::jobs
