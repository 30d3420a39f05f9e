#include "jobs/queue_overview.h"

#include <algorithm>
#include <cmath>

namespace on::jobs {
namespace {

double RoundToTenths(double seconds) { return std::round(seconds * 10.0) / 10.0; }

}  // namespace

bool IsLive(const storage::WorkerInfo& worker, SystemClock::time_point now) {
  auto age = SecondsSince(worker.heartbeat_at, now);
  if (!age) return false;
  return *age <= std::chrono::duration<double>(worker.lease).count();
}

std::vector<storage::WorkerInfo> LiveWorkers(const std::vector<storage::WorkerInfo>& workers,
                                             SystemClock::time_point now) {
  std::vector<storage::WorkerInfo> live;
  for (const auto& worker : workers) {
    if (IsLive(worker, now)) live.push_back(worker);
  }
  return live;
}

std::optional<std::string> QueuedJobWarning(const std::vector<storage::WorkerInfo>& workers,
                                            const std::string& full_command, SystemClock::time_point now) {
  const auto live = LiveWorkers(workers, now);
  if (live.empty()) {
    return "No worker is running, so this job waits in the queue: " + std::string(kStartWorkerHint) + ".";
  }
  for (const auto& worker : live) {
    if (std::find(worker.commands.begin(), worker.commands.end(), full_command) != worker.commands.end()) {
      return std::nullopt;
    }
  }
  return "No running worker handles command '" + full_command +
         "', so this job waits in the queue. Start a worker whose binary and settings register that command "
         "(test commands need OPEN_NOTEBOOK_ENABLE_TEST_COMMANDS=true).";
}

nlohmann::json WorkersJson(const std::vector<storage::WorkerInfo>& workers, SystemClock::time_point now) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& worker : LiveWorkers(workers, now)) {
    list.push_back({{"id", worker.id},
                    {"heartbeat_age_seconds", RoundToTenths(SecondsSince(worker.heartbeat_at, now).value_or(0))},
                    {"running", worker.running},
                    {"max_tasks", worker.max_tasks},
                    {"commands", worker.commands}});
  }
  return {{"live", list.size()}, {"workers", list}};
}

nlohmann::json QueueJson(const storage::QueueStats& stats, SystemClock::time_point now) {
  nlohmann::json oldest = nullptr;
  if (stats.oldest_queued_created) {
    if (auto age = SecondsSince(*stats.oldest_queued_created, now)) oldest = RoundToTenths(std::max(0.0, *age));
  }
  return {{"queued", stats.queued},
          {"running", stats.running},
          {"completed", stats.completed},
          {"failed", stats.failed},
          {"cancelled", stats.cancelled},
          {"oldest_queued_age_seconds", oldest}};
}

}  // namespace on::jobs
