// Issue 11 item 4: one instance, one writer. Two agents claiming the same instance id (a cloned
// machine-id) must not overwrite or swallow each other's records: the collector refuses the
// second live connection from another boot with an ERROR naming the first, keeps refusing a
// boot it saw contend with a live writer, and lets a reconnect of the same boot replace its
// stale connection. The end-to-end test runs two real blackbox-agent processes (boot ids from
// files through agent.boot_id_file) against the real collector on loopback.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "collector/store/store.h"
#include "schemas/streams.h"
#include "schemas/zstd_codec.h"
#include "tests/collector/fixture.h"
#include "tests/support/child_process.h"
#include "tests/support/test_agent.h"

namespace blackbox::collector::testing {
namespace {

using blackbox::testing::ChildOptions;
using blackbox::testing::ChildProcess;
using blackbox::testing::read_file;

Hello hello_from(const std::string& instance, const std::string& boot) {
  Hello h = test_hello(instance);
  h.boot_id = boot;
  h.hostname = "host-" + boot;
  return h;
}

std::uint64_t rejects(Collector& c, const std::string& reason) {
  return c.metrics()
      .counter("blackbox_collector_rejects_total{reason=\"" + reason + "\"}", "")
      .load();
}

// A connection that said HELLO as (instance, boot) and got its WELCOME.
TestConnection writer(std::uint16_t port, const std::string& instance, const std::string& boot) {
  TestConnection c;
  EXPECT_TRUE(c.connect(port));
  EXPECT_TRUE(c.hello(hello_from(instance, boot)))
      << (c.last_error() ? c.last_error()->message : "no WELCOME");
  return c;
}

// The ERROR a HELLO as (instance, boot) gets instead of a WELCOME; then the connection closes.
ErrorFrame refusal(std::uint16_t port, const std::string& instance, const std::string& boot) {
  TestConnection c;
  EXPECT_TRUE(c.connect(port));
  EXPECT_FALSE(c.hello(hello_from(instance, boot)));
  EXPECT_TRUE(c.wait_closed(10s));
  return c.last_error().value_or(ErrorFrame{Errc::kOk, "no ERROR"});
}

// Sends a batch of 10 records and returns the acknowledged sequence (-1: no ACK).
std::int64_t ship(TestConnection& c, StreamSource& src) {
  if (!c.send_frame(FrameType::kBatch, src.next_batch(10))) return -1;
  auto f = c.read_frame(10s);
  auto ack = f ? as_ack(*f) : std::nullopt;
  return ack && !ack->entries.empty() ? static_cast<std::int64_t>(ack->entries[0].highest_seq) : -1;
}

TEST(SameInstance, ASecondBootIsRefusedWhileTheFirstIsConnected) {
  TempDir dir("same-instance");
  RunningCollector rc(test_config(dir.sub("db")));
  ASSERT_TRUE(rc.ok());
  TestConnection a = writer(rc.port(), "i-1", "boot-a");
  const ErrorFrame e = refusal(rc.port(), "i-1", "boot-b");
  EXPECT_EQ(e.code, Errc::kIdentityMismatch);
  EXPECT_NE(e.message.find("boot boot-a"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("host-boot-a"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("agent.instance_id"), std::string::npos) << e.message;
  EXPECT_EQ(rejects(rc.collector(), "instance_in_use"), 1u);
  // The first writer is untouched; another instance from boot-b is fine.
  StreamSource src(kStreamLogs);
  EXPECT_EQ(ship(a, src), 9);
  TestConnection other = writer(rc.port(), "i-2", "boot-b");
}

TEST(SameInstance, TheSameBootReconnectingReplacesItsStaleConnection) {
  TempDir dir("same-instance-replace");
  RunningCollector rc(test_config(dir.sub("db")));
  ASSERT_TRUE(rc.ok());
  TestConnection old_conn = writer(rc.port(), "i-1", "boot-a");
  StreamSource src(kStreamLogs);
  ASSERT_EQ(ship(old_conn, src), 9);
  // The agent lost its connection without the collector noticing, and connects again.
  TestConnection fresh;
  ASSERT_TRUE(fresh.connect(rc.port()));
  auto w = fresh.hello(hello_from("i-1", "boot-a"));
  ASSERT_TRUE(w) << (fresh.last_error() ? fresh.last_error()->message : "no WELCOME");
  ASSERT_EQ(w->streams.size(), 1u);
  EXPECT_EQ(w->streams[0].next_seq, 10u);
  // The stale one is told and closed.
  auto f = old_conn.read_frame(10s);
  ASSERT_TRUE(f && as_error(*f));
  EXPECT_EQ(as_error(*f)->code, Errc::kUnavailable);
  EXPECT_TRUE(old_conn.wait_closed(10s));
  EXPECT_EQ(rejects(rc.collector(), "replaced"), 1u);
  EXPECT_EQ(ship(fresh, src), 19);
}

TEST(SameInstance, ABootRefusedWhileTheWriterWasAliveStaysRefusedAfterItLeaves) {
  TempDir dir("same-instance-contested");
  RunningCollector rc(test_config(dir.sub("db")));
  ASSERT_TRUE(rc.ok());
  TestConnection a = writer(rc.port(), "i-1", "boot-a");
  EXPECT_EQ(refusal(rc.port(), "i-1", "boot-b").code, Errc::kIdentityMismatch);
  // A stale writer would send nothing more; this one proves alive, then leaves.
  ASSERT_TRUE(a.send_frame(FrameType::kHeartbeat, encode_heartbeat(Heartbeat{1, 0, 10'000})));
  ASSERT_TRUE(a.send_frame(FrameType::kGoodbye, encode_goodbye(Goodbye{"sigterm", false})));
  auto bye = a.read_frame(10s);
  ASSERT_TRUE(bye && bye->type == FrameType::kGoodbye);
  ASSERT_TRUE(a.wait_closed(10s));
  ASSERT_TRUE(eventually([&] { return rc.collector().connections() == 0; }));
  const ErrorFrame again = refusal(rc.port(), "i-1", "boot-b");
  EXPECT_NE(again.message.find("written by another machine"), std::string::npos) << again.message;
  // A boot refused only while the writer was a stale, silent connection is a reboot: let in.
  TestConnection stale = writer(rc.port(), "i-3", "boot-old");
  EXPECT_EQ(refusal(rc.port(), "i-3", "boot-new").code, Errc::kIdentityMismatch);
  stale.close();
  ASSERT_TRUE(eventually([&] { return rc.collector().connections() == 0; }));
  TestConnection rebooted = writer(rc.port(), "i-3", "boot-new");
}

// ---- Two real agents -------------------------------------------------------------------------

// Every log line the store holds for `instance`, with how many times each is stored.
std::map<std::string, int> stored_lines(const Store& store, const std::string& instance) {
  std::map<std::string, int> out;
  ZstdDecompressor z;
  std::string scratch;
  (void)store.scan_stream(instance, kStreamLogs, 0, [&](const StoredBatch& b) {
    (void)decode_batch(b.bytes, Limits{}, z, scratch,
                       [&](const RecordView& r) { ++out[std::string(r.line)]; });
    return true;
  });
  return out;
}

// How many of `prefix` 0..n-1 are stored exactly once; `dups` counts the extra copies.
int once(const std::map<std::string, int>& lines, const std::string& prefix, int n, int& dups) {
  int found = 0;
  for (int i = 0; i < n; ++i) {
    auto it = lines.find(prefix + std::to_string(i));
    if (it == lines.end()) continue;
    ++found;
    dups += it->second - 1;
  }
  return found;
}

int count_prefix(const std::map<std::string, int>& lines, const std::string& prefix) {
  int n = 0;
  for (const auto& [line, c] : lines)
    if (line.rfind(prefix, 0) == 0) n += c;
  return n;
}

class TwoAgents {
 public:
  explicit TwoAgents(TempDir& dir) : dir_(dir.path()) {}

  // An agent of instance `instance` whose boot id is `boot`, tailing `name`.log (100 lines
  // "<name> line <i>"), with its state in `name`/.
  std::unique_ptr<ChildProcess> start(const std::string& name, const std::string& instance,
                                      const std::string& boot, std::uint16_t port) {
    const std::string state = dir_ + "/" + name;
    const std::string log = dir_ + "/" + name + ".log";
    if (!std::filesystem::exists(log)) {
      std::ofstream out(log);
      for (int i = 0; i < 100; ++i) out << name << " line " << i << "\n";
      std::ofstream(dir_ + "/" + name + ".boot") << boot << "\n";
    }
    std::ofstream(state + ".toml")
        << "[agent]\nboot_id_file = \"" << dir_ << "/" << name << ".boot\"\n"
        << "[ship]\nbackoff_min = \"50ms\"\nbackoff_max = \"500ms\"\n";
    return std::make_unique<ChildProcess>(
        ChildOptions{{BLACKBOX_AGENT_BINARY, "--config", state + ".toml", "--collector",
                      "127.0.0.1:" + std::to_string(port), "--instance-id", instance, "--state-dir",
                      state, "--file", log, "--read-from", "beginning", "--metrics-listen",
                      "127.0.0.1:0", "--log-level", "info"},
                     state + ".err",
                     "",
                     {}});
  }

 private:
  std::string dir_;
};

TEST(SameInstance, TwoRealAgentsWithOneInstanceIdLoseAndMislabelNothing) {
  TempDir dir("same-instance-agents");
  RunningCollector rc(test_config(dir.sub("db")));
  ASSERT_TRUE(rc.ok());
  const Store& store = rc.collector().store();
  TwoAgents agents(dir);
  int dups = 0;

  // A ships its 100 lines as i-1.
  auto a = agents.start("a", "i-1", "boot-aaaa", rc.port());
  ASSERT_TRUE(eventually([&] {
    return once(stored_lines(store, "i-1"), "a line ", 100, dups) == 100;
  })) << read_file(dir.path() + "/a.err");

  // B claims i-1 too: refused, at error level on both sides, and its lines stay spooled.
  auto b = agents.start("b", "i-1", "boot-bbbb", rc.port());
  const auto refused = [](const std::string& log) {  // one line, at error level
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);)
      if (line.find("Z error ship: ") != std::string::npos &&
          line.find("already connected from boot boot-aaaa") != std::string::npos)
        return true;
    return false;
  };
  ASSERT_TRUE(b->wait_output(refused, 120s)) << read_file(dir.path() + "/b.err");
  EXPECT_GE(rejects(rc.collector(), "instance_in_use"), 1u);

  // A leaves cleanly (GOODBYE: alive after refusing B). B is a second machine, not a reboot:
  // it stays refused, so it never takes A's positions for acknowledgements of its own lines.
  a->signal(SIGTERM);
  ASSERT_EQ(a->wait_exit(120s), 0) << read_file(dir.path() + "/a.err");
  const auto offset = blackbox::testing::file_size(dir.path() + "/b.err");
  ASSERT_TRUE(b->wait_output(
      [](const std::string& log) {
        return log.find("written by another machine") != std::string::npos;
      },
      120s, offset))
      << read_file(dir.path() + "/b.err");
  auto lines = stored_lines(store, "i-1");
  EXPECT_EQ(count_prefix(lines, "b line "), 0) << "B's lines mislabelled as A's instance";
  EXPECT_EQ(count_prefix(lines, "a line "), 100);

  // The operator gives B its own id, as the ERROR says. B's spooled lines were written as i-1,
  // so they are never relabelled i-2 (issue 10 item 3): B sets them aside in its state
  // directory and says so in a gap record stored under i-2; none reach i-1 or i-2 as lines.
  b->signal(SIGTERM);
  ASSERT_TRUE(b->wait_exit(120s));
  b = agents.start("b", "i-2", "boot-bbbb", rc.port());
  const auto set_aside = [](const std::map<std::string, int>& lines) {
    for (const auto& [line, c] : lines)
      if (line.find("spool written by another instance") != std::string::npos &&
          line.find("i-1") != std::string::npos)
        return true;
    return false;
  };
  ASSERT_TRUE(eventually([&] { return set_aside(stored_lines(store, "i-2")); }))
      << read_file(dir.path() + "/b.err");
  EXPECT_FALSE(std::filesystem::is_empty(dir.path() + "/b/spool/foreign"))
      << "B's i-1 batches are kept in its state directory";
  dups = 0;
  EXPECT_EQ(once(stored_lines(store, "i-1"), "a line ", 100, dups), 100);
  EXPECT_EQ(dups, 0);
  EXPECT_EQ(count_prefix(stored_lines(store, "i-1"), "b line "), 0);
  EXPECT_EQ(count_prefix(stored_lines(store, "i-2"), "b line "), 0) << "relabelled as i-2";
  EXPECT_EQ(count_prefix(stored_lines(store, "i-2"), "a line "), 0);
  EXPECT_TRUE(store.gaps("i-1")->empty());
  EXPECT_TRUE(store.gaps("i-2")->empty());
  b->signal(SIGTERM);
  EXPECT_EQ(b->wait_exit(120s), 0) << read_file(dir.path() + "/b.err");
}

}  // namespace
}  // namespace blackbox::collector::testing
