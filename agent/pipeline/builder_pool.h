// Recycles BatchBuilders between the input and sealer threads so that their ~1 MiB buffers
// are allocated once, not per batch. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "schemas/batch.h"

namespace blackbox::agent {

class BuilderPool {
 public:
  std::unique_ptr<BatchBuilder> get() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return std::make_unique<BatchBuilder>();
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void put(std::unique_ptr<BatchBuilder> b) {
    if (!b) return;
    b->clear();
    std::lock_guard lock(mu_);
    if (free_.size() < kMaxFree) free_.push_back(std::move(b));
  }

 private:
  static constexpr std::size_t kMaxFree = 2;
  std::mutex mu_;
  std::vector<std::unique_ptr<BatchBuilder>> free_;
};

}  // namespace blackbox::agent
