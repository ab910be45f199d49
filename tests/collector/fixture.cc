#include "tests/collector/fixture.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace blackbox::collector::testing {

Config test_config(const std::string& data_dir) {
  Config c;
  c.collector.data_dir = data_dir;
  c.collector.listen = "127.0.0.1:0";
  c.collector.log_level = "warn";
  c.collector.io_threads = 2;
  c.server.hello_timeout_ms = 3000;
  c.server.idle_timeout_ms = 5000;
  c.server.frame_timeout_ms = 3000;
  c.server.write_timeout_ms = 5000;
  c.server.drain_timeout_ms = 2000;
  c.storage.block_cache_bytes = 8u << 20;
  c.storage.write_buffer_bytes = 8u << 20;
  c.lifecycle.silent_check_interval_ms = 50;
  return c;
}

RunningCollector::RunningCollector(const Config& config, const Clock* clock) {
  auto c = Collector::open(config, clock);
  if (!c) return;
  collector_ = std::move(*c);
  auto port = collector_->listen();
  if (!port) return;
  port_ = *port;
  thread_ = std::thread([this] { collector_->run(); });
}

void RunningCollector::stop() {
  if (collector_ && thread_.joinable()) {
    collector_->stop();
    thread_.join();
  }
}

RunningCollector::~RunningCollector() {
  stop();
  collector_.reset();
}

std::size_t rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream ss(line.substr(6));
      std::size_t kb = 0;
      ss >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

}  // namespace blackbox::collector::testing
