#include "collector/server/memory_budget.h"

namespace blackbox::collector {

bool MemoryBudget::acquire_or_wait(std::size_t n, std::function<void()> wake) {
  std::lock_guard lock(mu_);
  if (used_ + n <= capacity_) {
    used_ += n;
    return true;
  }
  waiters_.push_back(std::move(wake));
  return false;
}

void MemoryBudget::release(std::size_t n) {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mu_);
    used_ -= n;
    wake.swap(waiters_);
  }
  for (auto& w : wake) w();
}

void MemoryBudget::wake_all() {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mu_);
    wake.swap(waiters_);
  }
  for (auto& w : wake) w();
}

std::size_t MemoryBudget::used() const {
  std::lock_guard lock(mu_);
  return used_;
}

}  // namespace blackbox::collector
