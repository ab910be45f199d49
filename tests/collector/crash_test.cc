// Contract 1 and 2 under crashes: the real blackbox-collector binary is killed with SIGKILL
// after every 40k-120k acknowledged records (or 2 s) while a test agent sends 1,000,000
// records over two streams, resuming from each WELCOME and resending whatever was not
// acknowledged. Afterwards every stream holds exactly the sequences [0, N): nothing lost,
// nothing stored twice, the chain unbroken; and RocksDB reopened every time (each restart
// must log "listening on").
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>

#include "collector/store/store.h"
#include "schemas/streams.h"
#include "schemas/zstd_codec.h"
#include "tests/collector/fixture.h"
#include "tests/collector/test_agent.h"

extern char** environ;

namespace blackbox::collector::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The collector binary as a child process; its stderr goes to a log file.
class CollectorProcess {
 public:
  CollectorProcess(std::string data_dir, std::string log_path)
      : data_dir_(std::move(data_dir)), log_path_(std::move(log_path)) {}
  ~CollectorProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // Starts it and waits for its "listening on" line. False if it does not come up.
  bool start(std::chrono::milliseconds timeout = 20s) {
    const auto offset = log_size();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    std::vector<std::string> args = {BLACKBOX_COLLECTOR_BINARY,
                                     "--data-dir",
                                     data_dir_,
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--log-level",
                                     "info"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return false;
    const auto deadline = SteadyClock::now() + timeout;
    while (SteadyClock::now() < deadline) {
      if (auto p = find_port(offset)) {
        port_ = *p;
        return true;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // SIGTERM; returns the exit status (or -1 on a signal death / timeout).
  int terminate(std::chrono::milliseconds timeout = 30s) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const auto deadline = SteadyClock::now() + timeout;
    while (SteadyClock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(10ms);
    }
    kill9();
    return -1;
  }

  std::uint16_t port() const { return port_; }
  bool running() const { return pid_ > 0; }

 private:
  std::size_t log_size() const {
    std::ifstream in(log_path_, std::ios::binary | std::ios::ate);
    return in ? static_cast<std::size_t>(in.tellg()) : 0;
  }
  std::optional<std::uint16_t> find_port(std::size_t offset) const {
    std::ifstream in(log_path_, std::ios::binary);
    if (!in) return std::nullopt;
    in.seekg(static_cast<std::streamoff>(offset));
    std::string line;
    while (std::getline(in, line)) {
      auto p = line.find("listening on 127.0.0.1:");
      if (p != std::string::npos) return static_cast<std::uint16_t>(std::stoi(line.substr(p + 23)));
    }
    return std::nullopt;
  }

  std::string data_dir_, log_path_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

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

  // Connects if needed and moves data for up to `slice`. False on a protocol breach (the
  // collector claimed or acknowledged something impossible): see error().
  bool pump(std::uint16_t port, std::chrono::milliseconds slice) {
    const auto until = SteadyClock::now() + slice;
    if (!conn_.connected()) {
      if (port == 0 || !conn_.connect(port, 1s)) return true;
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
    while (SteadyClock::now() < until && !done()) {
      for (auto& s : streams_) {
        while (s.sent < s.unacked.size() || s.src.next_seq() < total_) {
          if (s.sent >= kWindow) break;
          if (s.sent == s.unacked.size()) {
            const auto n = static_cast<std::uint32_t>(
                std::min<std::uint64_t>(batch_records_, total_ - s.src.next_seq()));
            const auto first = s.src.next_seq();
            s.unacked.push_back({first, first + n, s.src.next_batch(n)});
          }
          if (!conn_.send_frame(FrameType::kBatch, s.unacked[s.sent].bytes)) {
            conn_.close();
            return true;
          }
          ++s.sent;
        }
      }
      auto f = conn_.read_frame(200ms);
      if (!f) {
        if (!conn_.wait_closed(0ms)) continue;  // just no ACK yet
        conn_.close();
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
        return true;
      }
    }
    return true;
  }

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
  std::mt19937 rng(20240601);
  SCOPED_TRACE("seed 20240601");
  TempDir dir;
  CollectorProcess proc(dir.sub("db"), dir.sub("collector.log"));

  std::atomic<std::uint16_t> port{0};
  std::atomic<bool> stop{false};
  std::atomic<int> kills{0};
  std::atomic<bool> start_failed{false};
  std::atomic<std::uint64_t> progress{0};
  std::mutex mu;
  std::condition_variable cv;
  // Kills after a random amount of acknowledged progress (40k..120k records, so ~12 kills
  // whatever the machine's speed) or 2 s, whichever first: mid-batch, mid-write, mid-fsync.
  std::thread killer([&] {
    for (int round = 0; round < 1000 && !stop; ++round) {
      if (!proc.start()) {
        start_failed = true;
        return;
      }
      port = proc.port();
      const std::uint64_t kill_at = progress.load() + 40'000 + rng() % 80'000;
      std::unique_lock lock(mu);
      if (cv.wait_for(lock, 2s, [&] { return stop.load() || progress.load() >= kill_at; }) && stop)
        return;  // leave it running
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 50));  // off the ACK edge
      port = 0;
      proc.kill9();
      ++kills;
    }
  });

  ResendingAgent agent(kStreams, kPerStream, 1000);
  const auto deadline = SteadyClock::now() + 120s;
  bool ok = true;
  while (!agent.done() && SteadyClock::now() < deadline && !start_failed && ok) {
    ok = agent.pump(port.load(), 50ms);
    progress = agent.acked_total();
    cv.notify_all();
  }
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  cv.notify_all();
  killer.join();
  ASSERT_FALSE(start_failed) << "the collector did not come back after a kill -9 (see "
                             << dir.sub("collector.log") << ")";
  ASSERT_TRUE(ok) << agent.error();
  ASSERT_TRUE(agent.done()) << "not everything acknowledged within the deadline";
  EXPECT_GE(kills.load(), 6);
  std::printf("[ crash    ] %d kill -9s, %d connections\n", kills.load(), agent.connections());
  // The killer may have struck last: bring it up once more, then stop it cleanly.
  if (!proc.running()) {
    ASSERT_TRUE(proc.start()) << "no restart after the last kill -9";
  }
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
