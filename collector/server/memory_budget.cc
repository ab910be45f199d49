#include "collector/server/memory_budget.h"

namespace blackbox::collector {

MemoryBudget::Lease& MemoryBudget::Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    reset();
    budget_ = o.budget_;
    bytes_ = o.bytes_;
    o.budget_ = nullptr;
  }
  return *this;
}

void MemoryBudget::Lease::reset() {
  MemoryBudget* b = budget_;
  budget_ = nullptr;
  for (; b != nullptr; b = b->parent_) b->release(bytes_);
}

std::optional<MemoryBudget::Lease> MemoryBudget::try_lease(std::size_t n,
                                                           std::function<void()> wake) {
  if (!acquire_or_wait(n, wake)) return std::nullopt;
  if (parent_ != nullptr) {
    auto up = parent_->try_lease(n, std::move(wake));
    if (!up) {
      release(n);
      return std::nullopt;
    }
    up->budget_ = nullptr;  // from here on this lease gives the parent's bytes back too
  }
  return Lease(this, n);
}

bool MemoryBudget::acquire_or_wait(std::size_t n, std::function<void()> wake) {
  std::lock_guard lock(mu_);
  if (used_ + n <= capacity_ || used_ == 0) {
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
