// The agent-facing server over real TCP on 127.0.0.1 (port 0): the protocol, ACK after
// durability, and hostile input — garbage, lying lengths, a zstd bomb, 1,000 idle connections,
// a byte-a-second sender — while a well-behaved agent keeps working.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <future>
#include <random>
#include <thread>

#include "collector/server/auth.h"
#include "collector/server/memory_budget.h"
#include "collector/server/server.h"
#include "schemas/streams.h"
#include "schemas/zstd_codec.h"
#include "tests/collector/fixture.h"
#include "tests/collector/test_agent.h"
#include "tests/collector/writer_harness.h"

namespace blackbox::collector::testing {
namespace {

// Sends `batches` batches of `records` records and waits until all are acknowledged.
// Returns the highest acknowledged sequence, or -1.
std::int64_t send_and_ack(TestConnection& c, StreamSource& src, int batches,
                          std::uint32_t records) {
  for (int i = 0; i < batches; ++i)
    if (!c.send_frame(FrameType::kBatch, src.next_batch(records))) return -1;
  const auto want = static_cast<std::int64_t>(src.next_seq()) - 1;
  std::int64_t acked = -1;
  for (int i = 0; i < 10'000 && acked < want; ++i) {
    auto f = c.read_frame(10s);
    if (!f) return acked;
    if (auto a = as_ack(*f)) {
      for (const auto& e : a->entries)
        if (e.stream == src.stream()) acked = std::max<std::int64_t>(acked, e.highest_seq);
    } else {
      return acked;
    }
  }
  return acked;
}

TestConnection agent(std::uint16_t port, const std::string& instance, Welcome* welcome = nullptr) {
  TestConnection c;
  EXPECT_TRUE(c.connect(port));
  auto w = c.hello(test_hello(instance));
  EXPECT_TRUE(w) << (c.last_error() ? c.last_error()->message : "no WELCOME");
  if (w && welcome) *welcome = *w;
  return c;
}

Errc expect_error_then_close(TestConnection& c, std::chrono::milliseconds timeout = 10s) {
  for (int i = 0; i < 1000; ++i) {
    auto f = c.read_frame(timeout);
    if (!f) return Errc::kOk;
    if (auto e = as_error(*f)) {
      EXPECT_TRUE(c.wait_closed(timeout)) << "connection left open after ERROR";
      return e->code;
    }
  }
  return Errc::kOk;
}

class ServerTest : public ::testing::Test {
 protected:
  void start(const std::function<void(Config&)>& tweak = {}) {
    config_ = test_config(dir_.sub("db"));
    if (tweak) tweak(config_);
    collector_ = std::make_unique<RunningCollector>(config_);
    ASSERT_TRUE(collector_->ok());
  }
  std::uint16_t port() const { return collector_->port(); }
  Store& store() { return collector_->collector().store(); }

  TempDir dir_;
  Config config_;
  std::unique_ptr<RunningCollector> collector_;
};

TEST_F(ServerTest, HelloBatchesAckedAndResumable) {
  start();
  StreamSource src(kStreamLogs);
  {
    Welcome w;
    auto c = agent(port(), "i-1", &w);
    EXPECT_TRUE(w.streams.empty());
    EXPECT_EQ(send_and_ack(c, src, 20, 100), 1999);
  }
  Welcome w;
  auto c = agent(port(), "i-1", &w);
  ASSERT_EQ(w.streams.size(), 1u);
  EXPECT_EQ(w.streams[0].next_seq, 2000u);
  EXPECT_EQ(w.streams[0].head, src.head());
  EXPECT_EQ(send_and_ack(c, src, 5, 100), 2499);
  auto info = store().get_instance("i-1");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->records, 2500u);
  auto metrics = collector_->collector().metrics().render();
  EXPECT_NE(metrics.find("blackbox_collector_records_stored_total 2500"), std::string::npos)
      << metrics;
}

TEST_F(ServerTest, GoodbyeIsAnsweredAndTerminates) {
  start();
  auto c = agent(port(), "i-bye");
  StreamSource src(kStreamLogs);
  ASSERT_TRUE(c.send_frame(FrameType::kBatch, src.next_batch(10)));
  ASSERT_TRUE(c.send_frame(FrameType::kGoodbye, encode_goodbye(Goodbye{"sigterm", false})));
  bool acked = false, bye = false;
  for (int i = 0; i < 10 && !bye; ++i) {
    auto f = c.read_frame(10s);
    ASSERT_TRUE(f);
    acked |= f->type == FrameType::kAck;
    bye |= f->type == FrameType::kGoodbye;
  }
  EXPECT_TRUE(acked);
  EXPECT_TRUE(bye);
  EXPECT_TRUE(c.wait_closed(5s));
  auto info = store().get_instance("i-bye");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->state, InstanceState::kTerminated);
  EXPECT_EQ(info->end.reason, "sigterm");
}

