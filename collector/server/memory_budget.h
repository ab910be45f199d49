// MemoryBudget: the collector's bound on frame bytes held in memory at once (contract 4), across
// all connections and per connection. A session leases a frame's length before allocating its
// payload and the lease goes back when the writer is done with the batch; when the budget is
// spent the session stops reading its socket (TCP backpressure to the agent) until bytes come
// back. A budget may have a parent (the per-connection budget's parent is the global one): a
// lease takes its bytes from both, and gives them back to both.
//
// Thread-safe. A budget must outlive its leases and its children.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

namespace blackbox::collector {

class MemoryBudget {
 public:
  // Bytes taken from a budget (and its parents) until destroyed or reset(). Move-only.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept : budget_(o.budget_), bytes_(o.bytes_) { o.budget_ = nullptr; }
    Lease& operator=(Lease&& o) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { reset(); }

    // Gives the bytes back now (waking waiters); the lease is then empty.
    void reset();
    std::size_t bytes() const { return budget_ ? bytes_ : 0; }

   private:
    friend class MemoryBudget;
    Lease(MemoryBudget* budget, std::size_t bytes) : budget_(budget), bytes_(bytes) {}
    MemoryBudget* budget_ = nullptr;
    std::size_t bytes_ = 0;
  };

  // `parent`, if not null, must outlive this budget.
  explicit MemoryBudget(std::size_t capacity, MemoryBudget* parent = nullptr)
      : capacity_(capacity), parent_(parent) {}

  // Takes `n` bytes from this budget and every parent if they fit everywhere; otherwise takes
  // nothing, registers `wake` with the budget that is full (called once, from the thread that
  // next gives bytes back to it, or from wake_all()) and returns nullopt: the caller retries
  // when woken. `wake` must only post work, never block. A lease over the whole capacity is
  // granted when nothing is leased, so that one frame larger than a cap cannot wait forever.
  [[nodiscard]] std::optional<Lease> try_lease(std::size_t n, std::function<void()> wake);

  // The unguarded form of try_lease for this budget alone (no parent): true if the `n` bytes
  // were taken, which release(n) must give back.
  bool acquire_or_wait(std::size_t n, std::function<void()> wake);
  void release(std::size_t n);
  // Wakes every waiter (shutdown).
  void wake_all();

  std::size_t used() const;
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  MemoryBudget* const parent_;
  mutable std::mutex mu_;
  std::size_t used_ = 0;
  std::vector<std::function<void()>> waiters_;
};

}  // namespace blackbox::collector
