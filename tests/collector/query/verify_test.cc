// Issue 12 item 5 (DESIGN.md contract 6): the verify engine over a real RocksDB store filled
// through the collector's write path, then altered through the store's own write API
// (StoreWriteBatch::put_batch / delete_batch), as someone administering the collector could.
#include "collector/query/verify.h"

#include <gtest/gtest.h>

#include <random>

#include "collector/ingest/batch_indexer.h"
#include "collector/store/store_write_batch.h"
#include "schemas/batch.h"
#include "schemas/gap_body.h"
#include "schemas/hex.h"
#include "schemas/lifecycle_body.h"
#include "schemas/signed_heads.h"
#include "schemas/streams.h"
#include "schemas/zstd_codec.h"
#include "tests/support/store_fixture.h"
#include "tests/support/store_tamper.h"

namespace blackbox::collector::query {
namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000'000'000;
constexpr int kLogBatches = 40;
constexpr int kPerBatch = 3;
const std::string kInst = "i-verify";

struct Stored {
  std::uint32_t stream = 0;
  std::uint64_t first_seq = 0;
  std::string bytes;
};

// A store holding one instance's chains, written batch by batch through the collector's
// indexer and writer, with the bytes of every batch kept for the tests to alter and restore.
class VerifyStore {
 public:
  explicit VerifyStore(const std::string& tag) : fx_(tag) { fx_.hello(kInst); }

  Store& store() { return fx_.store(); }

  // Seals `records` as the next batch of `stream` (or at `first_seq` when given) and writes it.
  const Stored& add(std::uint32_t stream, const std::vector<RecordData>& records,
                    std::optional<std::uint64_t> first_seq = std::nullopt) {
    BatchBuilder b;
    for (const auto& r : records) b.add(r);
    auto& c = chains_[stream];
    if (first_seq) c.first = *first_seq;
    std::string bytes;
    auto h = b.seal(stream, c.first, c.head, &zstd_, bytes);
    EXPECT_TRUE(h.has_value());
    c.first = h->end_seq();
    c.head = h->hash;
    batches_.push_back({stream, h->first_seq, bytes});
    IndexedBatch indexed;
    EXPECT_TRUE(indexer_.index(kInst, std::string(bytes), indexed).has_value());
    fx_.submit(BatchRequest{kInst, std::move(indexed), std::make_shared<bool>(false)});
    return batches_.back();
  }

  void add_logs(int n) {
    for (int i = 0; i < n; ++i) {
      std::vector<RecordData> rs(kPerBatch);
      std::vector<std::string> lines(kPerBatch);  // RecordData::line is a view
      for (int k = 0; k < kPerBatch; ++k) {
        lines[k] = "line " + std::to_string(i * kPerBatch + k);
        rs[k].event_time_ns = rs[k].read_time_ns = kT0 + (i * kPerBatch + k) * 1'000'000;
        rs[k].source = "/var/log/app.log";
        rs[k].line = lines[k];
      }
      add(kStreamLogs, rs);
    }
  }

  RecordData lifecycle(const std::string& line) {
    RecordData r;
    r.kind = RecordKind::kLifecycle;
    r.event_time_ns = r.read_time_ns = kT0 + 999'000'000;
    r.source = "agent";
    r.line = line;
    return r;
  }

  // A signed_heads record over where the chains stand now, signed by `key`.
  void sign(const Ed25519Key& key) {
    SignedHeadsBody body;
    body.instance = kInst;
    body.signed_ns = kT0 + 999'000'000;
    for (const auto& [stream, c] : chains_) body.heads.push_back({stream, c.first, c.head});
    sign_heads(body, key);
    add(kStreamLifecycle, {lifecycle(encode_signed_heads_body(body))});
  }

  void enroll(const Ed25519Key& key) {
    Enrollment e;
    e.instance = kInst;
    e.public_key = key.public_key();
    ASSERT_TRUE(store().put_enrollment(e).has_value());
  }

  void goodbye() { fx_.goodbye(kInst, "sigterm", false); }

