// Contract 1 and 2 under crashes: the real blackbox-collector binary is killed with SIGKILL
// after every 40k-120k acknowledged records (with a full window of batches in flight) while a
// test agent sends 1,000,000 records over two streams, resuming from each WELCOME and resending
// whatever was not acknowledged. Kills are driven by acknowledgements, never by time.
// Afterwards every stream holds exactly the sequences [0, N): nothing lost, nothing stored
// twice, the chain unbroken; and RocksDB reopened every time (each restart must log
// "listening on").
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <deque>
#include <fstream>
#include <memory>
#include <random>
#include <re2/re2.h>
#include <sstream>

#include "collector/store/store.h"
#include "schemas/streams.h"
#include "schemas/version.h"
#include "schemas/zstd_codec.h"
#include "tests/collector/fixture.h"
#include "tests/support/child_process.h"
#include "tests/support/test_agent.h"

namespace blackbox::collector::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The collector binary as a child process; its stderr goes to a log file.
class CollectorProcess {
 public:
  CollectorProcess(std::string data_dir, std::string log_path)
      : data_dir_(std::move(data_dir)), log_path_(std::move(log_path)) {}

  // Starts it and waits for its "listening on" line (a hang guard of `timeout`, not a speed
  // requirement). False if it does not come up.
  bool start(std::chrono::milliseconds timeout = 120s) {
    const auto offset = blackbox::testing::file_size(log_path_);
    proc_ = std::make_unique<blackbox::testing::ChildProcess>(
        std::vector<std::string>{BLACKBOX_COLLECTOR_BINARY, "--data-dir", data_dir_, "--listen",
                                 "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "info"},
        log_path_);
    const char kListening[] = "listening on 127.0.0.1:";
    std::size_t at = std::string::npos;
    std::string out;
    const bool up = proc_->wait_output(
        [&](const std::string& text) {
          at = text.find(kListening);
          out = text;
          return at != std::string::npos && text.find('\n', at) != std::string::npos;
        },
        timeout, offset);
    if (!up) return false;
    port_ = static_cast<std::uint16_t>(std::stoi(out.substr(at + sizeof kListening - 1)));
    return true;
  }

  void kill9() {
    if (proc_) proc_->kill9();
  }

  // SIGTERM; returns the exit status (or -1 on a signal death / hang).
  int terminate(std::chrono::milliseconds timeout = 60s) {
    if (!running()) return -1;
    proc_->signal(SIGTERM);
    return proc_->wait_exit(timeout).value_or(-1);
  }

  std::uint16_t port() const { return port_; }
  bool running() { return proc_ && proc_->running(); }

 private:
  std::string data_dir_, log_path_;
  std::unique_ptr<blackbox::testing::ChildProcess> proc_;
  std::uint16_t port_ = 0;
};

std::string tail(const std::string& s, std::size_t n) {
  return s.size() > n ? s.substr(s.size() - n) : s;
}

// An agent that cuts each batch once, keeps it until acknowledged, and resends from WELCOME.
class ResendingAgent {
 public:
  ResendingAgent(std::vector<std::uint32_t> streams, std::uint64_t records_per_stream,
                 std::uint32_t batch_records)
      : total_(records_per_stream), batch_records_(batch_records) {
    for (auto s : streams) streams_.push_back(Stream{StreamSource(s), {}, 0, 0});
  }

  bool done() const {
    for (const auto& s : streams_)
      if (s.acked_next < total_) return false;
    return true;
  }

  // Connects to `port` if needed and moves data until at least `target` records are
  // acknowledged (or everything is), then fills the send window once more so that the collector
  // has batches in flight (being read, written or synced) when the caller kills it. Driven by
  // ACKs only; false on a protocol breach (the collector claimed or acknowledged something
  // impossible) or when no ACK arrived for `stall` (a hang): see error().
  bool run_until(std::uint16_t port, std::uint64_t target, std::chrono::seconds stall = 120s) {
    auto last_progress = SteadyClock::now();
    std::uint64_t last_acked = acked_total();
    while (acked_total() < target && !done()) {
      if (!pump(port)) return false;
      if (acked_total() != last_acked) {
        last_acked = acked_total();
        last_progress = SteadyClock::now();
      } else if (SteadyClock::now() - last_progress > stall) {
        error_ = "no acknowledgement for " + std::to_string(stall.count()) + " s";
        return false;
      }
    }
    if (conn_.connected() && !fill_window()) conn_.close();
    return true;
  }

  // The collector was killed: forget the connection (the next run_until reconnects).
  void disconnect() { conn_.close(); }

