// kill -9 of the real agent, again and again, while lines are written: nothing lost, nothing
// twice (contract 3), every resent batch byte-identical (contract 2). And a spool damaged
// while the agent was down: quarantined, reported as a gap, everything else delivered.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "agent/spool/segment_format.h"
#include "schemas/streams.h"
#include "tests/agent/support/e2e_fixture.h"

namespace blackbox::agent::testing {
namespace {

using namespace std::chrono_literals;

std::string crash_line(int i) {
  std::string s = "crash-test " + std::to_string(i) + " ";
  while (s.size() < 150) s += static_cast<char>('A' + (i + s.size()) % 26);
  return s;
}

TEST_F(AgentE2E, KillNineAtRandomMomentsLosesAndDuplicatesNothing) {
  constexpr int kLines = 200000;
  constexpr int kKills = 24;
  const auto seed = std::random_device{}();
  std::mt19937 rng(seed);
  RecordProperty("seed", static_cast<int>(seed));
  std::cout << "seed " << seed << "\n";
  const std::string config = write_config();

  std::atomic<int> written{0};
  std::thread writer([&] {
    FileWriter w(log_file());
    std::string chunk;
    // ~20k lines/s in small appends, like a busy application.
    for (int i = 0; i < kLines; ++i) {
      chunk += crash_line(i) + "\n";
      if (i % 200 == 199) {
        w.write(chunk);
        chunk.clear();
        written = i + 1;
        std::this_thread::sleep_for(10ms);  // the writer's pace, not a wait for a condition
      }
    }
    w.write(chunk);
    written = kLines;
  });

  std::uniform_int_distribution<int> pause_ms(100, 700);
  auto agent = start_agent(config);
  int kills = 0;
  std::size_t last_start = 0;  // log offset where the last agent's output begins
  for (; kills < kKills; ++kills) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));  // a random moment
    agent->signal(SIGKILL);
    ASSERT_EQ(agent->wait_exit(kDeadline), -SIGKILL);
    last_start = agent_log().size();  // the killed agent is reaped: all later output is the next's
    agent = start_agent(config);
  }
  // The last agent must be up (signals blocked, connected) before it gets its SIGTERM. (Not a
  // count of " starting: " lines: under load an agent may be killed before it logs one.)
  ASSERT_TRUE(poll_until(
      [&] {
        const std::string log = agent_log();
        const std::size_t started = log.find(" starting: ", last_start);
        return started != std::string::npos &&
               log.find("ship: connected", started) != std::string::npos;
      },
      kDeadline));
  writer.join();
  ASSERT_TRUE(peer_->wait_until([&](const PeerStats& s) { return s.log_lines >= kLines; }, 60s))
      << "got " << peer_->stats().log_lines << " of " << kLines;
  agent->signal(SIGTERM);
  ASSERT_EQ(agent->wait_exit(kDeadline), 0);

  auto stats = peer_->stats();
  EXPECT_EQ(stats.conflicting_batches, 0u) << "a resent batch differed from the first";
  EXPECT_EQ(stats.overlapping_batches, 0u) << "a sequence number was reused";
  EXPECT_EQ(stats.chain_breaks, 0u);
  EXPECT_EQ(stats.invalid_batches, 0u);
  auto got = reassemble(peer_->records(kStreamLogs));
  EXPECT_EQ(got.incomplete, 0u);
  EXPECT_EQ(got.count.size(), static_cast<std::size_t>(kLines));
  int missing = 0, doubled = 0;
  for (int i = 0; i < kLines; ++i) {
    int n = got.count[crash_line(i)];
    missing += n == 0;
    doubled += n > 1;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(doubled, 0);
  std::cout << kills << " kills; " << stats.batches << " batch frames received, "
            << stats.duplicate_batches << " byte-identical re-deliveries\n";
}

TEST_F(AgentE2E, SpoolDamagedWhileDownIsQuarantinedReportedAsAGapAndTheRestDelivered) {
  peer_->stop();
  const std::string config = write_config({{"agent.metrics_listen", "\"127.0.0.1:0\""},
                                           {"files.max_line_bytes", "\"16KiB\""},
                                           {"files.read_chunk_bytes", "\"16KiB\""},
                                           {"spool.batch_bytes", "\"16KiB\""},
                                           {"spool.segment_bytes", "\"256KiB\""}});
  constexpr int kLines = 30000;
  {
    FileWriter w(log_file());
    for (int i = 0; i < kLines; ++i) w.write(crash_line(i) + "\n");
  }
  auto agent = start_agent(config);
  // Everything read and spooled (nothing can ship), then the machine "dies".
  std::uint16_t port = 0;
  ASSERT_TRUE(poll_until([&] { return (port = metrics_port(agent_log())) != 0; }, kDeadline));
  ASSERT_TRUE(poll_until(
      [&] { return metric(scrape(port), "blackbox_agent_records_spooled_total") >= kLines; }, kDeadline));
  agent->signal(SIGKILL);
  ASSERT_EQ(agent->wait_exit(kDeadline), -SIGKILL);

  // A bit flip in the middle of the first segment.
  const std::string first = dir_ / "state/spool/00000000000000000000.seg";
  const auto size = std::filesystem::file_size(first);
  {
    std::fstream f(first, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size / 2));
    char c;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.put(static_cast<char>(c ^ 0x01));
  }
  peer_->restart();
  auto again = start_agent(config);
  ASSERT_TRUE(
      peer_->wait_until([&](const PeerStats& s) { return s.log_lines >= kLines - 2000; }, kDeadline));
  again->signal(SIGTERM);
  ASSERT_EQ(again->wait_exit(kDeadline), 0);
  auto got = reassemble(peer_->records(kStreamLogs));
  EXPECT_EQ(got.gaps, 1u);  // the damage is visible
  int missing = 0;
  for (int i = 0; i < kLines; ++i) {
    int n = got.count[crash_line(i)];
    ASSERT_LE(n, 1);
    missing += n == 0;
  }
  // Lost: exactly the records of the damaged batch (a few hundred lines), nothing else.
  EXPECT_GT(missing, 0);
  EXPECT_LT(missing, 1000);
  std::cout << "lines lost to the damaged spool entry: " << missing << "\n";
  EXPECT_FALSE(std::filesystem::is_empty(dir_ / "state/spool/quarantine"));
  EXPECT_NE(agent_log().find("quarantined"), std::string::npos);
}

}  // namespace
}  // namespace blackbox::agent::testing
