// Ingest decisions (contract 2: exactly-once storage; gaps; chain) and the ledger's lifecycle,
// on a real RocksDB in a temp dir, driven through the IngestWriter without sockets.
#include <gtest/gtest.h>

#include <numeric>

#include "schemas/streams.h"
#include "tests/collector/test_agent.h"
#include "tests/collector/writer_harness.h"

namespace blackbox::collector::testing {
namespace {

BatchQuery query(const std::string& instance, std::optional<std::uint32_t> stream = std::nullopt,
                 std::int64_t from = kMinTime, std::int64_t to = kMaxTime) {
  BatchQuery q;
  q.instance = instance;
  q.stream = stream;
  q.from_ns = from;
  q.to_ns = to;
  return q;
}

std::vector<std::uint64_t> iota_seqs(std::uint64_t n) {
  std::vector<std::uint64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(Ingest, StoresBatchesAndAcksTheStreamHead) {
  WriterHarness w;
  ASSERT_FALSE(w.hello("i-1").ec);
  StreamSource src(kStreamLogs);
  for (int i = 0; i < 5; ++i) {
    auto out = w.batch("i-1", src.next_batch(10));
    ASSERT_FALSE(out.ec) << out.message;
    ASSERT_TRUE(out.ack);
    EXPECT_EQ(out.ack->stream, kStreamLogs);
    EXPECT_EQ(out.ack->highest_seq, 10u * (i + 1) - 1);
  }
  EXPECT_EQ(w.stored_seqs("i-1", kStreamLogs), iota_seqs(50));
  auto info = w.store->get_instance("i-1");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->records, 50u);
  EXPECT_EQ(info->batches, 5u);
  auto heads = w.store->stream_heads("i-1");
  ASSERT_TRUE(heads);
  ASSERT_EQ(heads->size(), 1u);
  EXPECT_EQ((*heads)[0].next_seq, 50u);
  EXPECT_EQ((*heads)[0].head, src.head());
}

TEST(Ingest, ResentBatchIsStoredOnce) {
  WriterHarness w;
  ASSERT_FALSE(w.hello("i-1").ec);
  StreamSource src(kStreamLogs);
  const auto b0 = src.next_batch(10);
  const auto b1 = src.next_batch(10);
  ASSERT_FALSE(w.batch("i-1", b0).ec);
  auto again = w.batch("i-1", b0);  // re-sent before the next one
  ASSERT_FALSE(again.ec) << again.message;
  EXPECT_TRUE(again.duplicate);
  ASSERT_TRUE(again.ack);
  EXPECT_EQ(again.ack->highest_seq, 9u);
  ASSERT_FALSE(w.batch("i-1", b1).ec);
  EXPECT_EQ(w.stored_seqs("i-1", kStreamLogs), iota_seqs(20));
  EXPECT_EQ(w.store->get_instance("i-1")->records, 20u);
}

TEST(Ingest, ReplayedBatchesAfterRestartAreStoredOnce) {
  WriterHarness w;
  ASSERT_FALSE(w.hello("i-1").ec);
  StreamSource src(kStreamLogs);
  std::vector<std::string> batches;
  for (int i = 0; i < 6; ++i) batches.push_back(src.next_batch(7));
  for (const auto& b : batches) ASSERT_FALSE(w.batch("i-1", b).ec);
  w.reopen();  // a collector restart
  auto hello = w.hello("i-1");
  ASSERT_FALSE(hello.ec);
  ASSERT_EQ(hello.welcome.size(), 1u);
  EXPECT_EQ(hello.welcome[0].next_seq, 42u);
  for (const auto& b : batches) {  // an agent replaying its whole spool
    auto out = w.batch("i-1", b);
    ASSERT_FALSE(out.ec) << out.message;
    EXPECT_TRUE(out.duplicate);
  }
  EXPECT_EQ(w.stored_seqs("i-1", kStreamLogs), iota_seqs(42));
  EXPECT_EQ(w.store->get_instance("i-1")->records, 42u);
}

TEST(Ingest, OverlappingBatchesAreNeverStoredTwice) {
  WriterHarness w;
  ASSERT_FALSE(w.hello("i-1").ec);
  StreamSource src(kStreamLogs);
  ASSERT_FALSE(w.batch("i-1", src.next_batch(10)).ec);  // [0,10)
  ASSERT_FALSE(w.batch("i-1", src.next_batch(10)).ec);  // [10,20)
  // Re-cut inside what is stored: acknowledged, not stored.
  auto inside = w.batch("i-1", src.make_batch(3, 5, kZeroHash));
  ASSERT_FALSE(inside.ec) << inside.message;
  EXPECT_TRUE(inside.duplicate);
  // Straddling the head: refused, so that [15,20) is not stored twice.
  auto straddle = w.batch("i-1", src.make_batch(15, 10, kZeroHash));
  EXPECT_EQ(to_errc(straddle.ec), Errc::kProtocolViolation);
  // Same first_seq as a stored batch, different bytes: refused.
  auto conflict = w.batch("i-1", src.make_batch(10, 3, kZeroHash));
  EXPECT_EQ(to_errc(conflict.ec), Errc::kChainMismatch);
  EXPECT_EQ(w.stored_seqs("i-1", kStreamLogs), iota_seqs(20));
}

TEST(Ingest, BrokenChainIsRejected) {
  WriterHarness w;
  ASSERT_FALSE(w.hello("i-1").ec);
  StreamSource src(kStreamLogs);
  ASSERT_FALSE(w.batch("i-1", src.next_batch(10)).ec);
  ChainHash wrong{};
  wrong[0] = 1;
  auto out = w.batch("i-1", src.make_batch(10, 5, wrong));
  EXPECT_EQ(to_errc(out.ec), Errc::kChainMismatch);
  auto first = w.batch("i-2", src.make_batch(0, 5, wrong));  // seq 0 must chain to zeros
  EXPECT_EQ(to_errc(first.ec), Errc::kProtocolViolation);    // i-2 never said HELLO
  ASSERT_FALSE(w.hello("i-2").ec);
  first = w.batch("i-2", src.make_batch(0, 5, wrong));
  EXPECT_EQ(to_errc(first.ec), Errc::kChainMismatch);
  EXPECT_EQ(w.stored_seqs("i-1", kStreamLogs), iota_seqs(10));
}

TEST(Ingest, SequenceGapIsRecordedAndVisible) {
  WriterHarness w;
  ASSERT_FALSE(w.hello("i-1").ec);
  StreamSource src(kStreamLogs);
  ASSERT_FALSE(w.batch("i-1", src.next_batch(10)).ec);
  auto out = w.batch("i-1", src.make_batch(25, 5, kZeroHash));
  ASSERT_FALSE(out.ec) << out.message;
  EXPECT_EQ(out.ack->highest_seq, 29u);
  auto gaps = w.store->gaps("i-1");
  ASSERT_TRUE(gaps);
  ASSERT_EQ(gaps->size(), 1u);
  EXPECT_EQ((*gaps)[0].stream, kStreamLogs);
  EXPECT_EQ((*gaps)[0].from_seq, 10u);
  EXPECT_EQ((*gaps)[0].to_seq, 25u);
  auto info = w.store->get_instance("i-1");
  EXPECT_EQ(info->gaps, 1u);
  EXPECT_EQ(info->gap_records, 15u);
}

TEST(Ingest, CorruptBatchIsRejectedByTheIndexer) {
  WriterHarness w;
  ASSERT_FALSE(w.hello("i-1").ec);
  StreamSource src(kStreamLogs);
  auto b = src.next_batch(10);
  b[b.size() - 3] ^= 0x40;  // payload bit flip
  EXPECT_EQ(to_errc(w.batch("i-1", b).ec), Errc::kChecksumMismatch);
}

TEST(Ingest, TimeScanFollowAndIndexEntries) {
  WriterHarness w;
  ASSERT_FALSE(w.hello("i-1").ec);
  StreamSource src(kStreamLogs);
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(w.batch("i-1", src.next_batch(10)).ec);
  // Records of batch k have times t0 + seq*1000, seq in [10k, 10k+10).
  const std::int64_t t0 = 1'700'000'000'000'000'000;
  std::vector<std::uint64_t> firsts;
  ASSERT_TRUE(w.store->scan_batches(query("i-1", kStreamLogs, t0 + 15'000, t0 + 25'000), nullptr,
                                    [&](const StoredBatch& b) {
                                      firsts.push_back(b.index.first_seq);
                                      EXPECT_EQ(b.index.record_count, 10u);
                                      EXPECT_TRUE(b.index.words.may_contain_word("status"));
                                      EXPECT_TRUE(b.index.may_have_source("/var/log/app.log"));
                                      EXPECT_FALSE(b.index.may_have_source("/var/log/other.log"));
                                      return true;
                                    }));
  EXPECT_EQ(firsts, (std::vector<std::uint64_t>{10, 20}));
  // A word that is in no line lets a search skip the batch (false positives are possible but
  // unlikely with this many bits).
  int skipped = 0;
  ASSERT_TRUE(w.store->scan_batches(
      query("i-1"),
      [&](const BatchIndexEntry& e) {
        if (!e.words.may_contain_word("zebracornucopia")) ++skipped;
        return false;
      },
      [](const StoredBatch&) { return true; }));
  EXPECT_GE(skipped, 3);
  // Live follow: everything after position 2.
  std::vector<std::uint64_t> follow;
  auto pos = w.store->scan_ingest_log(2, 100, "", [&](const StoredBatch& b) {
    follow.push_back(b.index.first_seq);
    return true;
  });
  ASSERT_TRUE(pos);
  EXPECT_EQ(*pos, 4u);
  EXPECT_EQ(follow, (std::vector<std::uint64_t>{20, 30}));
  EXPECT_EQ(w.store->last_ingest_seq(), 4u);
  int fleet = 0;
  ASSERT_TRUE(w.store->scan_fleet_index(t0, t0 + 1'000'000, [&](const BatchIndexEntry& e) {
    EXPECT_EQ(e.instance, "i-1");
    ++fleet;
    return true;
  }));
  EXPECT_EQ(fleet, 4);
}

// ---- lifecycle ----------------------------------------------------------------------------

std::vector<LifecycleKind> kinds(const std::vector<LifecycleEvent>& evs) {
  std::vector<LifecycleKind> out;
  for (const auto& e : evs) out.push_back(e.kind);
  return out;
}

TEST(Lifecycle, GoodbyeMeansTerminated) {
  WriterHarness w;
  ASSERT_FALSE(w.hello("i-1").ec);
  w.clock.advance(std::chrono::seconds(5));
  ASSERT_FALSE(w.heartbeat("i-1").ec);
  ASSERT_FALSE(w.goodbye("i-1", "sigterm", /*after_notice=*/true).ec);
  auto info = w.store->get_instance("i-1");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->state, InstanceState::kTerminated);
  EXPECT_EQ(info->end.kind, EndKind::kGoodbye);
  EXPECT_EQ(info->end.reason, "sigterm");
  EXPECT_TRUE(info->end.termination_notice);
  EXPECT_EQ(info->last_heartbeat_ns, w.clock.wall_ns());
  // A terminated instance never goes silent.
  w.clock.advance(std::chrono::hours(1));
  ASSERT_FALSE(w.tick().ec);
  EXPECT_EQ(w.store->get_instance("i-1")->state, InstanceState::kTerminated);
  auto evs = w.store->lifecycle_events("i-1");
  ASSERT_TRUE(evs);
  EXPECT_EQ(kinds(*evs), (std::vector{LifecycleKind::kHello, LifecycleKind::kGoodbye}));
  InstanceFilter f;
  f.state = InstanceState::kTerminated;
  auto done = w.store->list_instances(f);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->size(), 1u);
}

