// Receives PostgreSQL notifications (LISTEN/NOTIFY) on a connection of its own, on a thread of its own.
//
// Several processes on several hosts share one database, and in-process signals (a condition
// variable after a submit, a cache counter after a write) reach none of the others. Migration 0009
// makes every committed change send a notification, and this listener hands each one to a
// callback in every process.
//
// The connection is not one of the pool's: it sits in LISTEN for the life of the process. When
// the server closes it (restart, terminated backend) the listener reconnects with backoff.
// Notifications sent while no connection listened are lost, so after every (re)connect the
// listener calls on_connected, and its owner treats everything as changed.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/postgres/connection.h"

namespace on::storage::postgres {

// The channels of migration 0009 (change_notifications). A payload is empty unless noted.
// Any row of any table changed.
inline constexpr std::string_view kDataChannel = "on_data";
// A job became queued: inserted, retried, released or requeued after its lease expired.
inline constexpr std::string_view kJobQueuedChannel = "on_job_queued";
// Cancellation of a running job was requested; the payload is the job id.
inline constexpr std::string_view kJobCancelChannel = "on_job_cancel";
// The configuration version rose (BumpConfigVersion); the payload is the new version.
inline constexpr std::string_view kConfigChannel = "on_config";

struct ListenerOptions {
  ConnectionOptions connection;
  std::vector<std::string_view> channels;
  // Pauses between connection attempts: doubling from the first to the largest.
  std::chrono::milliseconds reconnect_initial_delay{100};
  std::chrono::milliseconds reconnect_max_delay{5000};
};

class NotificationListener {
 public:
  using NotificationHandler = std::function<void(const Notification&)>;

  // `on_notification` runs for each notification and `on_connected` after each connect, once
  // LISTEN is in effect. Both run on the listener's thread and must return quickly.
  NotificationListener(ListenerOptions options, NotificationHandler on_notification,
                       std::function<void()> on_connected);
  // Calls Stop().
  ~NotificationListener();
  NotificationListener(const NotificationListener&) = delete;
  NotificationListener& operator=(const NotificationListener&) = delete;

  // Starts the thread, which connects in the background; kInternal when the wake-up pipe cannot
  // be created. Call once.
  Status Start();
  // Ends the thread. Returns at once while it waits for the server, and within the connect
  // time-out while it connects. Safe to call twice.
  void Stop();

  // True while a connection listens. While false, notifications may be lost.
  bool connected() const { return connected_.load(std::memory_order_acquire); }
  // The server process id of the listening connection; 0 while none listens.
  int backend_pid() const { return backend_pid_.load(std::memory_order_acquire); }

 private:
  void Loop();
  // Listens on one connection until it fails or Stop() is called.
  void Listen(Connection& connection);
  // Waits for `timeout` or until Stop(); returns true on Stop().
  bool WaitForStop(std::chrono::milliseconds timeout);
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  const ListenerOptions options_;
  const NotificationHandler on_notification_;
  const std::function<void()> on_connected_;
  // Stop() writes a byte to wake_[1]; the thread polls wake_[0] beside the connection's socket.
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<int> backend_pid_{0};
  std::mutex stop_mutex_;  // serializes Stop() calls
  std::thread thread_;
};

}  // namespace on::storage::postgres
