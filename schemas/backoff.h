// Exponential backoff with full jitter (AWS architecture blog's "full jitter"): the n-th
// delay is uniform in [min, min(max, min·2^n)]. Deterministic for a given seed.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace blackbox {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, std::uint64_t seed)
      : min_(min), max_(max), rng_(seed) {}

  std::chrono::milliseconds next() {
    const auto cap = std::min<std::int64_t>(
        max_.count(), min_.count() << std::min<std::uint32_t>(attempt_, 20));
    ++attempt_;
    std::uniform_int_distribution<std::int64_t> dist(min_.count(), std::max(cap, min_.count()));
    return std::chrono::milliseconds(dist(rng_));
  }
  void reset() { attempt_ = 0; }
  std::uint32_t attempts() const { return attempt_; }

 private:
  std::chrono::milliseconds min_, max_;
  std::mt19937_64 rng_;
  std::uint32_t attempt_ = 0;
};

}  // namespace blackbox
