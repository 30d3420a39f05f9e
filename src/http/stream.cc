#include "http/stream.h"

#include <nlohmann/json.hpp>

namespace on::http {

bool StreamWriter::Write(std::string data) { return channel_->Write(std::move(data)); }

bool StreamWriter::closed() const { return channel_->closed(); }

void StreamWriter::OnClose(std::function<void()> callback) { channel_->OnClose(std::move(callback)); }

void StreamChannel::SetNotify(std::function<void()> notify) {
  std::lock_guard lock(mutex_);
  notify_ = std::move(notify);
}

std::string StreamChannel::Take(bool* finished) {
  std::lock_guard lock(mutex_);
  *finished = finished_;
  std::string taken;
  taken.swap(queued_);
  return taken;
}

void StreamChannel::Finish() {
  std::function<void()> notify;
  {
    std::lock_guard lock(mutex_);
    finished_ = true;
    notify = notify_;
  }
  if (notify) notify();
}

bool StreamChannel::Write(std::string data) {
  std::function<void()> notify;
  bool overflow = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    if (queued_.size() + data.size() > StreamWriter::kMaxQueuedBytes) {
      overflow = true;
    } else {
      queued_ += data;
      notify = notify_;
    }
  }
  if (overflow) {
    // The client stopped reading: give up on it rather than buffer without bound.
    Close();
    return false;
  }
  if (notify) notify();
  return true;
}

bool StreamChannel::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

void StreamChannel::OnClose(std::function<void()> callback) {
  {
    std::lock_guard lock(mutex_);
    if (!closed_) {
      close_callbacks_.push_back(std::move(callback));
      return;
    }
  }
  callback();
}

void StreamChannel::Close() {
  std::vector<std::function<void()>> callbacks;
  std::function<void()> notify;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    queued_.clear();
    callbacks.swap(close_callbacks_);
    notify = notify_;
  }
  for (auto& callback : callbacks) callback();
  if (notify) notify();
}

std::string SseEvent(const nlohmann::json& value) {
  // dump() escapes control characters, so the JSON is one line and cannot end the event early.
  return "data: " + value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

}  // namespace on::http