TEST(Lifecycle, NoHeartbeatMeansSilentAndReconnectIsRecorded) {
  WriterHarness w(0, std::chrono::seconds(30));
  ASSERT_FALSE(w.hello("i-1").ec);
  ASSERT_FALSE(w.hello("i-2").ec);
  const auto hello_time = w.clock.wall_ns();
  w.clock.advance(std::chrono::seconds(20));
  ASSERT_FALSE(w.heartbeat("i-2").ec);
  ASSERT_FALSE(w.tick().ec);
  EXPECT_EQ(w.store->get_instance("i-1")->state, InstanceState::kRunning);
  w.clock.advance(std::chrono::seconds(11));  // i-1: 31 s without a word; i-2: 11 s
  ASSERT_FALSE(w.tick().ec);
  auto info = w.store->get_instance("i-1");
  EXPECT_EQ(info->state, InstanceState::kSilent);
  EXPECT_EQ(info->end.kind, EndKind::kSilent);
  EXPECT_EQ(info->end.time_ns, hello_time);
  EXPECT_EQ(w.store->get_instance("i-2")->state, InstanceState::kRunning);
  // It comes back (a new boot): recorded as such, running again.
  w.clock.advance(std::chrono::minutes(5));
  ASSERT_FALSE(w.hello("i-1", "boot-2").ec);
  info = w.store->get_instance("i-1");
  EXPECT_EQ(info->state, InstanceState::kRunning);
  EXPECT_EQ(info->end.kind, EndKind::kNone);
  EXPECT_EQ(info->boot_ids, (std::vector<std::string>{"boot-1", "boot-2"}));
  auto evs = w.store->lifecycle_events("i-1");
  ASSERT_TRUE(evs);
  EXPECT_EQ(kinds(*evs), (std::vector{LifecycleKind::kHello, LifecycleKind::kWentSilent,
                                      LifecycleKind::kReconnected, LifecycleKind::kHello}));
  // The silent state survives a restart.
  w.clock.advance(std::chrono::minutes(5));
  ASSERT_FALSE(w.tick().ec);
  w.reopen();
  EXPECT_EQ(w.store->get_instance("i-1")->state, InstanceState::kSilent);
}