 private:
  // One step: connect and HELLO if needed, fill the window, read one frame (or time out).
  bool pump(std::uint16_t port) {
    if (!conn_.connected()) {
      if (!conn_.connect(port, 1s)) return true;
      auto w = conn_.hello(test_hello("i-crash"), 5s);
      if (!w) {
        conn_.close();
        return true;
      }
      ++connections_;
      for (auto& s : streams_) {
        std::uint64_t next = 0;
        for (const auto& p : w->streams)
          if (p.stream == s.src.stream()) next = p.next_seq;
        if (!accept_ack(s, next)) return false;
        s.sent = 0;
      }
    }
    if (!fill_window()) {
      conn_.close();
      return true;
    }
    auto f = conn_.read_frame(200ms);
    if (!f) {
      if (conn_.broken()) conn_.close();  // else just no ACK yet
      return true;
    }
    if (auto a = as_ack(*f)) {
      for (const auto& e : a->entries)
        for (auto& s : streams_)
          if (s.src.stream() == e.stream && !accept_ack(s, e.highest_seq + 1)) return false;
    } else if (f->type == FrameType::kError) {
      auto e = as_error(*f);
      if (e && e->code != Errc::kUnavailable) {
        error_ = "collector sent ERROR " + std::string(errc_name(e->code)) + ": " + e->message;
        return false;
      }
      conn_.close();
    }
    return true;
  }

  // Sends (or cuts and sends) batches until kWindow per stream are unacknowledged on this
  // connection. False if the connection broke.
  bool fill_window() {
    for (auto& s : streams_) {
      while (s.sent < kWindow && (s.sent < s.unacked.size() || s.src.next_seq() < total_)) {
        if (s.sent == s.unacked.size()) {
          const auto n = static_cast<std::uint32_t>(
              std::min<std::uint64_t>(batch_records_, total_ - s.src.next_seq()));
          const auto first = s.src.next_seq();
          s.unacked.push_back({first, first + n, s.src.next_batch(n)});
        }
        if (!conn_.send_frame(FrameType::kBatch, s.unacked[s.sent].bytes)) return false;
        ++s.sent;
      }
    }
    return true;
  }

 public:
  const std::string& error() const { return error_; }
  int connections() const { return connections_; }
  std::uint64_t acked_total() const {
    std::uint64_t n = 0;
    for (const auto& s : streams_) n += s.acked_next;
    return n;
  }

 private:
  static constexpr std::size_t kWindow = 16;
  struct Pending {
    std::uint64_t first, end;
    std::string bytes;
  };
  struct Stream {
    StreamSource src;
    std::deque<Pending> unacked;
    std::size_t sent = 0;  // unacked[0, sent) were sent on this connection
    std::uint64_t acked_next = 0;
  };

  // Everything below `next` is durable: forget those batches.
  bool accept_ack(Stream& s, std::uint64_t next) {
    if (next > s.src.next_seq()) {
      error_ = "collector acknowledged " + std::to_string(next) + " but only " +
               std::to_string(s.src.next_seq()) + " were cut";
      return false;
    }
    if (next < s.acked_next) {
      error_ = "collector forgot acknowledged records: " + std::to_string(next) + " < " +
               std::to_string(s.acked_next);
      return false;
    }
    s.acked_next = next;
    while (!s.unacked.empty() && s.unacked.front().end <= next) {
      s.unacked.pop_front();
      if (s.sent > 0) --s.sent;
    }
    if (!s.unacked.empty() && s.unacked.front().first < next) {
      error_ = "acknowledged up to the middle of a batch";
      return false;
    }
    return true;
  }

