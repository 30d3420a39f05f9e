#include "storage/postgres/notification_listener.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <spdlog/spdlog.h>

namespace on::storage::postgres {

NotificationListener::NotificationListener(ListenerOptions options, NotificationHandler on_notification,
                                           std::function<void()> on_connected)
    : options_(std::move(options)),
      on_notification_(std::move(on_notification)),
      on_connected_(std::move(on_connected)) {}

NotificationListener::~NotificationListener() {
  Stop();
  for (int fd : wake_) {
    if (fd >= 0) close(fd);
  }
}

Status NotificationListener::Start() {
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return InternalError("creating the wake-up pipe of the PostgreSQL listener failed: errno " + std::to_string(errno));
  }
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void NotificationListener::Stop() {
  std::lock_guard lock(stop_mutex_);
  stopping_.store(true, std::memory_order_release);
  if (wake_[1] >= 0) {
    const char byte = 1;
    // A full pipe already contains a wake-up, so a failed write loses nothing.
    (void)!write(wake_[1], &byte, 1);
  }
  if (thread_.joinable()) thread_.join();
}

bool NotificationListener::WaitForStop(std::chrono::milliseconds timeout) {
  pollfd wake{wake_[0], POLLIN, 0};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!stopping()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    (void)poll(&wake, 1, static_cast<int>(left.count()));
  }
  return true;
}

void NotificationListener::Loop() {
  auto delay = options_.reconnect_initial_delay;
  int failures = 0;
  while (!stopping()) {
    auto opened = Connection::Open(options_.connection);
    std::string script;
    for (std::string_view channel : options_.channels) script += "LISTEN " + std::string(channel) + ";";
    Status listening = opened.ok() ? (*opened)->Execute(script) : opened.status();
    if (listening.ok()) {
      if (failures > 0) spdlog::info("listening for PostgreSQL notifications again after {} failed attempts", failures);
      failures = 0;
      delay = options_.reconnect_initial_delay;
      // Notifications of changes committed while no connection listened are lost. The flags are
      // set after the callback, so a thread that reads them also sees its effects.
      on_connected_();
      backend_pid_.store((*opened)->BackendPid(), std::memory_order_release);
      connected_.store(true, std::memory_order_release);
      Listen(**opened);
      connected_.store(false, std::memory_order_release);
      backend_pid_.store(0, std::memory_order_release);
      // A short pause keeps a server that accepts connections and closes them at once from being
      // flooded. A server that is down gets the growing backoff below.
      if (WaitForStop(options_.reconnect_initial_delay)) return;
      continue;
    }

    // One warning per outage, because the attempts after it would repeat it every few seconds.
    if (failures++ == 0) {
      spdlog::warn("cannot listen for PostgreSQL notifications, retrying with backoff; meanwhile workers and "
                   "settings fall back to polling: {}", listening.message());
    } else {
      spdlog::debug("listening for PostgreSQL notifications failed again (attempt {}): {}", failures,
                    listening.message());
    }
    if (WaitForStop(delay)) return;
    delay = std::min(delay * 2, options_.reconnect_max_delay);
  }
}

void NotificationListener::Listen(Connection& connection) {
  for (;;) {
    pollfd descriptors[2] = {{connection.Socket(), POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (descriptors[0].fd < 0) return;
    const int ready = poll(descriptors, 2, -1);
    if (stopping()) return;
    if (ready < 0) {
      if (errno == EINTR) continue;
      spdlog::warn("waiting for PostgreSQL notifications failed: errno {}; reconnecting", errno);
      return;
    }
    if (descriptors[0].revents == 0) continue;

    auto received = connection.ReadNotifications();
    if (!received.ok()) {
      spdlog::warn("the connection listening for PostgreSQL notifications closed, reconnecting: {}",
                   received.status().message());
      return;
    }
    for (const Notification& notification : *received) on_notification_(notification);
  }
}

}  // namespace on::storage::postgres