TEST(Lifecycle, TerminationNoticeFromTheLifecycleStream) {
  WriterHarness w;
  ASSERT_FALSE(w.hello("i-1").ec);
  BatchBuilder b;
  const std::string body = R"({"event":"termination_notice","reason":"spot reclaim"})";
  RecordData r;
  r.kind = RecordKind::kLifecycle;
  r.event_time_ns = w.clock.wall_ns();
  r.read_time_ns = r.event_time_ns;
  r.source = "agent";
  r.line = body;
  b.add(r);
  std::string bytes;
  ZstdCompressor z;
  ASSERT_TRUE(b.seal(kStreamLifecycle, 0, kZeroHash, &z, bytes));
  ASSERT_FALSE(w.batch("i-1", bytes).ec);
  ASSERT_FALSE(w.goodbye("i-1", "sigterm").ec);
  auto info = w.store->get_instance("i-1");
  EXPECT_TRUE(info->termination_notice);
  EXPECT_TRUE(info->end.termination_notice);
  auto evs = w.store->lifecycle_events("i-1");
  ASSERT_TRUE(evs);
  EXPECT_EQ(kinds(*evs), (std::vector{LifecycleKind::kHello, LifecycleKind::kTerminationNotice,
                                      LifecycleKind::kGoodbye}));
  EXPECT_EQ((*evs)[1].reason, "spot reclaim");
}