TEST_F(ServerTest, SilentInstanceAndReconnectOverTheWire) {
  start([](Config& c) { c.lifecycle.silent_after_ms = 300; });
  { auto c = agent(port(), "i-quiet"); }
  ASSERT_TRUE(eventually([&] {
    auto i = store().get_instance("i-quiet");
    return i && i->state == InstanceState::kSilent;
  }));
  auto c = agent(port(), "i-quiet");
  ASSERT_TRUE(eventually([&] {
    auto evs = store().lifecycle_events("i-quiet");
    return evs && !evs->empty() && evs->back().kind == LifecycleKind::kHello && evs->size() == 4;
  }));
  auto evs = store().lifecycle_events("i-quiet");
  EXPECT_EQ((*evs)[1].kind, LifecycleKind::kWentSilent);
  EXPECT_EQ((*evs)[2].kind, LifecycleKind::kReconnected);
  EXPECT_EQ(store().get_instance("i-quiet")->state, InstanceState::kRunning);
}

TEST_F(ServerTest, GarbageBeforeHelloGetsAnErrorAndClose) {
  start();
  TestConnection c;
  ASSERT_TRUE(c.connect(port()));
  std::mt19937 rng(7);  // seed 7
  std::string junk(1000, '\0');
  for (auto& ch : junk) ch = static_cast<char>(rng());
  ASSERT_TRUE(c.send_raw(junk));
  EXPECT_EQ(expect_error_then_close(c), Errc::kBadMagic);
  // Everyone else carries on.
  auto good = agent(port(), "i-good");
  StreamSource src(kStreamLogs);
  EXPECT_EQ(send_and_ack(good, src, 3, 10), 29);
}

TEST_F(ServerTest, BatchBeforeHelloIsAProtocolViolation) {
  start();
  TestConnection c;
  ASSERT_TRUE(c.connect(port()));
  StreamSource src(kStreamLogs);
  ASSERT_TRUE(c.send_frame(FrameType::kBatch, src.next_batch(3)));
  EXPECT_EQ(expect_error_then_close(c), Errc::kProtocolViolation);
}

TEST_F(ServerTest, LyingLengths) {
  start([](Config& c) { c.server.frame_timeout_ms = 1000; });
  {  // a length over the cap: refused before anything is allocated
    auto c = agent(port(), "i-liar");
    std::string hdr;
    append_frame(hdr, FrameType::kBatch, "x");
    bytes::store_le<std::uint32_t>(hdr.data() + 8, 0x7fffffff);
    ASSERT_TRUE(c.send_raw(std::string_view(hdr).substr(0, kFrameHeaderBytes)));
    EXPECT_EQ(expect_error_then_close(c), Errc::kFrameTooLarge);
  }
  {  // a length that promises more than comes: the frame deadline ends it
    auto c = agent(port(), "i-liar");
    std::string f;
    append_frame(f, FrameType::kBatch, std::string(5000, 'x'));
    ASSERT_TRUE(c.send_raw(std::string_view(f).substr(0, 100)));
    EXPECT_EQ(expect_error_then_close(c), Errc::kTimeout);
  }
  {  // record framing that lies inside a valid batch
    auto c = agent(port(), "i-liar");
    std::string raw;
    bytes::put_varint(raw, 1'000'000);  // record_len far past the end
    raw.append("abc");
    CraftedBatch cb;
    cb.compression = Compression::kNone;
    cb.raw_size = static_cast<std::uint32_t>(raw.size());
    ASSERT_TRUE(c.send_frame(FrameType::kBatch, craft_batch(cb, raw)));
    EXPECT_EQ(expect_error_then_close(c), Errc::kMalformedRecord);
  }
  EXPECT_EQ(store().get_instance("i-liar")->records, 0u);
}

