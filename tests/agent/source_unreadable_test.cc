// Sources that cannot be read (issue 10 item 4), against the real blackbox-agent: a configured
// path that is a directory, and a file the agent has no permission to open. Each is warned
// about once per episode (not once per scan), counted (gauge blackbox_agent_sources_unreadable
// and an episodes counter), shown on GET /health (condition "source_unreadable"), ended with
// an info line — and a file holding data that cannot be opened gets a gap record with its size.
//
// Tests run as root, and root reads any file whatever its mode; the permission test therefore
// runs the agent as another user (uid/gid 65534, "nobody") through setpriv(1), on a root-owned
// file of mode 0600. That the agent scanned several times in between is shown by events: files
// created under a pattern with a wildcard in its directory part (found by the glob scan only,
// never by inotify) each arrive at the peer.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "schemas/gap_body.h"
#include "schemas/record.h"
#include "schemas/streams.h"
#include "tests/agent/support/e2e_fixture.h"

namespace blackbox::agent::testing {
namespace {

constexpr uid_t kNobody = 65534;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

class SourceUnreadableTest : public AgentE2E {
 protected:
  std::string config(const std::string& first_path) {
    return write_config(
        {{"files.paths", "[\"" + first_path + "\", \"" + (dir_ / "logs/probe*/p.log") + "\"]"},
         {"agent.metrics_listen", "\"127.0.0.1:0\""}});
  }

  bool peer_has(const std::string& line) {
    return reassemble(peer_->records(kStreamLogs)).count.count(line) > 0;
  }

  // Makes the agent scan at least `n` more times: each probe file is found by a scan only.
  void wait_for_scans(int n) {
    for (int i = 0; i < n; ++i) {
      const std::string d = dir_ / ("logs/probe" + std::to_string(probes_));
      std::filesystem::create_directories(d);
      const std::string line = "probe " + std::to_string(probes_++);
      std::ofstream(d + "/p.log") << line << "\n";
      ::chmod(d.c_str(), 0755);
      ::chmod((d + "/p.log").c_str(), 0644);
      ASSERT_TRUE(poll_until([&] { return peer_has(line); }, kDeadline)) << line;
    }
  }

  std::string health(std::uint16_t port) { return scrape(port, "/health"); }

  // The gauge is back to 0 and the health condition is gone.
  void expect_episode_over(std::uint16_t port) {
    EXPECT_TRUE(poll_until(
        [&] {
          return metric(scrape(port), "blackbox_agent_sources_unreadable") == 0 &&
                 health(port).find("source_unreadable") == std::string::npos;
        },
        kDeadline))
        << health(port);
  }

  int probes_ = 0;
};

TEST_F(SourceUnreadableTest, DirectoryInPathsIsWarnedOnceAndSaysWhatToWrite) {
  const std::string sub = dir_ / "logs/app";
  std::filesystem::create_directories(sub);
  auto agent = start_agent(config(sub));
  std::uint16_t port = 0;
  ASSERT_TRUE(poll_until([&] { return (port = metrics_port(agent_log())) != 0; }, kDeadline));
  const std::string warning = sub + " is a directory; to tail the files in it write \"" + sub +
                              "/*\" (or a narrower pattern such as \"" + sub + "/*.log\")";
  ASSERT_TRUE(
      poll_until([&] { return agent_log().find(warning) != std::string::npos; }, kDeadline));
  wait_for_scans(3);
  EXPECT_EQ(occurrences(agent_log(), " is a directory;"), 1u) << "warned once per episode";
  const std::string m = scrape(port);
  EXPECT_EQ(metric(m, "blackbox_agent_sources_unreadable"), 1);
  EXPECT_EQ(metric(m, "blackbox_agent_sources_unreadable_episodes_total"), 1);
  EXPECT_NE(health(port).find("source_unreadable"), std::string::npos) << health(port);

  // The episode ends when the directory goes: an info line, the gauge and the health clear.
  std::filesystem::remove(sub);
  ASSERT_TRUE(poll_until(
      [&] { return agent_log().find(sub + " is readable now (or gone)") != std::string::npos; },
      kDeadline));
  expect_episode_over(port);
}

TEST_F(SourceUnreadableTest, FileWithoutPermissionIsWarnedOnceWithAGapAndReadWhenItCanBe) {
  // The agent runs as nobody: its state directory and the logs must be reachable by it.
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod((dir_ / "logs").c_str(), 0755), 0);
  std::filesystem::create_directories(dir_ / "state");
  ASSERT_EQ(::chown((dir_ / "state").c_str(), kNobody, kNobody), 0);
  const std::string secret = log_file("secret.log");
  std::string content;
  for (int i = 0; i < 10; ++i) content += "secret " + std::to_string(i) + "\n";
  std::ofstream(secret) << content;
  ASSERT_EQ(::chmod(secret.c_str(), 0600), 0);  // root's: nobody cannot open it

  const std::string cfg = config(dir_ / "logs/*.log");
  ::chmod(cfg.c_str(), 0644);
  AgentProcess agent(std::vector<std::string>{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                              "--clear-groups", agent_binary(), "--config", cfg},
                     dir_ / "agent.out");
  std::uint16_t port = 0;
  ASSERT_TRUE(poll_until([&] { return (port = metrics_port(agent_log())) != 0; }, kDeadline));
  const std::string warning = secret + " cannot be opened (Permission denied)";
  ASSERT_TRUE(
      poll_until([&] { return agent_log().find(warning) != std::string::npos; }, kDeadline));
  wait_for_scans(3);
  EXPECT_EQ(occurrences(agent_log(), warning), 1u) << "warned once per episode";

  // A gap record says which file, how many bytes and why.
  std::vector<GapBody> gaps;
  ASSERT_TRUE(poll_until(
      [&] {
        gaps.clear();
        for (const auto& [seq, r] : peer_->records(kStreamLogs))
          if (r.kind == RecordKind::kGap)
            if (auto g = decode_gap_body(r.line)) gaps.push_back(*g);
        return !gaps.empty();
      },
      kDeadline));
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].reason, gap_reason::kSourceUnreadable);
  EXPECT_EQ(gaps[0].source, secret);
  EXPECT_EQ(gaps[0].size, content.size());
  const std::string m = scrape(port);
  EXPECT_EQ(metric(m, "blackbox_agent_sources_unreadable"), 1);
  EXPECT_EQ(metric(m, "blackbox_agent_sources_unreadable_episodes_total"), 1);
  EXPECT_GE(metric(m, "blackbox_agent_gaps_total"), 1);
  EXPECT_NE(health(port).find("source_unreadable"), std::string::npos) << health(port);

  // Readable again: read from its beginning, the episode ends once.
  ASSERT_EQ(::chmod(secret.c_str(), 0644), 0);
  ASSERT_TRUE(poll_until([&] { return peer_has("secret 9"); }, kDeadline));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(peer_has("secret " + std::to_string(i))) << i;
  EXPECT_EQ(occurrences(agent_log(), secret + " is readable now"), 1u);
  expect_episode_over(port);
}

}  // namespace
}  // namespace blackbox::agent::testing
