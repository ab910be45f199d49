// Issue 11 item 6 with a real full disk: the real collector binary keeps its data on a small
// tmpfs mounted in this test's private mount namespace (unshare -m; the tests run as root).
// Filling the tmpfs must stop acknowledgements but not the process: the agent gets ERROR
// disk_full, /v1/health says read_only with the free bytes, queries are answered, the log says
// PAUSED once; freeing space resumes acknowledging without a restart. A start on the still-full
// disk comes up read-only instead of exiting. Nothing acknowledged is lost, nothing stored twice.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <re2/re2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "schemas/streams.h"
#include "tests/collector/fixture.h"
#include "tests/collector/test_agent.h"
#include "tests/support/child_process.h"

namespace blackbox::collector::testing {
namespace {

namespace fs = std::filesystem;
using blackbox::testing::ChildProcess;

constexpr int kMaxBatches = 20'000;  // bound on "send until the disk is full"
constexpr std::uint32_t kRecords = 200;

// A GET over loopback: the status line and body of the answer ("" if it failed).
std::string http_get(std::uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, n);
    }
  }
  ::close(fd);
  return out;
}

// The collector binary on `data_dir`, its ports read from its log.
class Collector {
 public:
  Collector(const std::string& config, const std::string& log) {
    proc_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{BLACKBOX_COLLECTOR_BINARY, "--config", config, "--listen",
                                 "127.0.0.1:0", "--http", "127.0.0.1:0"},
        log);
    int agent = 0, http = 0;
    ok_ = proc_->wait_output(
        [&](const std::string& out) {
          return RE2::PartialMatch(out, R"(listening on 127\.0\.0\.1:(\d+))", &agent) &&
                 RE2::PartialMatch(out, R"(http on 127\.0\.0\.1:(\d+))", &http);
        },
        std::chrono::seconds(120));
    agent_port = static_cast<std::uint16_t>(agent);
    http_port = static_cast<std::uint16_t>(http);
  }
  bool ok() const { return ok_; }
  ChildProcess& proc() { return *proc_; }
  std::uint16_t agent_port = 0, http_port = 0;

 private:
  std::unique_ptr<ChildProcess> proc_;
  bool ok_ = false;
};

