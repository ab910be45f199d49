// MemoryBudget: the collector's bound on frame bytes held in memory at once, across all
// connections (contract 4). A session acquires a frame's length before allocating its
// payload and releases it when the writer is done with the batch; when the budget is spent
// the session stops reading its socket (TCP backpressure to the agent) until bytes come back.
// Thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

namespace blackbox::collector {

class MemoryBudget {
 public:
  explicit MemoryBudget(std::size_t capacity) : capacity_(capacity) {}

  // Takes `n` bytes and returns true if they fit; otherwise registers `wake` (called once,
  // from the thread that next releases bytes, or from wake_all()) and returns false: the
  // caller retries when woken. `wake` must only post work, never block.
  bool acquire_or_wait(std::size_t n, std::function<void()> wake);
  void release(std::size_t n);
  // Wakes every waiter (shutdown).
  void wake_all();

  std::size_t used() const;
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::size_t used_ = 0;
  std::vector<std::function<void()>> waiters_;
};

}  // namespace blackbox::collector