TEST(Lifecycle, SnapshotsAreIndexed) {
  WriterHarness w;
  ASSERT_FALSE(w.hello("i-1").ec);
  BatchBuilder b;
  RecordData r;
  r.kind = RecordKind::kSnapshot;
  r.source = "agent";
  r.line = R"({"packages":[]})";
  for (int i = 0; i < 3; ++i) {
    r.event_time_ns = w.clock.wall_ns() + i * 1'000'000'000LL;
    r.read_time_ns = r.event_time_ns;
    b.add(r);
  }
  std::string bytes;
  ZstdCompressor z;
  ASSERT_TRUE(b.seal(kStreamSnapshots, 0, kZeroHash, &z, bytes));
  ASSERT_FALSE(w.batch("i-1", bytes).ec);
  auto snaps = w.store->snapshots("i-1", w.clock.wall_ns() + 500'000'000);
  ASSERT_TRUE(snaps);
  ASSERT_EQ(snaps->size(), 2u);
  EXPECT_EQ((*snaps)[0].seq, 1u);
  EXPECT_EQ((*snaps)[0].batch_first_seq, 0u);
  EXPECT_TRUE(w.store->get_batch("i-1", kStreamSnapshots, 0));
}

// ---- retention ---------------------------------------------------------------------------

TEST(Retention, RemovesOldBatchesButNotThoseOnLegalHold) {
  WriterHarness w(/*retention_ns=*/std::chrono::nanoseconds(std::chrono::hours(24)).count());
  ASSERT_FALSE(w.hello("i-old").ec);
  ASSERT_FALSE(w.hello("i-held").ec);
  ASSERT_FALSE(w.hello("i-new").ec);
  // Retention counts from when the collector stored a batch (issue 11 item 3), whatever time
  // its lines claim: i-old and i-held are stored 48 h before i-new, all claiming the same time.
  const std::int64_t now = w.clock.wall_ns();
  StreamSource a(kStreamLogs, 100, now), b(kStreamLogs, 100, now), c(kStreamLogs, 100, now);
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(w.batch("i-old", a.next_batch(10)).ec);
    ASSERT_FALSE(w.batch("i-held", b.next_batch(10)).ec);
  }
  w.clock.advance(std::chrono::hours(48));
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(w.batch("i-new", c.next_batch(10)).ec);
  ASSERT_TRUE(w.store->set_legal_hold("i-held", true));
  ASSERT_TRUE(w.store->compact_all());
  EXPECT_TRUE(w.stored_seqs("i-old", kStreamLogs).empty());
  EXPECT_EQ(w.stored_seqs("i-held", kStreamLogs), iota_seqs(30));
  EXPECT_EQ(w.stored_seqs("i-new", kStreamLogs), iota_seqs(30));
  int old_index = 0;
  ASSERT_TRUE(w.store->scan_batches(
      query("i-old"), [&](const BatchIndexEntry&) { return ++old_index, true; },
      [](const StoredBatch&) { return true; }));
  EXPECT_EQ(old_index, 0);
  // The ledger and the heads survive retention: the instance existed.
  auto info = w.store->get_instance("i-old");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->records, 30u);
  EXPECT_TRUE(w.store->get_instance("i-held")->legal_hold);
  // The hold persists; released, the data goes at the next compaction.
  w.reopen();
  EXPECT_TRUE(w.store->legal_hold("i-held"));
  ASSERT_TRUE(w.store->set_legal_hold("i-held", false));
  ASSERT_TRUE(w.store->compact_all());
  EXPECT_TRUE(w.stored_seqs("i-held", kStreamLogs).empty());
}

}  // namespace
}  // namespace blackbox::collector::testing
