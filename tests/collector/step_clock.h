// A clock collector tests move by hand (retention, silence): read by the collector's writer,
// silence-tick and compaction threads, so the time is an atomic.
#pragma once

#include <atomic>
#include <cstdint>

#include "schemas/clock.h"

namespace blackbox::collector::testing {

class StepClock final : public Clock {
 public:
  explicit StepClock(std::int64_t start_ns) : now_(start_ns) {}
  std::int64_t wall_ns() const override { return now_.load(); }
  std::int64_t steady_ns() const override { return now_.load(); }
  void advance(std::int64_t ns) { now_.fetch_add(ns); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace blackbox::collector::testing
