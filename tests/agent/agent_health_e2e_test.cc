// The real blackbox-agent when things go wrong around it (issue 10, items 2 and 5): its spool on
// a small tmpfs (a private mount namespace) that fills up, and a collector that never
// acknowledges or cannot be reached. Each time the agent says so once, shows it at GET /health,
// and recovers by itself without losing or repeating a line.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>

#include "schemas/streams.h"
#include "tests/agent/support/e2e_fixture.h"

namespace blackbox::agent::testing {
namespace {

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

// Barely compressible lines, numbered so that each is unique.
std::vector<std::string> random_lines(int first, int count, std::mt19937_64& rng) {
  std::vector<std::string> out;
  for (int i = first; i < first + count; ++i) {
    std::string l = "line " + std::to_string(i) + " ";
    while (l.size() < 100) l += "0123456789abcdef"[rng() % 16];
    out.push_back(l);
  }
  return out;
}

void append_lines(const std::string& path, const std::vector<std::string>& lines) {
  FileWriter w(path);
  for (const auto& l : lines) w.write(l + "\n");
}

bool health_has(std::uint16_t port, const std::string& status_line, const std::string& what) {
  const std::string h = scrape(port, "/health");
  return h.find(status_line) != std::string::npos && h.find(what) != std::string::npos;
}

// Waits for the agent's metrics endpoint (from its log), then for GET /health to answer
// `status` naming `what`. Returns the port (0 if it never came).
std::uint16_t wait_for_health(const std::function<std::string()>& agent_log,
                              const std::string& status, const std::string& what) {
  std::uint16_t port = 0;
  EXPECT_TRUE(poll_until([&] { return (port = metrics_port(agent_log())) != 0; }, kDeadline));
  EXPECT_TRUE(poll_until([&] { return health_has(port, status, what); }, kDeadline))
      << scrape(port, "/health");
  return port;
}

// Fills the file system of `dir` (as `pid` sees it) with a file until it is full. Returns the
// file's path.
std::string fill_up(pid_t pid, const std::string& dir) {
  const std::string path = "/proc/" + std::to_string(pid) + "/root" + dir + "/filler";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  EXPECT_GE(fd, 0) << path << ": " << std::strerror(errno);
  const std::string chunk(4096, 'F');
  int written = 0;
  for (; written < 10000; ++written) {  // 40 MB at most: the tmpfs holds 1 MiB
    if (::write(fd, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) break;
  }
  EXPECT_EQ(errno, ENOSPC);
  EXPECT_LT(written, 10000);
  ::close(fd);
  return path;
}

std::vector<std::string> segment_names(pid_t pid, const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(
           "/proc/" + std::to_string(pid) + "/root" + dir, ec))
    if (e.path().extension() == ".seg") out.push_back(e.path().filename());
  return out;
}

TEST_F(AgentE2E, AFullSpoolDiskIsSaidOnceFreesWhatIsAcknowledgedAndResumesWhenSpaceReturns) {
  const std::string mount = dir_ / "spoolfs";
  std::filesystem::create_directories(mount);
  const std::string config =
      write_config({{"agent.metrics_listen", "\"127.0.0.1:0\""},
                    {"spool.dir", "\"" + mount + "\""},
                    {"spool.segment_bytes", "\"160KiB\""},
                    {"spool.max_bytes", "\"64MiB\""},  // far over the disk: the disk is the limit
                    {"spool.batch_bytes", "\"4KiB\""},
                    {"files.read_chunk_bytes", "\"4KiB\""},
                    {"files.max_line_bytes", "\"1KiB\""}});
  // The spool on a 1 MiB tmpfs that only the agent's private mount namespace sees.
  AgentProcess agent({"/usr/bin/unshare", "-m", "--propagation", "private", "sh", "-c",
                      "mount -t tmpfs -o size=1m tmpfs " + mount + " && exec " + agent_binary() +
                          " --config " + config},
                     dir_ / "agent.out");
  std::uint16_t port = 0;
  ASSERT_TRUE(poll_until([&] { return (port = metrics_port(agent_log())) != 0; }, kDeadline))
      << agent_log();
  ASSERT_TRUE(poll_until([&] { return peer_->record_count(kStreamLifecycle) >= 1; }, kDeadline));
  const auto before = segment_names(agent.pid(), mount);
  ASSERT_EQ(before.size(), 1u);

  // The disk fills up (someone else's file); lines keep coming.
  const std::string filler = fill_up(agent.pid(), mount);
  std::mt19937_64 rng(7);
  auto lines = random_lines(0, 300, rng);
  append_lines(log_file(), lines);
  ASSERT_TRUE(agent.wait_output(
      [](const std::string& out) { return out.find("spool full: its disk is full") != out.npos; },
      kDeadline));
  EXPECT_TRUE(health_has(port, "200 OK", "\"spool_full\"")) << scrape(port, "/health");
  EXPECT_TRUE(health_has(port, "200 OK", "degraded")) << scrape(port, "/health");
  // What the collector acknowledged is freed, the active segment included.
  ASSERT_TRUE(agent.wait_output(
      [](const std::string& out) { return out.find("acknowledged active segment") != out.npos; },
      kDeadline));
  ASSERT_TRUE(poll_until(
      [&] {
        auto now = segment_names(agent.pid(), mount);
        return std::find(now.begin(), now.end(), before[0]) == now.end();
      },
      kDeadline))
      << "the segment that was active when the disk filled is still there";
  // The agent keeps trying (bounded, counted) and says so only once.
  ASSERT_TRUE(poll_until(
      [&] { return metric(scrape(port), "blackbox_agent_spool_write_errors_total") >= 3; },
      kDeadline));
  EXPECT_EQ(count_of(agent_log(), "spool full:"), 1u) << agent_log();
  EXPECT_EQ(count_of(agent_log(), " warning spool: spool full: its disk is full;"), 1u);

  // Space returns: writing resumes by itself, the episode ends, everything arrives once.
  ASSERT_EQ(::unlink(filler.c_str()), 0) << std::strerror(errno);
  auto more = random_lines(300, 300, rng);
  append_lines(log_file(), more);
  lines.insert(lines.end(), more.begin(), more.end());
  ASSERT_TRUE(agent.wait_output(
      [](const std::string& out) { return out.find("spool: no longer full") != out.npos; },
      kDeadline));
  ASSERT_TRUE(peer_->wait_until([&](const PeerStats& s) { return s.log_lines >= lines.size(); },
                                kDeadline))
      << peer_->stats().log_lines;
  ASSERT_TRUE(poll_until([&] { return !health_has(port, "", "spool_full"); }, kDeadline))
      << scrape(port, "/health");
  EXPECT_EQ(count_of(agent_log(), "spool full:"), 1u) << "one warning per episode";
  agent.signal(SIGTERM);
  ASSERT_EQ(agent.wait_exit(kDeadline), 0);
  const auto got = reassemble(peer_->records(kStreamLogs));
  EXPECT_EQ(got.count.size(), lines.size());
  EXPECT_EQ(got.gaps, 0u);
  for (const auto& l : lines) ASSERT_EQ(got.count.at(l), 1) << l;
  EXPECT_EQ(peer_->stats().duplicate_batches, 0u);
  RecordProperty("lines_written", static_cast<int>(lines.size()));
  RecordProperty("lines_stored", static_cast<int>(got.count.size()));
}

TEST_F(AgentE2E, ShippingStalledTurnsHealthRedWhileTheCollectorDoesNotAcknowledge) {
  peer_->set_ack(false);
  auto agent = start_agent(write_config({{"agent.metrics_listen", "\"127.0.0.1:0\""},
                                         {"ship.stall_timeout", "\"1s\""},
                                         {"ship.ack_timeout", "\"120s\""}}));
  std::mt19937_64 rng(1);
  const auto lines = random_lines(0, 100, rng);
  append_lines(log_file(), lines);
  const std::uint16_t port =
      wait_for_health([&] { return agent_log(); }, "503", "shipping_stalled");
  ASSERT_FALSE(HasFailure());
  EXPECT_TRUE(health_has(port, "503", "does not acknowledge")) << scrape(port, "/health");
  // Heartbeats go on (several watchdog periods): still one error line for the episode.
  const auto beats = peer_->stats().heartbeats;
  ASSERT_TRUE(peer_->wait_until([&](const PeerStats& s) { return s.heartbeats >= beats + 5; },
                                kDeadline));
  const std::string log = agent_log();
  EXPECT_EQ(count_of(log, "ship: shipping stalled"), 1u) << log;
  EXPECT_NE(log.find(" error ship: shipping stalled"), std::string::npos) << log;

  // The collector acknowledges again (its WELCOME on the next connection holds everything).
  peer_->set_ack(true);
  peer_->restart();
  ASSERT_TRUE(poll_until([&] { return health_has(port, "200 OK", "\"status\":\"ok\""); },
                         kDeadline))
      << scrape(port, "/health");
  EXPECT_NE(agent_log().find("shipping_stalled cleared"), std::string::npos);
  agent->signal(SIGTERM);
  ASSERT_EQ(agent->wait_exit(kDeadline), 0);
  const auto got = reassemble(peer_->records(kStreamLogs));
  for (const auto& l : lines) EXPECT_EQ(got.count.count(l) ? got.count.at(l) : 0, 1) << l;
}

TEST_F(AgentE2E, ShippingStalledTurnsHealthRedWhileTheCollectorIsUnreachable) {
  TestPeer dead;
  const std::string dead_address = dead.address();
  dead.stop();  // connection refused
  auto agent = start_agent(write_config({{"agent.metrics_listen", "\"127.0.0.1:0\""},
                                         {"ship.collectors", "[\"" + dead_address + "\"]"},
                                         {"ship.stall_timeout", "\"1s\""}}));
  std::mt19937_64 rng(2);
  const auto lines = random_lines(0, 100, rng);
  append_lines(log_file(), lines);
  const std::uint16_t port =
      wait_for_health([&] { return agent_log(); }, "503", "shipping_stalled");
  ASSERT_FALSE(HasFailure());
  const std::string health = scrape(port, "/health");
  EXPECT_NE(health.find("not connected"), std::string::npos) << health;
  EXPECT_NE(health.find("cannot connect to " + dead_address), std::string::npos) << health;
  ASSERT_TRUE(poll_until(
      [&] { return metric(scrape(port), "blackbox_agent_connect_failures_total") >= 10; },
      kDeadline));
  EXPECT_EQ(count_of(agent_log(), "ship: shipping stalled"), 1u) << agent_log();

  // The collector comes up: the stall ends.
  dead.restart();
  ASSERT_TRUE(dead.wait_until([&](const PeerStats& s) { return s.log_lines >= lines.size(); },
                              kDeadline));
  ASSERT_TRUE(poll_until([&] { return health_has(port, "200 OK", "\"status\":\"ok\""); },
                         kDeadline))
      << scrape(port, "/health");
  agent->signal(SIGTERM);
  ASSERT_EQ(agent->wait_exit(kDeadline), 0);
  const auto got = reassemble(dead.records(kStreamLogs));
  for (const auto& l : lines) EXPECT_EQ(got.count.count(l) ? got.count.at(l) : 0, 1) << l;
}

}  // namespace
}  // namespace blackbox::agent::testing
