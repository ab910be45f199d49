#include "agent/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "agent/identity.h"
#include "tests/agent/support/temp_dir.h"
#include "tests/support/child_process.h"

namespace blackbox::agent {
namespace {

using testing::TempDir;

TEST(Config, ParsesEverySection) {
  std::vector<std::string> problems;
  auto c = parse_config(R"(
[agent]
instance_id = "i-1"
state_dir = "/tmp/x"
metrics_listen = ""
[files]
paths = ["/var/log/*.log", "/srv/app.log"]
read_from = "end"
max_line_bytes = "4KiB"
parse_json = false
[spool]
fsync = "interval"
max_bytes = "1GiB"
[ship]
collectors = ["c1:7000", "c2:7000"]
shutdown_deadline = "5s"
)",
                        "test", problems);
  ASSERT_TRUE(c) << (problems.empty() ? "" : problems[0]);
  EXPECT_EQ(c->agent.instance_id, "i-1");
  EXPECT_EQ(c->files.paths.size(), 2u);
  EXPECT_EQ(c->files.read_from, "end");
  EXPECT_FALSE(c->files.parse_json);
  EXPECT_EQ(fsync_policy(*c), FsyncPolicy::kInterval);
  EXPECT_EQ(c->ship.collectors[1], "c2:7000");
  EXPECT_EQ(c->spool_dir(), "/tmp/x/spool");
  EXPECT_TRUE(validate(*c).empty());
}

TEST(Config, UnknownKeysAndWrongTypesAreErrors) {
  std::vector<std::string> problems;
  auto c =
      parse_config("[files]\npathz = []\nmax_line_bytes = \"big\"\n[nope]\n", "test", problems);
  EXPECT_FALSE(c);
  EXPECT_EQ(problems.size(), 3u);
  problems.clear();
  EXPECT_FALSE(parse_config("[agent\n", "test", problems));
  EXPECT_EQ(problems.size(), 1u);
}

TEST(Config, ValidateReportsEveryProblemAtOnce) {
  Config c;
  c.files.read_from = "middle";
  c.spool.fsync = "sometimes";
  c.agent.metrics_listen = "nowhere";
  auto problems = validate(c);
  // no files, no collector, read_from, fsync, metrics_listen
  EXPECT_EQ(problems.size(), 5u);
}

TEST(Config, TheExampleFileDocumentsTheDefaults) {
  std::vector<std::string> problems;
  auto c = load_config_file(BLACKBOX_AGENT_EXAMPLE_CONFIG, problems);
  ASSERT_TRUE(c) << (problems.empty() ? "" : problems[0]);
  Config d;
  EXPECT_EQ(c->agent.state_dir, d.agent.state_dir);
  EXPECT_EQ(c->agent.metrics_listen, d.agent.metrics_listen);
  EXPECT_EQ(c->files.max_line_bytes, d.files.max_line_bytes);
  EXPECT_EQ(c->files.partial_line_timeout_ms, d.files.partial_line_timeout_ms);
  EXPECT_EQ(c->files.rotate_wait_ms, d.files.rotate_wait_ms);
  EXPECT_EQ(c->spool.segment_bytes, d.spool.segment_bytes);
  EXPECT_EQ(c->spool.max_bytes, d.spool.max_bytes);
  EXPECT_EQ(c->spool.fsync, d.spool.fsync);
  EXPECT_EQ(c->spool.batch_bytes, d.spool.batch_bytes);
  EXPECT_EQ(c->spool.batch_linger_ms, d.spool.batch_linger_ms);
  EXPECT_EQ(c->ship.window_batches, d.ship.window_batches);
  EXPECT_EQ(c->ship.heartbeat_interval_ms, d.ship.heartbeat_interval_ms);
  EXPECT_EQ(c->ship.shutdown_deadline_ms, d.ship.shutdown_deadline_ms);
  EXPECT_EQ(validate(*c).size(), 2u);  // only the two lists the operator must fill in
  c->files.paths = {"/var/log/app/*.log"};
  c->ship.collectors = {"collector:7070"};
  EXPECT_TRUE(validate(*c).empty());
}

TEST(Config, TheExampleFileDocumentsEveryKeyWithItsDefault) {
  Config defaults;
  const auto problems =
      config::example_problems(blackbox::testing::read_file(BLACKBOX_AGENT_EXAMPLE_CONFIG),
                               BLACKBOX_AGENT_EXAMPLE_CONFIG, config_keys(defaults));
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
}

TEST(Config, DurationsAndSizesNeedTheirUnit) {
  std::vector<std::string> problems;
  auto c = parse_config("[ship]\nack_timeout = \"30\"\n[spool]\nsegment_bytes = \"16\"\n", "t",
                        problems);
  EXPECT_FALSE(c);
  ASSERT_EQ(problems.size(), 2u);
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  EXPECT_NE(all.find("ship.ack_timeout: \"30\" has no unit: write \"30s\""), std::string::npos)
      << all;
  EXPECT_NE(all.find("spool.segment_bytes: \"16\" has no unit: write \"16B\""), std::string::npos)
      << all;
}

// Issue 12 item 2: ship.auth defaults to "key" when an enrollment secret file is set.
TEST(Config, ShipAuthDefaultsFromTheCredentialsGiven) {
  ShipSection s;
  EXPECT_EQ(effective_auth(s), "none");
  s.token_file = "/etc/blackbox/token";
  EXPECT_EQ(effective_auth(s), "token");
  s.enrollment_secret_file = "/etc/blackbox/enroll.secret";
  EXPECT_EQ(effective_auth(s), "key");
  s.auth = "token";
  EXPECT_EQ(effective_auth(s), "token");
  Config c;
  c.ship.collectors = {"127.0.0.1:7700"};
  c.files.paths = {"/var/log/x.log"};
  c.ship.auth = "password";
  c.ship.token = "t";
  c.ship.token_file = "/f";
  const auto problems = validate(c);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("ship.auth must be"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("not both"), std::string::npos) << problems[1];
}

TEST(Identity, ConfigThenCloudInitThenMachineId) {
  TempDir dir;
  std::ofstream(dir / "cloud") << "i-0abc123\n";
  std::ofstream(dir / "machine") << "0123456789abcdef0123456789abcdef\n";
  std::ofstream(dir / "image") << "ami-42\n";
  std::ofstream(dir / "boot") << "b00t\n";
  IdentitySources src{"", dir / "cloud", dir / "machine", "", dir / "image", dir / "boot"};
  std::string problem;
  auto id = resolve_identity(src, problem);
  ASSERT_TRUE(id) << problem;
  EXPECT_EQ(id->instance_id, "i-0abc123");
  EXPECT_EQ(id->image_id, "ami-42");
  EXPECT_EQ(id->boot_id, "b00t");
  EXPECT_FALSE(id->hostname.empty());

  src.cloud_instance_id_file = dir / "missing";
  EXPECT_EQ(resolve_identity(src, problem)->instance_id, "0123456789abcdef0123456789abcdef");
  src.instance_id = "from-config";
  EXPECT_EQ(resolve_identity(src, problem)->instance_id, "from-config");
  src.instance_id = "has space";
  EXPECT_FALSE(resolve_identity(src, problem));
  src.instance_id = "";
  src.machine_id_file = dir / "missing";
  EXPECT_FALSE(resolve_identity(src, problem));
  EXPECT_NE(problem.find("instance_id"), std::string::npos);
}

}  // namespace
}  // namespace blackbox::agent
