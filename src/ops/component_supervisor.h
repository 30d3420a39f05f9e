// Supervision of the components `serve` runs inside its own process (today the job worker).
//
// `serve` keeps the worker in-process as threads instead of child processes: job metrics, the
// command registry and the storage are shared with the API, and `make run` stays one process.
// So "restarting the worker" means stopping the failed jobs::Worker (its running jobs finish or go
// back to the queue) and starting a new one. The process as a whole, and so the API, is restarted
// by the outer supervisor: systemd (Restart=) or supervisord (autorestart) in deploy/.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"

namespace on::ops {

// Delays between restarts of a component: `initial` after the first failure, doubling with each
// failure in a row up to `max`, and `initial` again once a run lasted at least `stable_after`.
struct RestartBackoff {
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{30000};
  std::chrono::milliseconds stable_after{60000};

  // Returns the delay before the next start, given the delay before the run that just ended
  // (zero for the first run) and how long that run lasted (zero when it failed to start).
  std::chrono::milliseconds Next(std::chrono::milliseconds previous, std::chrono::milliseconds ran_for) const;
};

// A part of the process that can fail on its own and be replaced by a new instance.
class SupervisedComponent {
 public:
  virtual ~SupervisedComponent() = default;
  // Starts the component; an error means nothing of it runs.
  virtual Status Start() = 0;
  // Ok while a started component works; otherwise the error that broke it.
  virtual Status Health() const = 0;
  // Stops it, letting running work finish first. Returns false when part of it is still running
  // and the object must not be destroyed (see jobs::Worker::Stop).
  virtual bool Stop() = 0;
};

// Runs one component on a supervising thread: starts it, checks Health() every `check_interval`,
// and after a failed start or a failed health check stops it and starts a new instance after the
// RestartBackoff delay. Every failure and restart is logged with the component's name.
class ComponentSupervisor {
 public:
  using Factory = std::function<std::unique_ptr<SupervisedComponent>()>;

  ComponentSupervisor(std::string name, Factory factory, RestartBackoff backoff = {},
                      std::chrono::milliseconds check_interval = std::chrono::milliseconds(500));
  // Calls Stop().
  ~ComponentSupervisor();
  ComponentSupervisor(const ComponentSupervisor&) = delete;
  ComponentSupervisor& operator=(const ComponentSupervisor&) = delete;

  // Starts the supervising thread, which makes the first start attempt. Call once.
  void Start();

  // Stops supervising, then stops the running instance. Returns false when an instance did not
  // stop cleanly, the current one or one replaced earlier. The caller must then end the process,
  // because destroying what the component uses would break its remaining threads. Safe to call
  // twice.
  bool Stop();

  // Successful starts so far; more than one means the component was restarted.
  int starts() const;
  // True while a started instance runs.
  bool running() const;

 private:
  void Supervise();
  // Waits up to `duration`; returns false when Stop() was called.
  bool WaitUnlessStopping(std::chrono::milliseconds duration);

  const std::string name_;
  const Factory factory_;
  const RestartBackoff backoff_;
  const std::chrono::milliseconds check_interval_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;                                          // guarded by mutex_
  bool stopped_ = false;                                           // guarded by mutex_
  bool stop_result_ = true;                                        // guarded by mutex_
  int starts_ = 0;                                                 // guarded by mutex_
  std::unique_ptr<SupervisedComponent> current_;                   // guarded by mutex_
  // Instances whose Stop() returned false: destroying them would wait forever or free what their
  // threads still use, so they are kept until the process exits.
  std::vector<std::unique_ptr<SupervisedComponent>> unstoppable_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace on::ops
