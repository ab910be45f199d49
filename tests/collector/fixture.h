// Shared test fixtures: the temp dir of tests/support, and an in-process collector on
// 127.0.0.1:0 running its I/O threads in a background thread.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "collector/collector.h"
#include "collector/config.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace blackbox::collector::testing {

using blackbox::testing::TempDir;  // the one temp dir of all tests

// A config for tests: data in `dir`, port 0, short timeouts.
Config test_config(const std::string& data_dir);

class RunningCollector {
 public:
  // Opens and starts a collector; check ok() after construction.
  explicit RunningCollector(const Config& config, const Clock* clock = nullptr);
  ~RunningCollector();  // stop() and join
  bool ok() const { return collector_ != nullptr && port_ != 0; }
  std::uint16_t port() const { return port_; }
  Collector& collector() { return *collector_; }
  void stop();

 private:
  std::unique_ptr<Collector> collector_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// Polls `cond` until true or `timeout` (tests/support/child_process.h: poll_until); returns its
// last value. The default is a guard against a hang, never a pace: generous, so that a loaded
// machine passes (the agent tests' kDeadline is the same 120 s).
inline bool eventually(const std::function<bool()>& cond,
                       std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
  return blackbox::testing::poll_until(cond, timeout);
}

// Resident set size of this process, bytes.
std::size_t rss_bytes();

}  // namespace blackbox::collector::testing
