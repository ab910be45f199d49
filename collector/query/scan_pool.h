// ScanPool: a few threads that help one query decompress and search its batches in parallel
// (a whole-instance grep is bound by zstd; rg gets one core per file, a query may use more).
// Shared by all queries of a collector; a query that finds the helpers busy does the work on
// its own thread, so it never waits for another query. No Asio: std::thread and a condvar.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace blackbox::collector::query {

class ScanPool {
 public:
  // `helpers` threads besides the callers' own; 0 = every parallel_for runs inline.
  explicit ScanPool(unsigned helpers);
  ~ScanPool();  // joins the helpers
  ScanPool(const ScanPool&) = delete;
  ScanPool& operator=(const ScanPool&) = delete;

  // Slots a task may be given: helpers + 1 (the caller). Per-slot scratch lives in the caller.
  std::size_t width() const { return helpers_.size() + 1; }

  // Runs task(i, slot) for i in [0, n) on the calling thread and idle helpers; returns when
  // every task has finished. `slot` < width() is unique among tasks running at the same time.
  void parallel_for(std::size_t n, const std::function<void(std::size_t, std::size_t)>& task);

 private:
  struct Job;
  void helper_loop(std::size_t slot);
  static void work(Job& job, std::size_t slot);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> helpers_;
};

}  // namespace blackbox::collector::query
