#include "collector/config.h"

#include <gtest/gtest.h>

namespace blackbox::collector {
namespace {

TEST(Config, DefaultsAreValid) { EXPECT_TRUE(validate(Config{}).empty()); }

TEST(Config, ShippedExampleParsesToTheDefaults) {
  std::vector<std::string> problems;
  auto c = load_config_file(BLACKBOX_SOURCE_DIR "/collector/blackbox-collector.toml", problems);
  ASSERT_TRUE(c) << (problems.empty() ? "" : problems[0]);
  const Config d;
  EXPECT_EQ(c->collector.listen, d.collector.listen);
  EXPECT_EQ(c->server.idle_timeout_ms, d.server.idle_timeout_ms);
  EXPECT_EQ(c->server.max_inflight_bytes, d.server.max_inflight_bytes);
  EXPECT_EQ(c->limits.max_frame_bytes, d.limits.max_frame_bytes);
  EXPECT_EQ(c->storage.max_group_bytes, d.storage.max_group_bytes);
  EXPECT_EQ(c->lifecycle.silent_after_ms, d.lifecycle.silent_after_ms);
  EXPECT_TRUE(validate(*c).empty());
}

TEST(Config, ParsesEverySection) {
  std::vector<std::string> problems;
  auto c = parse_config(R"(
[collector]
data_dir = "/data"
listen = "127.0.0.1:0"
http = "[::1]:8787"
io_threads = 4
[server]
idle_timeout_ms = 1000
[limits]
max_frame_bytes = 1048576
[storage]
retention = "30d"
legal_hold = ["i-1", "i-2"]
sync_writes = false
[lifecycle]
silent_after_ms = 5000
)",
                        "test.toml", problems);
  ASSERT_TRUE(c) << (problems.empty() ? "" : problems[0]);
  EXPECT_EQ(c->collector.data_dir, "/data");
  EXPECT_EQ(c->collector.io_threads, 4u);
  EXPECT_EQ(c->storage.legal_hold.size(), 2u);
  EXPECT_FALSE(c->storage.sync_writes);
  EXPECT_EQ(retention_ns(*c), 30LL * 24 * 3600 * 1'000'000'000);
  EXPECT_TRUE(validate(*c).empty());
  auto so = server_options(*c);
  EXPECT_EQ(so.port, 0);
  EXPECT_EQ(so.limits.max_frame_bytes, 1048576u);
}

TEST(Config, ReportsEveryProblemAtOnce) {
  std::vector<std::string> problems;
  auto c = parse_config("[collector]\nlisten = 5\nbogus = 1\n[nope]\n", "t", problems);
  EXPECT_FALSE(c);
  EXPECT_EQ(problems.size(), 3u);
  Config bad;
  bad.collector.listen = "nohost";
  bad.collector.log_level = "loud";
  bad.storage.retention = "forever";
  EXPECT_EQ(validate(bad).size(), 3u);
}

TEST(Config, HostPort) {
  std::string h;
  std::uint16_t p = 1;
  EXPECT_TRUE(split_host_port("0.0.0.0:7700", h, p));
  EXPECT_EQ(h, "0.0.0.0");
  EXPECT_EQ(p, 7700);
  EXPECT_TRUE(split_host_port("[::1]:0", h, p));
  EXPECT_EQ(h, "::1");
  EXPECT_FALSE(split_host_port("host:99999", h, p));
  EXPECT_FALSE(split_host_port(":80", h, p));
}

}  // namespace
}  // namespace blackbox::collector
