// The real blackbox-agent against the test peer: byte-exact lines, the last gasp on SIGTERM,
// termination notices, an unreachable collector with a full spool, config checks.
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <random>

#include "schemas/streams.h"
#include "tests/agent/support/e2e_fixture.h"

namespace blackbox::agent::testing {
namespace {

using namespace std::chrono_literals;

std::string numbered(int i, std::size_t width = 120) {
  std::string s = "line " + std::to_string(i) + " ";
  while (s.size() < width) s += static_cast<char>('a' + (i * 7 + s.size()) % 26);
  return s;
}

// The lifecycle events, without the signed_heads records (issue 12 item 5: the last gasp
// spools one after the goodbye; SigtermWithDataInFlight... checks it).
std::vector<nlohmann::json> lifecycle_events(const TestPeer& peer) {
  std::vector<nlohmann::json> out;
  for (const auto& [seq, r] : peer.records(kStreamLifecycle)) {
    auto j = nlohmann::json::parse(r.line);
    if (j["event"] != "signed_heads") out.push_back(std::move(j));
  }
  return out;
}

TEST_F(AgentE2E, LinesArriveByteExactWhateverTheyHoldWithBoundedMemory) {
  const std::string mib(1 << 20, 'M');
  std::string over((1 << 20) + 10, 'O');
  over.back() = '!';
  const std::vector<std::string> lines = {
      "plain",
      "crlf line\r",
      std::string("nul\0inside\0", 11),
      "\xff\xfe\xc3( invalid utf-8",
      "",
      R"({"time":"2024-05-01T12:00:00Z","level":"warn","msg":"json","user":{"id":7}})",
      mib,
      over,
      "after the big ones",
  };
  {
    FileWriter w(log_file());
    for (const auto& l : lines) w.write(l + "\n");
    w.write("no newline yet");
  }
  auto agent = start_agent(write_config());
  const std::size_t want_records = lines.size() + 1 /*split*/ + 1 /*partial*/;
  ASSERT_TRUE(
      peer_->wait_until([&](const PeerStats& s) { return s.log_lines >= want_records; }, kDeadline));
  const std::uint64_t peak_rss = agent->peak_rss_bytes();
  auto records = peer_->records(kStreamLogs);
  auto got = reassemble(records);
  for (const auto& l : lines) EXPECT_EQ(got.count[l], 1) << l.substr(0, 40);
  EXPECT_EQ(got.incomplete, 1u);  // "no newline yet": emitted partial, continuation pending
  bool saw_exact_mib = false, saw_json = false, saw_partial = false;
  for (const auto& [seq, r] : records) {
    if (r.line == mib) saw_exact_mib = r.flags == 0;
    if (r.flags & record_flags::kJson) {
      saw_json = true;
      EXPECT_EQ(r.severity, Severity::kWarning);
      EXPECT_EQ(r.event_time_ns, 1714564800'000'000'000);
      ASSERT_EQ(r.fields.size(), 2u);
      EXPECT_EQ(r.fields[1], (std::pair<std::string, std::string>{"user", R"({"id":7})"}));
    }
    if (r.flags & record_flags::kPartial) saw_partial = r.line == "no newline yet";
    EXPECT_EQ(r.source, log_file());
  }
  EXPECT_TRUE(saw_exact_mib);
  EXPECT_TRUE(saw_json);
  EXPECT_TRUE(saw_partial);
#if !defined(__SANITIZE_ADDRESS__)  // ASan's shadow memory and quarantine say nothing here
  EXPECT_LT(peak_rss, 64u << 20) << "peak RSS with 1 MiB lines";
#endif
  std::cout << "peak RSS with 1 MiB lines: " << peak_rss / 1000000.0 << " MB\n";
  agent->signal(SIGTERM);
  EXPECT_EQ(agent->wait_exit(kDeadline), 0);
}

TEST_F(AgentE2E, SigtermWithDataInFlightShipsEverythingSaysGoodbyeAndExitsZero) {
  auto agent = start_agent(write_config());
  ASSERT_TRUE(peer_->wait_until([](const PeerStats& s) { return s.hellos >= 1; }, kDeadline));
  constexpr int kLines = 50000;
  {
    FileWriter w(log_file());
    std::string chunk;
    for (int i = 0; i < kLines; ++i) {
      chunk += numbered(i) + "\n";
      if (chunk.size() > 64 * 1024) {
        w.write(chunk);
        chunk.clear();
      }
    }
    w.write(chunk);
  }
  const auto t0 = std::chrono::steady_clock::now();
  agent->signal(SIGTERM);
  auto status = agent->wait_exit(kDeadline);
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(status, 0);
  // The shutdown deadline (10 s) bounds the exit; the rest is slack for a loaded machine.
  EXPECT_LT(took, 10s + 20s);
  auto got = reassemble(peer_->records(kStreamLogs));
  EXPECT_EQ(got.count.size(), static_cast<std::size_t>(kLines));
  for (int i = 0; i < kLines; i += 997) EXPECT_EQ(got.count[numbered(i)], 1);
  for (const auto& [line, n] : got.count) ASSERT_EQ(n, 1) << line;
  auto stats = peer_->stats();
  EXPECT_EQ(stats.conflicting_batches, 0u);
  EXPECT_EQ(stats.chain_breaks, 0u);
  ASSERT_TRUE(peer_->last_goodbye());
  EXPECT_EQ(peer_->last_goodbye()->reason, "sigterm");
  EXPECT_FALSE(peer_->last_goodbye()->after_termination_notice);
  auto events = lifecycle_events(*peer_);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.front()["event"], "hello");
  EXPECT_EQ(events.back()["event"], "goodbye");
  EXPECT_EQ(events.back()["reason"], "sigterm");
  // After the goodbye, the heads signed with the instance key (issue 12 item 5).
  ASSERT_FALSE(peer_->records(kStreamLifecycle).empty());
  EXPECT_EQ(nlohmann::json::parse(peer_->records(kStreamLifecycle).rbegin()->second.line)["event"],
            "signed_heads");
  EXPECT_LT(spool_bytes_on_disk(), 1024u);  // acknowledged segments were deleted
}

TEST_F(AgentE2E, SigtermWhileTheCollectorHoldsAcksEndsAtTheDeadlineAndLosesNothing) {
  peer_->set_ack(false);
  const std::string config = write_config({{"ship.shutdown_deadline", "\"1500ms\""}});
  auto agent = start_agent(config);
  {
    FileWriter w(log_file());
    for (int i = 0; i < 2000; ++i) w.write(numbered(i) + "\n");
  }
  ASSERT_TRUE(peer_->wait_until([](const PeerStats& s) { return s.log_lines >= 2000; }, kDeadline));
  const auto t0 = std::chrono::steady_clock::now();
  agent->signal(SIGTERM);
  ASSERT_EQ(agent->wait_exit(kDeadline), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms + 1500ms);
  ASSERT_TRUE(peer_->last_goodbye());    // said at the deadline, not acknowledged
  EXPECT_GT(spool_bytes_on_disk(), 0u);  // what was not acknowledged stays spooled

  // The collector forgets what it holds: the agent resends every unacknowledged batch, and
  // each must be byte-identical to the first delivery (contract 2).
  peer_->set_ack(true);
  peer_->set_welcome_positions(false);
  auto again = start_agent(config);
  ASSERT_TRUE(peer_->wait_until([](const PeerStats& s) { return s.hellos >= 2; }, kDeadline));
  again->signal(SIGTERM);
  ASSERT_EQ(again->wait_exit(kDeadline), 0);
  auto got = reassemble(peer_->records(kStreamLogs));
  EXPECT_EQ(got.count.size(), 2000u);
  for (const auto& [line, n] : got.count) ASSERT_EQ(n, 1) << line;
  EXPECT_GT(peer_->stats().duplicate_batches, 0u);
  EXPECT_EQ(peer_->stats().conflicting_batches, 0u);
  EXPECT_EQ(peer_->stats().overlapping_batches, 0u);
}

TEST_F(AgentE2E, NotifyTerminationRecordsANoticeAndTheGoodbyeSaysSo) {
  auto agent = start_agent(write_config());
  ASSERT_TRUE(peer_->wait_until([](const PeerStats& s) { return s.hellos >= 1; }, kDeadline));
  ASSERT_TRUE(
      poll_until([&] { return access((dir_ / "state/agent.sock").c_str(), F_OK) == 0; }, kDeadline));
  AgentProcess notify(
      agent_binary(),
      {"notify-termination", "--reason", "spot interruption", "--state-dir", dir_ / "state"},
      dir_ / "notify.out");
  ASSERT_EQ(notify.wait_exit(kDeadline), 0) << slurp(dir_ / "notify.out");
  EXPECT_NE(slurp(dir_ / "notify.out").find("ok"), std::string::npos);
  ASSERT_TRUE(poll_until(
      [&] {
        for (const auto& e : lifecycle_events(*peer_))
          if (e["event"] == "termination_notice" && e["reason"] == "spot interruption") return true;
        return false;
      },
      kDeadline));
  agent->signal(SIGTERM);
  ASSERT_EQ(agent->wait_exit(kDeadline), 0);
  ASSERT_TRUE(peer_->last_goodbye());
  EXPECT_TRUE(peer_->last_goodbye()->after_termination_notice);
  EXPECT_NE(peer_->last_goodbye()->reason.find("spot interruption"), std::string::npos);
  EXPECT_EQ(lifecycle_events(*peer_).back()["after_termination_notice"], true);

  AgentProcess nobody(agent_binary(), {"notify-termination", "--state-dir", dir_ / "state"},
                      dir_ / "notify2.out");
  EXPECT_EQ(nobody.wait_exit(kDeadline), 1);  // no agent running: a clear error, non-zero
}

TEST_F(AgentE2E, CollectorUnreachableSpoolHoldsUnderItsCapThenEverythingArrives) {
  peer_->stop();
  constexpr std::uint64_t kCap = 512 * 1024;
  const std::string config = write_config({{"agent.metrics_listen", "\"127.0.0.1:0\""},
                                           {"files.max_line_bytes", "\"16KiB\""},
                                           {"files.read_chunk_bytes", "\"16KiB\""},
                                           {"spool.batch_bytes", "\"16KiB\""},
                                           {"spool.segment_bytes", "\"256KiB\""},
                                           {"spool.max_bytes", "\"" + std::to_string(kCap) + "B\""},
                                           {"ship.shutdown_deadline", "\"2s\""}});
  auto agent = start_agent(config);
  constexpr int kLines = 20000;  // ~2.6 MB of barely compressible text: 5× the cap
  std::mt19937_64 rng(42);
  std::vector<std::string> lines;
  {
    FileWriter w(log_file());
    for (int i = 0; i < kLines; ++i) {
      std::string l = "line " + std::to_string(i) + " ";
      while (l.size() < 130) l += "0123456789abcdef"[rng() % 16];
      lines.push_back(l);
      w.write(l + "\n");
    }
  }
  std::uint16_t port = 0;
  ASSERT_TRUE(poll_until([&] { return (port = metrics_port(agent_log())) != 0; }, kDeadline));
  ASSERT_TRUE(poll_until(
      [&] { return metric(scrape(port), "blackbox_agent_spool_full_waits_total") > 0; }, kDeadline));
  for (int i = 0; i < 20; ++i) {
    EXPECT_LE(spool_bytes_on_disk(), kCap);
    const std::string m = scrape(port);
    EXPECT_LE(metric(m, "blackbox_agent_spool_bytes"), static_cast<double>(kCap));
    EXPECT_LT(metric(m, "blackbox_agent_lines_read_total"), kLines);  // the file waits
  }
  // SIGTERM while the spool is full and nobody answers: the last gasp still ends on time.
  const auto t0 = std::chrono::steady_clock::now();
  agent->signal(SIGTERM);
  ASSERT_EQ(agent->wait_exit(kDeadline), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2000ms + 1500ms);
  // A start with a full spool and the collector still away, then the collector comes back.
  agent = start_agent(config);
  ASSERT_TRUE(poll_until([&] { return (port = metrics_port(agent_log(), 2)) != 0; }, kDeadline));
  peer_->restart();
  ASSERT_TRUE(peer_->wait_until([&](const PeerStats& s) { return s.log_lines >= kLines; }, kDeadline))
      << peer_->stats().log_lines;
  ASSERT_TRUE(poll_until(
      [&] { return metric(scrape(port), "blackbox_agent_records_acked_total") >= kLines / 2; },
      kDeadline));
  agent->signal(SIGTERM);
  ASSERT_EQ(agent->wait_exit(kDeadline), 0);
  auto got = reassemble(peer_->records(kStreamLogs));
  EXPECT_EQ(got.count.size(), static_cast<std::size_t>(kLines));
  for (const auto& l : lines) ASSERT_EQ(got.count[l], 1) << l;
}

TEST_F(AgentE2E, FailsOverToTheNextCollectorAndHeartbeatsWhileIdle) {
  TestPeer dead;
  const std::string dead_address = dead.address();
  dead.stop();  // connection refused
  auto agent = start_agent(
      write_config({{"ship.collectors", "[\"" + dead_address + "\", \"" + peer_->address() + "\"]"},
                    {"agent.metrics_listen", "\"127.0.0.1:0\""}}));
  {
    FileWriter w(log_file());
    for (int i = 0; i < 100; ++i) w.write(numbered(i) + "\n");
  }
  ASSERT_TRUE(peer_->wait_until([](const PeerStats& s) { return s.log_lines >= 100; }, kDeadline));
  ASSERT_TRUE(peer_->wait_until([](const PeerStats& s) { return s.heartbeats >= 3; }, kDeadline));
  ASSERT_TRUE(peer_->last_hello());
  EXPECT_EQ(peer_->last_hello()->instance_id, "i-e2e");
  EXPECT_FALSE(peer_->last_hello()->boot_id.empty());
  // The metrics other components rely on are all there.
  std::uint16_t port = 0;
  ASSERT_TRUE(poll_until([&] { return (port = metrics_port(agent_log())) != 0; }, kDeadline));
  const std::string m = scrape(port);
  for (const char* name :
       {"blackbox_agent_lines_read_total", "blackbox_agent_bytes_read_total",
        "blackbox_agent_records_spooled_total", "blackbox_agent_bytes_spooled_total",
        "blackbox_agent_spool_bytes", "blackbox_agent_records_acked_total",
        "blackbox_agent_batches_acked_total", "blackbox_agent_resends_total",
        "blackbox_agent_reconnects_total", "blackbox_agent_gaps_total"})
    EXPECT_GE(metric(m, name), 0) << name;
  EXPECT_GE(metric(m, "blackbox_agent_lines_read_total"), 100);
  EXPECT_GE(metric(m, "blackbox_agent_connect_failures_total"), 1);
  // A healthy agent says so at GET /health.
  const std::string health = scrape(port, "/health");
  EXPECT_NE(health.find("200 OK"), std::string::npos) << health;
  EXPECT_NE(health.find("\"status\":\"ok\""), std::string::npos) << health;
  agent->signal(SIGTERM);
  ASSERT_EQ(agent->wait_exit(kDeadline), 0);
}

TEST_F(AgentE2E, CheckConfigAcceptsAGoodConfigAndRejectsABadOneSayingWhy) {
  AgentProcess ok(agent_binary(), {"--config", write_config(), "--check-config"},
                  dir_ / "check.out");
  EXPECT_EQ(ok.wait_exit(kDeadline), 0);
  EXPECT_NE(slurp(dir_ / "check.out").find("config ok"), std::string::npos);
  AgentProcess bad(agent_binary(),
                   {"--config", write_config({{"spool.fsync", "\"sometimes\""}}), "--check-config",
                    "--read-from", "end"},
                   dir_ / "bad.out");
  EXPECT_EQ(bad.wait_exit(kDeadline), 2);
  EXPECT_NE(slurp(dir_ / "bad.out").find("spool.fsync"), std::string::npos);
}

}  // namespace
}  // namespace blackbox::agent::testing
