#include "collector/query/scan_pool.h"

#include <atomic>

namespace blackbox::collector::query {

struct ScanPool::Job {
  std::size_t n = 0;
  const std::function<void(std::size_t, std::size_t)>* task = nullptr;
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;  // guarded by mu
  std::mutex mu;
  std::condition_variable finished;
};

ScanPool::ScanPool(unsigned helpers) {
  for (unsigned i = 0; i < helpers; ++i) helpers_.emplace_back([this, i] { helper_loop(i + 1); });
}

ScanPool::~ScanPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : helpers_) t.join();
}

void ScanPool::work(Job& job, std::size_t slot) {
  std::size_t ran = 0;
  for (std::size_t i = job.next.fetch_add(1); i < job.n; i = job.next.fetch_add(1)) {
    (*job.task)(i, slot);
    ++ran;
  }
  if (ran == 0) return;
  std::lock_guard lock(job.mu);
  job.done += ran;
  if (job.done == job.n) job.finished.notify_all();
}

void ScanPool::helper_loop(std::size_t slot) {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = jobs_.front();
      // A job stays queued while it has unclaimed tasks, so that every helper may join it.
      if (job->next.load() >= job->n) {
        jobs_.pop_front();
        continue;
      }
    }
    work(*job, slot);
  }
}

void ScanPool::parallel_for(std::size_t n,
                            const std::function<void(std::size_t, std::size_t)>& task) {
  if (n == 0) return;
  if (helpers_.empty() || n == 1) {
    for (std::size_t i = 0; i < n; ++i) task(i, 0);
    return;
  }
  auto job = std::make_shared<Job>();
  job->n = n;
  job->task = &task;
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(job);
  }
  cv_.notify_all();
  work(*job, 0);
  std::unique_lock lock(job->mu);
  job->finished.wait(lock, [&] { return job->done == job->n; });
  std::lock_guard queue_lock(mu_);
  std::erase(jobs_, job);
}

}  // namespace blackbox::collector::query
