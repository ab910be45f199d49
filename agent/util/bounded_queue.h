// A small blocking FIFO with a capacity, for handing work between the agent's threads.
// push() waits while the queue is full; pop() while it is empty; close() wakes everyone:
// pushes then fail and pops drain what is left. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace blackbox::agent {

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

  // False when the queue was closed (the item is dropped: the caller is shutting down).
  bool push(T item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Waits until `deadline` at most: false (item dropped) on timeout or when closed.
  template <class Clock, class Duration>
  bool push_until(T item, std::chrono::time_point<Clock, Duration> deadline) {
    std::unique_lock lock(mu_);
    if (!not_full_.wait_until(lock, deadline, [&] { return closed_ || items_.size() < capacity_; }))
      return false;
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Never waits: false (item untouched) when full or closed.
  bool try_push(T& item) {
    std::lock_guard lock(mu_);
    if (closed_ || items_.size() >= capacity_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Waits up to `timeout` for an item; nullopt on timeout or when closed and empty.
  template <class Rep, class Period>
  std::optional<T> pop_for(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mu_);
    if (!not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); }))
      return std::nullopt;
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  // Moves out everything queued (at least one item, waiting up to `timeout`).
  template <class Rep, class Period>
  std::size_t pop_all_for(std::vector<T>& out, std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mu_);
    not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
    std::size_t n = items_.size();
    for (auto& item : items_) out.push_back(std::move(item));
    items_.clear();
    not_full_.notify_all();
    return n;
  }

  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_;
  }

  bool empty() const {
    std::lock_guard lock(mu_);
    return items_.empty();
  }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace blackbox::agent