  // The store's write API, as an administrator of the collector could use it.
  void put(std::uint32_t stream, std::uint64_t key, std::string_view bytes) {
    testing::put_stored_batch(store(), kInst, stream, key, bytes);
  }
  void drop(std::uint32_t stream, std::uint64_t key) {
    auto wb = store().write_batch();
    wb.delete_batch(kInst, stream, key);
    ASSERT_TRUE(store().commit(std::move(wb), CommitSync::kNoSync).has_value());
  }

  const std::vector<Stored>& batches() const { return batches_; }
  std::uint64_t next_seq(std::uint32_t stream) { return chains_[stream].first; }

 private:
  struct Chain {
    std::uint64_t first = 0;
    ChainHash head{};
  };
  testing::StoreFixture fx_;
  BatchIndexer indexer_{IndexerOptions{}};
  ZstdCompressor zstd_{1};
  std::map<std::uint32_t, Chain> chains_;
  std::vector<Stored> batches_;
};

InstanceVerify run(const Store& store, std::optional<VerifyKey> key = std::nullopt) {
  VerifyOptions o;
  o.instance = kInst;
  o.key = key;
  auto r = verify(store, o);
  EXPECT_TRUE(r.has_value());
  if (!r || r->instances.size() != 1) return {};
  return r->instances.front();
}

// Builds the standard store: hello lifecycle record, kLogBatches log batches, a signed head
// (key enrolled), goodbye.
void fill(VerifyStore& vs, const Ed25519Key& key) {
  vs.add(kStreamLifecycle, {vs.lifecycle(encode_lifecycle_body(HelloBody{}))});
  vs.add_logs(kLogBatches);
  vs.enroll(key);
  vs.sign(key);
  vs.goodbye();
}

Ed25519Key new_key() {
  auto k = Ed25519Key::generate();
  EXPECT_TRUE(k.has_value());
  return std::move(*k);
}

TEST(Verify, IntactStoreIsIntactAndCoveredBySignedHeads) {
  VerifyStore vs("verify-intact");
  const auto key = new_key();
  fill(vs, key);
  const auto rep = run(vs.store());
  EXPECT_EQ(rep.status, VerifyStatus::kIntact);
  EXPECT_TRUE(rep.breaks.empty());
  EXPECT_TRUE(rep.unreadable.empty());
  EXPECT_EQ(rep.key_source, "enrolled");
  EXPECT_EQ(rep.signatures_valid, 1u);
  EXPECT_EQ(rep.signatures_invalid, 0u);
  EXPECT_TRUE(rep.covered);
  ASSERT_EQ(rep.streams.size(), 2u);
  EXPECT_EQ(rep.streams[0].stream, kStreamLogs);
  ASSERT_EQ(rep.streams[0].intact.size(), 1u);
  EXPECT_EQ(rep.streams[0].intact[0], (SeqRange{0, kLogBatches * kPerBatch}));
  EXPECT_EQ(rep.streams[0].signed_through, std::uint64_t{kLogBatches * kPerBatch});
  EXPECT_FALSE(rep.streams[0].unsigned_tail);
  EXPECT_FALSE(rep.streams[1].unsigned_tail);  // the signed_heads batch itself is not a tail
}

TEST(Verify, UnsignedTailIsReportedWithItsRange) {
  VerifyStore vs("verify-tail");
  const auto key = new_key();
  fill(vs, key);
  vs.add_logs(2);
  const auto rep = run(vs.store());
  EXPECT_EQ(rep.status, VerifyStatus::kIntact);
  EXPECT_FALSE(rep.covered);
  ASSERT_TRUE(rep.streams[0].unsigned_tail);
  EXPECT_EQ(*rep.streams[0].unsigned_tail,
            (SeqRange{kLogBatches * kPerBatch, (kLogBatches + 2) * kPerBatch}));
}

// What one trial did, and the break verify must name first.
struct Trial {
  std::string op;
  std::uint32_t stream = 0;
  std::uint64_t first_seq = 0;
  BreakKind what = BreakKind::kContentChanged;
};

// 1,000 trials, each altering one stored batch value through the write API (one byte changed,
// a batch dropped, two batches' contents swapped, a batch stored twice), each detected and
// named; then restored, and the store verifies intact again.
TEST(Verify, ThousandTamperTrialsAreEachDetectedAndNamed) {
  VerifyStore vs("verify-trials");
  const auto key = new_key();
  fill(vs, key);
  ASSERT_EQ(run(vs.store()).status, VerifyStatus::kIntact);
  const auto& all = vs.batches();
  std::mt19937_64 rng(12345);  // fixed: a failure names its trial and replays
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  int detected = 0;
  constexpr int kTrials = 1000;
  for (int trial = 0; trial < kTrials; ++trial) {
    const Stored& b = all[pick(all.size())];
    std::vector<const Stored*> same;
    for (const auto& o : all)
      if (o.stream == b.stream) same.push_back(&o);
    Trial t{"", b.stream, b.first_seq, BreakKind::kContentChanged};
    std::function<void()> restore;
    switch (trial % 4) {
      case 0: {  // one byte changed
        std::string v = b.bytes;
        const std::size_t at = pick(v.size());
        v[at] = static_cast<char>(v[at] ^ (1 + pick(255)));
        t.op = "byte " + std::to_string(at);
        vs.put(b.stream, b.first_seq, v);
        restore = [&] { vs.put(b.stream, b.first_seq, b.bytes); };
        break;
      }
      case 1: {  // dropped
        t.op = "drop";
        t.what = BreakKind::kMissing;
        vs.drop(b.stream, b.first_seq);
        restore = [&] { vs.put(b.stream, b.first_seq, b.bytes); };
        break;
      }
      case 2: {  // reordered: two batches' contents swapped
        const Stored* o = same[pick(same.size())];
        if (o == &b)
          o = same[(std::find(same.begin(), same.end(), &b) - same.begin() + 1) % same.size()];
        const Stored* lo = b.first_seq < o->first_seq ? &b : o;
        const Stored* hi = lo == &b ? o : &b;
        t.op = "swap with " + std::to_string(o->first_seq);
        t.first_seq = lo->first_seq;
        t.what = BreakKind::kOutOfOrder;
        vs.put(lo->stream, lo->first_seq, hi->bytes);
        vs.put(hi->stream, hi->first_seq, lo->bytes);
        restore = [&vs, lo, hi] {
          vs.put(lo->stream, lo->first_seq, lo->bytes);
          vs.put(hi->stream, hi->first_seq, hi->bytes);
        };
        break;
      }
      default: {  // duplicated: stored again under a key inside its range or after the end
        auto h = parse_batch_header(b.bytes);
        ASSERT_TRUE(h.has_value());
        const bool inside = h->record_count > 1 && pick(2) == 0;
        const std::uint64_t at = inside ? b.first_seq + 1 : vs.next_seq(b.stream) + pick(5);
        t.op = "duplicate at " + std::to_string(at);
        t.first_seq = at;
        t.what = BreakKind::kDuplicate;
        vs.put(b.stream, at, b.bytes);
        restore = [&vs, &b, at] { vs.drop(b.stream, at); };
        break;
      }
    }
    const auto rep = run(vs.store());
    const std::string what = "trial " + std::to_string(trial) + ": " + t.op + " of stream " +
                             std::to_string(b.stream) + " batch " + std::to_string(b.first_seq);
    EXPECT_EQ(rep.status, VerifyStatus::kTampered) << what;
    if (!rep.breaks.empty() && rep.breaks.front().stream == t.stream &&
        rep.breaks.front().first_seq == t.first_seq && rep.breaks.front().what == t.what) {
      ++detected;
    } else {
      ADD_FAILURE() << what << ": first break "
                    << (rep.breaks.empty()
                            ? std::string("none")
                            : std::string(break_kind_name(rep.breaks.front().what)) + " at " +
                                  std::to_string(rep.breaks.front().stream) + "/" +
                                  std::to_string(rep.breaks.front().first_seq));
    }
    restore();
    if (trial % 100 == 99) {
      ASSERT_EQ(run(vs.store()).status, VerifyStatus::kIntact) << what;
    }
  }
  EXPECT_EQ(detected, kTrials);
  EXPECT_EQ(run(vs.store()).status, VerifyStatus::kIntact);
}

// Stream 1 rewritten consistently from batch 5 on (a line changed, every later hash
// recomputed, stored through the write API) without the instance key: the chain itself is
// intact, but the signed head no longer matches it.
TEST(Verify, ConsistentRewriteWithoutTheKeyIsCaughtBySignature) {
  VerifyStore vs("verify-rewrite");
  const auto key = new_key();
  fill(vs, key);
  ZstdCompressor zstd(1);
  ZstdDecompressor unzstd;
  std::string scratch;
  ChainHash prev{};
  for (const auto& b : vs.batches()) {
    if (b.stream != kStreamLogs) continue;
    auto h = parse_batch_header(b.bytes);
    ASSERT_TRUE(h.has_value());
    if (h->first_seq < 5 * kPerBatch) {
      prev = h->hash;
      continue;
    }
    BatchBuilder builder;
    std::vector<std::string> lines;
    std::vector<RecordData> recs;
    ASSERT_TRUE(decode_batch(b.bytes, Limits{}, unzstd, scratch, [&](const RecordView& r) {
                  RecordData d;
                  d.kind = r.kind;
                  d.event_time_ns = r.event_time_ns;
                  d.read_time_ns = r.read_time_ns;
                  lines.push_back(h->first_seq == 5 * kPerBatch ? "rewritten"
                                                                : std::string(r.line));
                  d.source = "/var/log/app.log";
                  recs.push_back(d);
                }).has_value());
    for (std::size_t i = 0; i < recs.size(); ++i) {
      recs[i].line = lines[i];
      builder.add(recs[i]);
    }
    std::string out;
    auto nh = builder.seal(kStreamLogs, h->first_seq, prev, &zstd, out);
    ASSERT_TRUE(nh.has_value());
    prev = nh->hash;
    vs.put(kStreamLogs, h->first_seq, out);
  }
  const auto rep = run(vs.store());
  EXPECT_TRUE(rep.breaks.empty()) << (rep.breaks.empty() ? "" : rep.breaks.front().detail);
  EXPECT_EQ(rep.status, VerifyStatus::kTampered);
  ASSERT_EQ(rep.signatures.size(), 1u);
  EXPECT_EQ(rep.signatures[0].state, SignatureState::kHeadMismatch) << rep.signatures[0].detail;
  EXPECT_EQ(rep.signatures_invalid, 1u);
  EXPECT_FALSE(rep.covered);
}

TEST(Verify, ValidSignatureFromAnotherKeyIsInvalid) {
  VerifyStore vs("verify-otherkey");
  const auto key = new_key();
  fill(vs, key);
  const auto other = new_key();
  vs.add_logs(1);
  vs.sign(other);  // a perfectly valid signature, by a key the instance never enrolled
  const auto rep = run(vs.store());
  EXPECT_TRUE(rep.breaks.empty());
  EXPECT_EQ(rep.status, VerifyStatus::kTampered);
  ASSERT_EQ(rep.signatures.size(), 2u);
  EXPECT_EQ(rep.signatures[0].state, SignatureState::kValid);
  EXPECT_EQ(rep.signatures[1].state, SignatureState::kInvalid);
  EXPECT_NE(rep.signatures[1].detail.find("another key"), std::string::npos);
}

TEST(Verify, AlteredSignedRecordDoesNotVerify) {
  VerifyStore vs("verify-forged");
  const auto key = new_key();
  fill(vs, key);
  // A record claiming the enrolled key but signed by another: the signature does not verify.
  const auto other = new_key();
  SignedHeadsBody body;
  body.instance = kInst;
  body.heads.push_back({kStreamLogs, vs.next_seq(kStreamLogs), {}});
  sign_heads(body, other);
  body.public_key = key.public_key();
  vs.add(kStreamLifecycle, {vs.lifecycle(encode_signed_heads_body(body))});
  const auto rep = run(vs.store());
  EXPECT_EQ(rep.status, VerifyStatus::kTampered);
  ASSERT_EQ(rep.signatures.size(), 2u);
  EXPECT_EQ(rep.signatures[1].state, SignatureState::kInvalid);
  EXPECT_NE(rep.signatures[1].detail.find("does not verify"), std::string::npos);
}

TEST(Verify, WithoutAnEnrolledKeyHeadsAreNotCheckedUnlessAKeyIsGiven) {
  VerifyStore vs("verify-nokey");
  const auto key = new_key();
  vs.add(kStreamLifecycle, {vs.lifecycle(encode_lifecycle_body(HelloBody{}))});
  vs.add_logs(3);
  vs.sign(key);
  auto rep = run(vs.store());
  EXPECT_EQ(rep.status, VerifyStatus::kIntact);
  EXPECT_EQ(rep.heads_note, "heads not checked: no enrolled key");
  EXPECT_FALSE(rep.covered);
  ASSERT_EQ(rep.signatures.size(), 1u);
  EXPECT_EQ(rep.signatures[0].state, SignatureState::kUnchecked);

  const auto pub = key.public_key();
  auto given = parse_verify_key(hex_lower({reinterpret_cast<const char*>(pub.data()), pub.size()}));
  ASSERT_TRUE(given.has_value());
  rep = run(vs.store(), *given);
  EXPECT_EQ(rep.key_source, "given");
  EXPECT_EQ(rep.signatures_valid, 1u);
  EXPECT_TRUE(rep.covered);

  auto pin = parse_verify_key(ed25519_fingerprint(new_key().public_key()));
  ASSERT_TRUE(pin.has_value());
  rep = run(vs.store(), *pin);
  EXPECT_EQ(rep.key_source, "pinned");
  EXPECT_EQ(rep.signatures[0].state, SignatureState::kInvalid);
  EXPECT_EQ(rep.status, VerifyStatus::kTampered);

  EXPECT_FALSE(parse_verify_key("not a key").has_value());
}

TEST(Verify, RecordedGapsAreGapsNotTampering) {
  VerifyStore vs("verify-gaps");
  const auto key = new_key();
  fill(vs, key);
  // The agent lost seqs [next, next + 6) (never sent): the collector records a gap range.
  const std::uint64_t from = vs.next_seq(kStreamLogs);
  std::vector<RecordData> rs(2);
  for (auto& r : rs) {
    r.event_time_ns = r.read_time_ns = kT0 + 5'000'000'000;
    r.line = "after the gap";
  }
  rs[1].kind = RecordKind::kGap;
  const std::string gap_line = encode_gap_body(GapBody("truncated", "/var/log/app.log"));
  rs[1].line = gap_line;
  vs.add(kStreamLogs, rs, from + 6);
  vs.sign(key);
  const auto rep = run(vs.store());
  EXPECT_TRUE(rep.breaks.empty()) << (rep.breaks.empty() ? "" : rep.breaks.front().detail);
  EXPECT_EQ(rep.status, VerifyStatus::kGaps);
  ASSERT_EQ(rep.gaps.size(), 2u);
  EXPECT_EQ(rep.gaps[0].source, "collector");
  EXPECT_EQ(rep.gaps[0].from_seq, from);
  EXPECT_EQ(rep.gaps[0].to_seq, from + 6);
  EXPECT_EQ(rep.gaps[1].reason, "truncated");
  EXPECT_EQ(rep.gaps[1].from_seq, from + 7);
  ASSERT_EQ(rep.streams[0].intact.size(), 2u);  // the chain restarts after the gap
  EXPECT_TRUE(rep.covered);
}

TEST(Verify, UnknownInstanceIsNotFound) {
  VerifyStore vs("verify-unknown");
  VerifyOptions o;
  o.instance = "i-never";
  auto r = verify(vs.store(), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), Err(Errc::kNotFound));
}

}  // namespace
}  // namespace blackbox::collector::query
