#include "collector/config.h"

#include <gtest/gtest.h>

#include "tests/support/child_process.h"

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
idle_timeout = "1s"
[limits]
max_frame_bytes = "1MiB"
[storage]
retention = "30d"
legal_hold = ["i-1", "i-2"]
sync_writes = false
[lifecycle]
silent_after = "5s"
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
  bad.collector.io_threads = 0;  // (a bad retention is now refused while parsing: see below)
  EXPECT_EQ(validate(bad).size(), 3u);
}

TEST(Config, TheExampleFileDocumentsEveryKeyWithItsDefault) {
  const std::string path = BLACKBOX_SOURCE_DIR "/collector/blackbox-collector.toml";
  Config defaults;
  const auto problems =
      config::example_problems(blackbox::testing::read_file(path), path, config_keys(defaults));
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
}

TEST(Config, DurationsAndSizesNeedTheirUnit) {
  std::vector<std::string> problems;
  auto c = parse_config(
      "[storage]\nretention = \"30\"\nblock_cache_bytes = 1024\n[server]\nidle_timeout = 90\n", "t",
      problems);
  EXPECT_FALSE(c);
  ASSERT_EQ(problems.size(), 3u);
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  EXPECT_NE(all.find("storage.retention: \"30\" has no unit: write \"30s\""), std::string::npos)
      << all;
  EXPECT_NE(all.find("storage.block_cache_bytes must be a size"), std::string::npos) << all;
  EXPECT_NE(all.find("server.idle_timeout must be a duration"), std::string::npos) << all;
}

TEST(Config, CheckConfigOutputReadsBackToTheSameConfig) {
  std::vector<std::string> problems;
  Config c;
  c.storage.retention_ms = 30LL * 24 * 3600 * 1000;
  c.storage.legal_hold = {"i-1"};
  c.server.idle_timeout_ms = 1500;
  auto back = parse_config(render_config(c), "rendered", problems);
  ASSERT_TRUE(back) << ::testing::PrintToString(problems);
  EXPECT_EQ(render_config(*back), render_config(c));
  EXPECT_EQ(back->server.idle_timeout_ms, 1500u);
}

}  // namespace
}  // namespace blackbox::collector