  std::uint64_t total_;
  std::uint32_t batch_records_;
  std::vector<Stream> streams_;
  TestConnection conn_;
  std::string error_;
  int connections_ = 0;
};

TEST(Crash, KillNineWhileIngestingLosesAndDuplicatesNothing) {
  constexpr std::uint64_t kPerStream = 500'000;  // x 2 streams = 1,000,000 records
  const std::vector<std::uint32_t> kStreams = {kStreamLogs, kStreamSnapshots};
  constexpr std::uint64_t kTotal = kPerStream * 2;
  std::mt19937 rng(20240601);
  SCOPED_TRACE("seed 20240601");
  // Kill points in acknowledged records, 40k..120k apart and all before the end: at least 7
  // kills whatever the machine's speed, because the sender waits for each kill (the test is one
  // thread: it stops sending, kills, restarts, then resumes from the WELCOME).
  std::vector<std::uint64_t> kill_points;
  for (std::uint64_t at = 40'000 + rng() % 80'000; at < kTotal - 40'000;
       at += 40'000 + rng() % 80'000)
    kill_points.push_back(at);
  ASSERT_GE(kill_points.size(), 7u);
  TempDir dir;
  CollectorProcess proc(dir.sub("db"), dir.sub("collector.log"));
  ResendingAgent agent(kStreams, kPerStream, 1000);

  int kills = 0;
  for (std::size_t round = 0; round <= kill_points.size(); ++round) {
    ASSERT_TRUE(proc.start()) << "the collector did not come up after " << kills
                              << " kill -9s (see " << dir.sub("collector.log") << ")";
    const std::uint64_t target = round < kill_points.size() ? kill_points[round] : kTotal;
    ASSERT_TRUE(agent.run_until(proc.port(), target))
        << agent.error() << "\ncollector log (end):\n"
        << tail(blackbox::testing::read_file(dir.sub("collector.log")), 4000);
    if (round == kill_points.size()) break;
    // A full window is in flight: the kill lands mid-batch, mid-write or mid-fsync.
    proc.kill9();
    agent.disconnect();
    ++kills;
  }
  ASSERT_TRUE(agent.done()) << "not everything acknowledged";
  EXPECT_EQ(kills, static_cast<int>(kill_points.size()));
  EXPECT_GE(kills, 6);
  std::printf("[ crash    ] %d kill -9s, %d connections\n", kills, agent.connections());
  EXPECT_EQ(proc.terminate(), 0) << "SIGTERM must be a clean shutdown";

  StoreOptions so;
  so.path = dir.sub("db");
  auto store = Store::open(so);
  ASSERT_TRUE(store);
  ZstdDecompressor z;
  std::string scratch;
  for (auto stream : kStreams) {
    std::uint64_t expect = 0;
    ChainHash prev{};
    bool content_ok = true;
    ASSERT_TRUE((*store)->scan_stream("i-crash", stream, 0, [&](const StoredBatch& b) {
      auto h = decode_batch(b.bytes, Limits{}, z, scratch, [&](const RecordView& r) {
        const std::string want = "seq=" + std::to_string(r.seq) + " ";
        if (r.seq != expect || r.line.substr(0, want.size()) != want) content_ok = false;
        ++expect;
      });
      EXPECT_TRUE(h);
      if (h) {
        EXPECT_EQ(h->prev_hash, prev) << "chain broken at " << h->first_seq;
        prev = h->hash;
      }
      return content_ok;
    }));
    EXPECT_TRUE(content_ok) << "stream " << stream << ": sequence out of order or duplicated near "
                            << expect;
    EXPECT_EQ(expect, kPerStream) << "stream " << stream;
    auto gaps = (*store)->gaps("i-crash");
    ASSERT_TRUE(gaps);
    EXPECT_TRUE(gaps->empty());
  }
  auto info = (*store)->get_instance("i-crash");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->records, kPerStream * kStreams.size());
}

// Runs the binary with `args`, stdout+stderr into `out`; returns the exit status.
int run_binary(const std::string& args, std::string& out, const TempDir& dir) {
  const std::string log = dir.sub("run.out");
  const std::string cmd =
      std::string(BLACKBOX_COLLECTOR_BINARY) + " " + args + " >" + log + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(Binary, CheckConfigReportsEveryProblem) {
  TempDir dir;
  std::string out;
  {
    std::ofstream(dir.sub("bad.toml"))
        << "[collector]\nlisten = \"nope\"\n[storage]\nretention = \"x\"\n";
  }
  EXPECT_EQ(run_binary("--config " + dir.sub("bad.toml") + " --check-config", out, dir), 2);
  EXPECT_NE(out.find("collector.listen"), std::string::npos) << out;
  EXPECT_NE(out.find("storage.retention"), std::string::npos) << out;
  EXPECT_EQ(run_binary("--data-dir " + dir.sub("db") + " --check-config", out, dir), 0) << out;
}

TEST(Binary, VersionAndLogTimesComeFromTheSharedSetup) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(run_binary("--version", out, dir), 0) << out;
  EXPECT_EQ(out, "blackbox-collector " + std::string(kVersion) + "\n");
  // A log line: UTC, ISO 8601 with milliseconds and Z (schemas/logging.h).
  CollectorProcess proc(dir.sub("db2"), dir.sub("c.log"));
  ASSERT_TRUE(proc.start());
  proc.kill9();
  const std::string log = blackbox::testing::read_file(dir.sub("c.log"));
  ASSERT_GE(log.size(), 25u) << log;
  EXPECT_TRUE(RE2::PartialMatch(log, R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z )"))
      << log;
}

TEST(Binary, HoldSubcommandSetsListsAndReleases) {
  TempDir dir;
  std::string out;
  const std::string db = " --data-dir " + dir.sub("db");
  ASSERT_EQ(run_binary("hold i-1 i-2" + db, out, dir), 0) << out;
  ASSERT_EQ(run_binary("hold --release i-1" + db, out, dir), 0) << out;
  ASSERT_EQ(run_binary("hold" + db, out, dir), 0) << out;
  EXPECT_EQ(out.find("i-1"), std::string::npos) << out;
  EXPECT_NE(out.find("i-2"), std::string::npos) << out;
}

}  // namespace
}  // namespace blackbox::collector::testing
