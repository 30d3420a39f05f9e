// GET /metrics: the metrics recorded by this process, plus job states, worker heartbeats, the data
// disk and process figures read at scrape time. No /api prefix, because Prometheus expects /metrics.
#include <sys/statvfs.h>

#include <algorithm>
#include <array>
#include <utility>

#include "api/app_context.h"
#include "core/metrics.h"
#include "jobs/queue_overview.h"

namespace on::api {
namespace {

using Labels = std::array<std::pair<std::string_view, std::string_view>, 1>;

void WriteJobMetrics(AppContext& context, metrics::ExpositionWriter& writer) {
  const auto now = SystemClock::now();
  auto stats = context.storage().jobs().GetQueueStats();
  if (stats.ok()) {
    writer.Family("open_notebook_jobs", "Jobs in the job store by state, read at scrape time.", "gauge");
    const std::pair<std::string_view, int64_t> states[] = {{"queued", stats->queued},
                                                           {"running", stats->running},
                                                           {"completed", stats->completed},
                                                           {"failed", stats->failed},
                                                           {"cancelled", stats->cancelled}};
    for (const auto& [state, count] : states) {
      writer.Sample("open_notebook_jobs", Labels{{{"state", state}}}, static_cast<double>(count));
    }
    writer.Family("open_notebook_job_queue_depth", "Jobs waiting for a worker.", "gauge");
    writer.Sample("open_notebook_job_queue_depth", static_cast<double>(stats->queued));
    writer.Family("open_notebook_job_oldest_queued_age_seconds",
                  "How long the oldest queued job has waited; 0 when none waits.", "gauge");
    double oldest = 0;
    if (stats->oldest_queued_created) oldest = SecondsSince(*stats->oldest_queued_created, now).value_or(0);
    writer.Sample("open_notebook_job_oldest_queued_age_seconds", std::max(0.0, oldest));
  }

  auto workers = context.storage().jobs().ListWorkers();
  if (workers.ok()) {
    writer.Family("open_notebook_workers_live", "Workers whose heartbeat is younger than their lease.", "gauge");
    writer.Sample("open_notebook_workers_live", static_cast<double>(jobs::LiveWorkers(*workers, now).size()));
    // One value rather than one series per worker, because worker ids change with every restart.
    std::optional<double> freshest;
    for (const auto& worker : *workers) {
      auto age = SecondsSince(worker.heartbeat_at, now);
      if (age && (!freshest || *age < *freshest)) freshest = *age;
    }
    if (freshest) {
      writer.Family("open_notebook_worker_heartbeat_age_seconds",
                    "Age of the most recent heartbeat of any registered worker.", "gauge");
      writer.Sample("open_notebook_worker_heartbeat_age_seconds", std::max(0.0, *freshest));
    }
  }
}

void WriteDiskMetrics(const Settings& settings, metrics::ExpositionWriter& writer) {
  struct statvfs disk {};
  if (statvfs(settings.data_dir.c_str(), &disk) != 0) return;
  const double unit = static_cast<double>(disk.f_frsize);
  writer.Family("open_notebook_data_dir_free_bytes", "Bytes available to this process on the data directory's disk.",
                "gauge");
  writer.Sample("open_notebook_data_dir_free_bytes", static_cast<double>(disk.f_bavail) * unit);
  writer.Family("open_notebook_data_dir_size_bytes", "Size of the data directory's disk in bytes.", "gauge");
  writer.Sample("open_notebook_data_dir_size_bytes", static_cast<double>(disk.f_blocks) * unit);
}

Result<http::Response> Metrics(AppContext& context, http::Request&) {
  metrics::ExpositionWriter writer;
  writer.Family("open_notebook_build_info", "Always 1; the version label names the running build.", "gauge");
  writer.Sample("open_notebook_build_info", Labels{{{"version", ON_VERSION}}}, 1);
  writer.Family("open_notebook_ready", "1 when the database is open and requests are served, else 0.", "gauge");
  writer.Sample("open_notebook_ready", context.ready() ? 1 : 0);

  metrics::DefaultRegistry().Write(writer);
  if (context.ready()) WriteJobMetrics(context, writer);
  WriteDiskMetrics(*context.settings(), writer);
  metrics::WriteProcessMetrics(writer);

  http::Response response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = writer.Take();
  return response;
}

}  // namespace

void RegisterMetricsRoutes(http::Router& router, AppContext& context) {
  router.Add("GET", "/metrics", Bind(context, Metrics));
}

}  // namespace on::api
