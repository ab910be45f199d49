// A spool belongs to one identity (issue 10, item 3): a state directory left by one instance
// (baked into an image) and started as another must not ship the first instance's records under
// the second one's name. The real agent, run twice on one state directory.
#include <signal.h>

#include <filesystem>

#include "schemas/gap_body.h"
#include "schemas/streams.h"
#include "tests/agent/support/e2e_fixture.h"

namespace blackbox::agent::testing {
namespace {

std::string line_of(const char* who, int i) { return std::string(who) + " line " + std::to_string(i); }

TEST_F(AgentE2E, ASpoolLeftByAnotherInstanceIsSetAsideAndReportedNeverRelabelled) {
  // The old instance spools 50 lines and stops while its collector is unreachable.
  TestPeer dead;
  const std::string dead_address = dead.address();
  dead.stop();
  {
    FileWriter w(log_file());
    for (int i = 0; i < 50; ++i) w.write(line_of("old", i) + "\n");
  }
  {
    auto old = start_agent(write_config({{"agent.instance_id", "\"i-old\""},
                                         {"ship.collectors", "[\"" + dead_address + "\"]"},
                                         {"ship.shutdown_deadline", "\"1s\""}}));
    ASSERT_TRUE(old->wait_output(
        [](const std::string& out) { return out.find("cannot connect") != out.npos; }, kDeadline));
    old->signal(SIGTERM);
    ASSERT_EQ(old->wait_exit(kDeadline), 0);
    ASSERT_NE(agent_log().find("inputs spooled"), std::string::npos) << agent_log();
  }

  // The same state directory, started as another instance, with a collector.
  auto agent = start_agent(write_config({{"agent.instance_id", "\"i-new\""}}));
  {
    FileWriter w(log_file());
    for (int i = 0; i < 20; ++i) w.write(line_of("new", i) + "\n");
  }
  ASSERT_TRUE(peer_->wait_until([](const PeerStats& s) { return s.log_lines >= 20; }, kDeadline));
  ASSERT_TRUE(poll_until(
      [&] { return reassemble(peer_->records(kStreamLogs)).gaps >= 1; }, kDeadline));
  agent->signal(SIGTERM);
  ASSERT_EQ(agent->wait_exit(kDeadline), 0);

  ASSERT_TRUE(peer_->last_hello());
  EXPECT_EQ(peer_->last_hello()->instance_id, "i-new");
  EXPECT_EQ(peer_->stats().hellos, peer_->stats().connections) << "one identity only";
  const auto records = peer_->records(kStreamLogs);
  const auto got = reassemble(records);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got.count.count(line_of("new", i)), 1u) << i;
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(got.count.count(line_of("old", i)), 0u) << "old line " << i << " relabelled";
  EXPECT_EQ(got.count.size(), 20u);
  // The gap record under the new identity says what was set aside, whose, and where.
  ASSERT_EQ(got.gaps, 1u);
  for (const auto& [seq, r] : records) {
    if (r.kind != RecordKind::kGap) continue;
    auto gap = decode_gap_body(r.line);
    ASSERT_TRUE(gap) << r.line;
    EXPECT_EQ(gap->reason, gap_reason::kSpoolForeign);
    ASSERT_TRUE(gap->records);
    EXPECT_GE(*gap->records, 50u);  // the old lines, and the old agent's own lifecycle records
    ASSERT_TRUE(gap->note);
    EXPECT_NE(gap->note->find("i-old"), std::string::npos) << *gap->note;
  }
  // The old instance's segments are kept, set aside, for whoever can ship them as i-old.
  const auto aside = dir_ / "state/spool/foreign/i-old";
  std::size_t kept = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(aside, ec))
    if (e.path().extension() == ".seg") ++kept;
  EXPECT_GE(kept, 1u) << aside;
  EXPECT_NE(agent_log().find("set aside"), std::string::npos);
}

}  // namespace
}  // namespace blackbox::agent::testing
