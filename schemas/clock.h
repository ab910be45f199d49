// Time sources. Code that decides by time takes a Clock& so that tests can inject one
// (no sleeps in tests); production passes SystemClock.
#pragma once

#include <chrono>
#include <cstdint>

namespace blackbox {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t wall_ns() const = 0;    // ns since the Unix epoch (event times)
  virtual std::int64_t steady_ns() const = 0;  // monotonic (timeouts, intervals)
};

class SystemClock final : public Clock {
 public:
  std::int64_t wall_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::int64_t steady_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

// A clock tests move by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ns = 1'700'000'000'000'000'000) : now_(start_ns) {}
  std::int64_t wall_ns() const override { return now_; }
  std::int64_t steady_ns() const override { return now_; }
  void advance(std::chrono::nanoseconds d) { now_ += d.count(); }

 private:
  std::int64_t now_;
};

}  // namespace blackbox