// One agent connection: HELLO, then one batch at a time, each answered by ACK or ERROR.
struct Agent {
  TestConnection c;
  bool connect(std::uint16_t port) {
    c = TestConnection();
    return c.connect(port) && c.hello(test_hello("i-1")).has_value();
  }
  // The ACK's highest seq for `stream`, or nullopt with `error` set.
  std::optional<std::uint64_t> send(const std::string& batch, std::string& error) {
    if (!c.send_frame(FrameType::kBatch, batch)) return std::nullopt;
    auto f = c.read_frame(std::chrono::seconds(60));
    if (!f) return std::nullopt;
    if (auto a = as_ack(*f); a && !a->entries.empty()) return a->entries.back().highest_seq;
    if (auto e = as_error(*f)) error = errc_name(e->code);
    return std::nullopt;
  }
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Fills the file system of `dir` with one file until it is full.
void fill(const std::string& path) {
  std::ofstream f(path, std::ios::binary);
  const std::string mb(1 << 20, 'x');
  for (int i = 0; i < 256 && f; ++i) f.write(mb.data(), mb.size()), f.flush();
}

TEST(DiskFullTmpfs, FullDiskPausesIngestKeepsQueriesResumesAndStartsReadOnly) {
  TempDir dir("bb-tmpfs");
  const std::string mnt = dir.sub("mnt");
  fs::create_directory(mnt);
  ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << "unshare -m: " << std::strerror(errno);
  ASSERT_EQ(::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64m"), 0) << std::strerror(errno);
  struct Unmount {
    std::string p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};
  const std::string config = dir.sub("collector.toml");
  std::ofstream(config)
      << "[collector]\ndata_dir = \"" << mnt << "/db\"\nlog_level = \"info\"\n"
      << "[storage]\nwrite_buffer_bytes = \"1MiB\"\nblock_cache_bytes = \"8MiB\"\n";
  const std::string log = dir.sub("collector.log");
  const std::string filler = mnt + "/filler";

  StreamSource src(kStreamLogs, 400);
  std::vector<std::string> sent;  // every batch cut, in order (re-sent as the agent would)
  std::uint64_t acked_next = 0;   // first seq not acknowledged
  {
    Collector col(config, log);
    ASSERT_TRUE(col.ok());
    Agent agent;
    ASSERT_TRUE(agent.connect(col.agent_port));
    std::string error;
    for (int i = 0; i < 5; ++i) {
      sent.push_back(src.next_batch(kRecords));
      auto a = agent.send(sent.back(), error);
      ASSERT_TRUE(a) << error;
      acked_next = *a + 1;
    }
    // The disk fills: acknowledgements stop with disk_full, the process stays up.
    fill(filler);
    for (int i = 0; i < kMaxBatches && error.empty(); ++i) {
      sent.push_back(src.next_batch(kRecords));
      auto a = agent.send(sent.back(), error);
      if (a) acked_next = *a + 1;
      ASSERT_TRUE(a || !error.empty()) << "connection lost without an answer\n" << read_text(log);
    }
    ASSERT_EQ(error, "disk_full");
    EXPECT_TRUE(col.proc().running());
    const std::string health = http_get(col.http_port, "/v1/health");
    EXPECT_NE(health.find("503"), std::string::npos) << health;
    EXPECT_NE(health.find("\"status\":\"read_only\""), std::string::npos) << health;
    EXPECT_NE(health.find("\"free_bytes\""), std::string::npos) << health;
    const std::string inst = http_get(col.http_port, "/v1/instances/i-1");
    EXPECT_NE(inst.find("\"records\":" + std::to_string(acked_next)), std::string::npos) << inst;

    // Space returns: the agent's retries are acknowledged again, no restart.
    fs::remove(filler);
    const std::size_t first_unacked = acked_next / kRecords;
    ASSERT_TRUE(eventually([&] {
      if (!agent.connect(col.agent_port)) return false;
      std::string e;
      auto a = agent.send(sent[first_unacked], e);
      if (a) acked_next = *a + 1;
      return a.has_value();
    }));
    for (std::size_t i = first_unacked + 1; i < sent.size(); ++i) {
      auto a = agent.send(sent[i], error);
      ASSERT_TRUE(a) << "batch " << i << ": " << error;
      acked_next = *a + 1;
    }
    EXPECT_EQ(acked_next, sent.size() * kRecords);
    EXPECT_NE(http_get(col.http_port, "/v1/health").find("200 OK"), std::string::npos);
    col.proc().signal(SIGTERM);
    EXPECT_EQ(col.proc().wait_exit(std::chrono::seconds(120)), 0);
  }
  {
    const std::string text = read_text(log);
    std::size_t paused = 0;
    for (auto p = text.find("ingest: PAUSED"); p != std::string::npos;
         p = text.find("ingest: PAUSED", p + 1))
      ++paused;
    EXPECT_EQ(paused, 1u) << "the pause is logged once per episode";
  }

  // A start on a full disk: read-only, serving queries, refusing ingest.
  fill(filler);
  {
    const std::string log2 = dir.sub("collector-full-start.log");
    Collector col(config, log2);
    ASSERT_TRUE(col.ok()) << "the collector did not come up on a full disk\n" << read_text(log2);
    const std::string health = http_get(col.http_port, "/v1/health");
    EXPECT_NE(health.find("\"read_only_start\":true"), std::string::npos) << health;
    const std::string inst = http_get(col.http_port, "/v1/instances/i-1");
    EXPECT_NE(inst.find("\"records\":" + std::to_string(acked_next)), std::string::npos) << inst;
    TestConnection c;
    ASSERT_TRUE(c.connect(col.agent_port));
    EXPECT_FALSE(c.hello(test_hello("i-1")));
    ASSERT_TRUE(c.last_error());
    EXPECT_EQ(c.last_error()->code, Errc::kDiskFull);
    col.proc().signal(SIGTERM);
    EXPECT_EQ(col.proc().wait_exit(std::chrono::seconds(120)), 0);
  }
  fs::remove(filler);

  // Everything acknowledged is stored, once.
  StoreOptions so;
  so.path = mnt + "/db";
  auto store = Store::open(so);
  ASSERT_TRUE(store);
  auto info = (*store)->get_instance("i-1");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->records, sent.size() * kRecords);
  std::uint64_t next = 0;
  ASSERT_TRUE((*store)->scan_stream("i-1", kStreamLogs, 0, [&](const StoredBatch& b) {
    EXPECT_EQ(b.index.first_seq, next) << "a hole or a batch stored twice";
    next = b.index.end_seq();
    return true;
  }));
  EXPECT_EQ(next, sent.size() * kRecords);
  std::printf("[ tmpfs    ] %zu batches, %llu records acknowledged and stored once\n", sent.size(),
              static_cast<unsigned long long>(next));
}

}  // namespace
}  // namespace blackbox::collector::testing