TEST_F(ServerTest, ZstdBombIsStoppedAtTheDeclaredSize) {
  start();
  // 256 MiB of zeros compress to a few KiB; the header claims 1 KiB decompressed. Made before
  // connecting: on a busy machine it can take longer than the idle deadline.
  std::string zeros(256u << 20, '\0');
  std::string bomb;
  ZstdCompressor z(1);
  ASSERT_TRUE(z.compress(zeros, bomb));
  zeros = std::string();
  ASSERT_LT(bomb.size(), 1u << 20);
  auto c = agent(port(), "i-bomb");
  CraftedBatch cb;
  cb.raw_size = 1024;
  const auto before = rss_bytes();
  ASSERT_TRUE(c.send_frame(FrameType::kBatch, craft_batch(cb, bomb)));
  const Errc e = expect_error_then_close(c);
  EXPECT_TRUE(e == Errc::kBatchTooLarge || e == Errc::kMalformedRecord) << errc_name(e);
  EXPECT_LT(rss_bytes(), before + (64u << 20));
  // And one that admits its size: refused from the header alone.
  auto c2 = agent(port(), "i-bomb");
  cb.raw_size = 1u << 30;
  ASSERT_TRUE(c2.send_frame(FrameType::kBatch, craft_batch(cb, bomb)));
  EXPECT_EQ(expect_error_then_close(c2), Errc::kBatchTooLarge);
  auto good = agent(port(), "i-good");
  StreamSource src(kStreamLogs);
  EXPECT_EQ(send_and_ack(good, src, 3, 10), 29);
}

