// Worker liveness and queue summaries, shared by the API (/api/config, job status) and the
// `open-notebook status` command so both report the same facts in the same words.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/timestamps.h"
#include "storage/job_store.h"

namespace on::jobs {

// True when the worker's last heartbeat is younger than its lease. Workers save a heartbeat
// every third of their lease, so a live worker misses at most two before it counts as gone.
bool IsLive(const storage::WorkerInfo& worker, SystemClock::time_point now);

// The live workers among `workers`.
std::vector<storage::WorkerInfo> LiveWorkers(const std::vector<storage::WorkerInfo>& workers,
                                             SystemClock::time_point now);

// How to start a worker, for messages.
inline constexpr const char* kStartWorkerHint =
    "start one with `open-notebook worker`, or run `open-notebook serve` with OPEN_NOTEBOOK_WORKER_IN_SERVE=true";

// A warning for a queued job that cannot start: no live worker, or no live worker that runs its
// command. nullopt when a live worker runs `full_command`.
std::optional<std::string> QueuedJobWarning(const std::vector<storage::WorkerInfo>& workers,
                                            const std::string& full_command, SystemClock::time_point now);

// {"live": n, "workers": [{"id", "heartbeat_age_seconds", "running", "max_tasks", "commands"}]}
// for live workers only; hosts and process ids are left out because /api/config needs no password.
nlohmann::json WorkersJson(const std::vector<storage::WorkerInfo>& workers, SystemClock::time_point now);

// {"queued", "running", "completed", "failed", "cancelled", "oldest_queued_age_seconds"}
nlohmann::json QueueJson(const storage::QueueStats& stats, SystemClock::time_point now);

}  // namespace on::jobs
