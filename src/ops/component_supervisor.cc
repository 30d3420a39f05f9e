#include "ops/component_supervisor.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace on::ops {

using SteadyClock = std::chrono::steady_clock;

std::chrono::milliseconds RestartBackoff::Next(std::chrono::milliseconds previous,
                                               std::chrono::milliseconds ran_for) const {
  if (previous.count() <= 0 || ran_for >= stable_after) return std::min(initial, max);
  return std::min(previous * 2, max);
}

ComponentSupervisor::ComponentSupervisor(std::string name, Factory factory, RestartBackoff backoff,
                                         std::chrono::milliseconds check_interval)
    : name_(std::move(name)), factory_(std::move(factory)), backoff_(backoff), check_interval_(check_interval) {}

ComponentSupervisor::~ComponentSupervisor() {
  Stop();
  // Deliberately leaked: their threads still run and use what they point to.
  for (auto& component : unstoppable_) (void)component.release();
}

void ComponentSupervisor::Start() {
  thread_ = std::thread([this] { Supervise(); });
}

int ComponentSupervisor::starts() const {
  std::lock_guard lock(mutex_);
  return starts_;
}

bool ComponentSupervisor::running() const {
  std::lock_guard lock(mutex_);
  return current_ != nullptr;
}

bool ComponentSupervisor::WaitUnlessStopping(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, duration, [this] { return stopping_; });
  return !stopping_;
}

void ComponentSupervisor::Supervise() {
  auto delay = std::chrono::milliseconds(0);
  while (WaitUnlessStopping(delay)) {
    std::unique_ptr<SupervisedComponent> component = factory_();
    const auto started_at = SteadyClock::now();
    if (Status started = component->Start(); !started.ok()) {
      delay = backoff_.Next(delay, std::chrono::milliseconds(0));
      spdlog::error("{} failed to start: {}; trying again in {} ms", name_, started.ToString(), delay.count());
      continue;
    }

    int starts = 0;
    SupervisedComponent* watched = component.get();
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        // Stop() ran during Start(); it found no current instance, so this one is stopped here.
        current_ = std::move(component);
        break;
      }
      starts = ++starts_;
      current_ = std::move(component);
    }
    if (starts > 1) spdlog::info("{} started again (start {})", name_, starts);

    Status health;
    while (WaitUnlessStopping(check_interval_)) {
      health = watched->Health();
      if (!health.ok()) break;
    }
    if (health.ok()) return;  // Stop() was called; it stops the current instance

    const auto ran_for = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started_at);
    delay = backoff_.Next(delay, ran_for);
    spdlog::error("{} failed after {} ms: {}; stopping it and starting a new one in {} ms", name_, ran_for.count(),
                  health.ToString(), delay.count());
    std::unique_ptr<SupervisedComponent> failed;
    {
      std::lock_guard lock(mutex_);
      failed = std::move(current_);
    }
    if (!failed->Stop()) {
      spdlog::critical("{} did not stop cleanly; it is left running beside the new instance until the process exits",
                       name_);
      std::lock_guard lock(mutex_);
      unstoppable_.push_back(std::move(failed));
      stop_result_ = false;
    }
  }
}

bool ComponentSupervisor::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return stop_result_;
    stopped_ = true;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();

  std::unique_ptr<SupervisedComponent> current;
  {
    std::lock_guard lock(mutex_);
    current = std::move(current_);
  }
  bool clean = true;
  if (current != nullptr) {
    clean = current->Stop();
    if (!clean) {
      std::lock_guard lock(mutex_);
      unstoppable_.push_back(std::move(current));
    }
  }
  std::lock_guard lock(mutex_);
  stop_result_ = stop_result_ && clean;
  return stop_result_;
}

}  // namespace on::ops
