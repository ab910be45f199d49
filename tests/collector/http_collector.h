// Test fixture: a real collector (loopback TCP, RocksDB in a temp dir) with its real HTTP query
// API on 127.0.0.1:0, both on a clock the test moves (StepClock), for tests that look at what
// the API and /metrics answer.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "collector/http/collector_http.h"
#include "collector/http/http_server.h"
#include "query/client/http_client.h"
#include "tests/collector/fixture.h"
#include "tests/collector/step_clock.h"

namespace blackbox::collector::testing {

class HttpCollectorTest : public ::testing::Test {
 protected:
  static constexpr std::int64_t kStartNs = 1'795'000'000'000'000'000;  // 2026-11-18

  // Starts the collector with test_config() changed by `tweak`, and its HTTP API.
  void start(const std::function<void(Config&)>& tweak = {}) {
    config_ = test_config(dir_.sub("db"));
    config_.collector.http = "127.0.0.1:0";
    if (tweak) tweak(config_);
    collector_ = std::make_unique<RunningCollector>(config_, &clock_);
    ASSERT_TRUE(collector_->ok());
    auto http = http::start_http_server(collector_->collector());
    ASSERT_TRUE(http && *http);
    http_ = std::move(*http);
  }
  void TearDown() override {
    // The collector's shutdown stops the HTTP server (start_http_server registers it), which
    // must still exist then; the store it reads goes with the collector, after it.
    if (collector_) collector_->stop();
    http_.reset();
    collector_.reset();
  }

  Store& store() { return collector_->collector().store(); }
  std::uint16_t port() const { return collector_->port(); }

  // GET `target` from the API; the body of a 200 answer, "" (and a test failure) otherwise.
  std::string get_body(const std::string& target) {
    blackbox::query::HttpClient client({"127.0.0.1", http_->port(), ""});
    auto res = client.get(target, std::chrono::seconds(60));
    EXPECT_TRUE(res) << res.error().message();
    if (!res) return "";
    EXPECT_EQ(res->status, 200u) << res->body;
    return res->status == 200u ? res->body : "";
  }

  TempDir dir_;
  StepClock clock_{kStartNs};
  Config config_;
  std::unique_ptr<RunningCollector> collector_;
  std::unique_ptr<http::HttpServer> http_;
};

}  // namespace blackbox::collector::testing
