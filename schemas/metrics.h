// A small metrics registry rendered in the Prometheus text format. Counters are atomics
// handed out once at startup (lookup by name is not on the hot path); gauges are callbacks
// read at scrape time. Thread-safe. Serving it over HTTP is each component's business.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

namespace blackbox {

class Metrics {
 public:
  // Registers (or finds) a counter. `name` may carry labels: `rejects_total{reason="crc"}`;
  // series of one base name share `help`. The reference stays valid for the registry's life.
  std::atomic<std::uint64_t>& counter(const std::string& name, const std::string& help);

  // Registers a gauge whose value is read by calling `read` at render time.
  void gauge(const std::string& name, const std::string& help, std::function<double()> read);

  // Prometheus text exposition format 0.0.4, series in registration order.
  std::string render() const;

 private:
  struct Series {
    std::string name, help;
    bool is_counter;
    std::atomic<std::uint64_t> value{0};
    std::function<double()> read;
  };
  mutable std::mutex mu_;
  std::deque<Series> series_;  // deque: stable addresses
};

}  // namespace blackbox