TEST_F(ServerTest, ThousandIdleConnectionsAreDroppedWhileAnAgentWorks) {
  rlimit rl{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  const int kIdle = rl.rlim_cur >= 2'200 ? 1000 : static_cast<int>(rl.rlim_cur / 2 - 100);
  ASSERT_GT(kIdle, 100);
  start([](Config& c) { c.server.hello_timeout_ms = 2000; });
  const auto before = rss_bytes();
  std::vector<TestConnection> idle(static_cast<std::size_t>(kIdle));
  for (auto& c : idle) ASSERT_TRUE(c.connect(port()));
  ASSERT_TRUE(eventually(
      [&] { return collector_->collector().connections() >= static_cast<std::size_t>(kIdle); }));
  // The agent keeps its throughput meanwhile.
  auto good = agent(port(), "i-good");
  StreamSource src(kStreamLogs);
  EXPECT_EQ(send_and_ack(good, src, 50, 100), 4999);
  // Every idle connection gets ERROR timeout and is closed.
  int closed = 0;
  for (auto& c : idle) {
    auto f = c.read_frame(10s);
    if (f && as_error(*f) && as_error(*f)->code == Errc::kTimeout && c.wait_closed(5s)) ++closed;
  }
  EXPECT_EQ(closed, kIdle);
  EXPECT_LT(rss_bytes(), before + (100u << 20));
  ASSERT_TRUE(eventually([&] { return collector_->collector().connections() <= 1; }));
  EXPECT_EQ(send_and_ack(good, src, 5, 100), 5499);
}

TEST_F(ServerTest, ByteASecondSenderIsDropped) {
  start([](Config& c) { c.server.frame_timeout_ms = 2000; });
  auto slow = agent(port(), "i-slow");
  auto good = agent(port(), "i-good");
  StreamSource slow_src(kStreamLogs), src(kStreamLogs);
  const std::string frame = [&] {
    std::string f;
    append_frame(f, FrameType::kBatch, slow_src.next_batch(10));
    return f;
  }();
  std::optional<Frame> answer;
  std::size_t sent = 0;
  for (; sent < frame.size() && !answer; ++sent) {
    ASSERT_TRUE(slow.send_raw(frame.substr(sent, 1)));
    answer = slow.read_frame(1s);  // paces the sender at a byte a second
    if (sent % 2 == 0) {
      const auto acked = send_and_ack(good, src, 2, 50);
      EXPECT_EQ(acked, static_cast<std::int64_t>(src.next_seq()) - 1);
    }
  }
  ASSERT_TRUE(answer);
  ASSERT_TRUE(as_error(*answer));
  EXPECT_EQ(as_error(*answer)->code, Errc::kTimeout);
  EXPECT_LE(sent, 5u);
  EXPECT_TRUE(slow.wait_closed(5s));
}

TEST_F(ServerTest, OverMaxConnectionsIsBusy) {
  start([](Config& c) { c.server.max_connections = 3; });
  std::vector<TestConnection> held;
  for (int i = 0; i < 3; ++i) held.push_back(agent(port(), "i-" + std::to_string(i)));
  TestConnection extra;
  ASSERT_TRUE(extra.connect(port()));
  EXPECT_EQ(expect_error_then_close(extra), Errc::kBusy);
  held.clear();
  ASSERT_TRUE(eventually([&] { return collector_->collector().connections() == 0; }));
  auto c = agent(port(), "i-after");
}

TEST_F(ServerTest, TokenDecidesTheInstance) {
  start([](Config& c) { c.collector.auth_secret = "fleet-secret"; });
  TestConnection bad;
  ASSERT_TRUE(bad.connect(port()));
  EXPECT_FALSE(bad.hello(test_hello("i-1", hello_token("fleet-secret", "i-2"))));
  ASSERT_TRUE(bad.last_error());
  EXPECT_EQ(bad.last_error()->code, Errc::kUnauthorized);
  TestConnection good;
  ASSERT_TRUE(good.connect(port()));
  EXPECT_TRUE(good.hello(test_hello("i-1", hello_token("fleet-secret", "i-1"))));
}

TEST_F(ServerTest, BackpressureBoundsMemoryAndLosesNothing) {
  start([](Config& c) {
    c.limits.max_frame_bytes = 64u << 10;
    c.server.max_connection_inflight_bytes = 64u << 10;
    c.server.max_inflight_bytes = 128u << 10;
    c.storage.max_group_bytes = 64u << 10;
  });
  constexpr int kAgents = 4, kBatches = 60;
  std::vector<std::thread> threads;
  std::vector<std::int64_t> acked(kAgents, -2);
  for (int a = 0; a < kAgents; ++a) {
    threads.emplace_back([&, a] {
      auto c = agent(port(), "i-bp-" + std::to_string(a));
      StreamSource src(kStreamLogs, 180);
      acked[a] = send_and_ack(c, src, kBatches, 500);
    });
  }
  for (auto& t : threads) t.join();
  for (int a = 0; a < kAgents; ++a) EXPECT_EQ(acked[a], kBatches * 500 - 1) << "agent " << a;
  const auto m = collector_->collector().metrics().render();
  EXPECT_EQ(m.find("blackbox_collector_backpressure_waits_total 0\n"), std::string::npos) << m;
}

// Batches are verified and indexed on the server's worker pool, never on an I/O thread: with
// ONE I/O thread and a batch held inside the indexer, another connection still gets its
// WELCOME and the ACKs of its own batches; the held batch is acknowledged once released, and a
// connection's ACKs keep their order. Driven by events (the hook reports that it holds the
// batch and waits for the test), not by time.
TEST(ServerThreads, ABatchHeldInTheIndexerStopsNoOtherConnection) {
  WriterHarness h;
  std::promise<void> held;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::once_flag release_once;
  auto let_go = [&] { std::call_once(release_once, [&] { release.set_value(); }); };
  std::atomic<bool> first{true};
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.index_threads = 2;
  o.before_index = [&](std::string_view instance) {
    if (instance == "i-held" && first.exchange(false)) {
      held.set_value();
      released.wait();
    }
  };
  boost::asio::io_context io(1);
  auto server = std::make_unique<Server>(io, *h.writer, h.metrics, o);
  auto ep = server->listen();
  ASSERT_TRUE(ep);
  server->start();
  std::thread io_thread([&] { io.run(); });
  {
    auto slow = agent(ep->port(), "i-held");
    StreamSource slow_src(kStreamLogs);
    EXPECT_TRUE(slow.send_frame(FrameType::kBatch, slow_src.next_batch(10)));
    held.get_future().wait();  // the batch sits in the indexer; the I/O thread is free

    auto other = agent(ep->port(), "i-other");  // its WELCOME comes meanwhile
    StreamSource src(kStreamLogs);
    EXPECT_EQ(send_and_ack(other, src, 3, 10), 29);

    let_go();
    EXPECT_EQ(send_and_ack(slow, slow_src, 0, 0), 9);
    constexpr int kBatches = 20;
    for (int i = 0; i < kBatches; ++i)
      ASSERT_TRUE(slow.send_frame(FrameType::kBatch, slow_src.next_batch(5)));
    std::int64_t last = 9;
    for (int i = 0; i < kBatches && last < 9 + 5 * kBatches; ++i) {
      auto f = slow.read_frame(10s);
      ASSERT_TRUE(f && as_ack(*f));
      ASSERT_EQ(as_ack(*f)->entries.size(), 1u);
      const auto seq = static_cast<std::int64_t>(as_ack(*f)->entries[0].highest_seq);
      EXPECT_GT(seq, last) << "ACKs out of order";
      last = seq;
    }
    EXPECT_EQ(last, 9 + 5 * kBatches);
  }
  let_go();
  server->shutdown();
  io.stop();
  io_thread.join();
  server.reset();    // waits for the index workers
  h.writer->stop();  // its last completions would post to the io_context
}

// A lease takes its bytes from its budget and the parent, and gives them back to both when it
// goes (or is moved from and the new owner goes); a refused lease takes nothing and wakes its
// caller when the full budget gets bytes back.
TEST(MemoryBudget, LeaseGivesBytesBackToItsBudgetAndTheParent) {
  MemoryBudget global(100);
  MemoryBudget conn(60, &global);
  int woken = 0;
  auto a = conn.try_lease(40, [] {});
  ASSERT_TRUE(a);
  EXPECT_EQ(conn.used(), 40u);
  EXPECT_EQ(global.used(), 40u);
  EXPECT_FALSE(conn.try_lease(30, [&] { ++woken; }));  // over the connection's cap
  EXPECT_EQ(global.used(), 40u);
  auto other = global.try_lease(50, [] {});
  ASSERT_TRUE(other);
  auto b = conn.try_lease(20, [&] { ++woken; });  // fits the connection, not the global budget
  EXPECT_FALSE(b);
  EXPECT_EQ(conn.used(), 40u);
  EXPECT_EQ(global.used(), 90u);
  {
    MemoryBudget::Lease moved = std::move(*a);
    EXPECT_EQ(a->bytes(), 0u);
    EXPECT_EQ(moved.bytes(), 40u);
  }
  EXPECT_EQ(woken, 2);  // both refused callers were woken
  EXPECT_EQ(conn.used(), 0u);
  EXPECT_EQ(global.used(), 50u);
  other->reset();
  EXPECT_EQ(global.used(), 0u);
  auto big = conn.try_lease(80, [] {});  // over the cap, but nothing else is leased
  ASSERT_TRUE(big);
  EXPECT_EQ(global.used(), 80u);
}

}  // namespace
}  // namespace blackbox::collector::testing
