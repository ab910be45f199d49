// HeadSigner (issue 12 item 5): the signed_heads record it spools names exactly where each
// stream's chain stands in the spool, verifies with the instance key, and is written again at
// the interval only when a head moved. A real spool and pipeline; the signature count is the
// event the tests wait for (the interval is a real steady-clock wait).
#include "agent/pipeline/head_signer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "agent/pipeline/pipeline.h"
#include "schemas/metrics.h"
#include "schemas/streams.h"
#include "schemas/zstd_codec.h"
#include "tests/agent/support/temp_dir.h"
#include "tests/support/child_process.h"

namespace blackbox::agent {
namespace {

using namespace std::chrono_literals;

Pipeline::TimePoint generous_deadline() { return std::chrono::steady_clock::now() + 60s; }

struct SpoolView {
  std::map<std::uint32_t, SignedHead> heads;  // where each chain ends in the spool
  std::vector<SignedHeadsBody> signed_records;
};

SpoolView read_spool(Spool& spool) {
  SpoolView v;
  SpoolCursor cursor = spool.begin();
  std::string batch, scratch;
  BatchHeader h;
  ZstdDecompressor zstd;
  for (int guard = 0; guard < 100000; ++guard) {
    auto st = spool.read_next(cursor, batch, h);
    EXPECT_TRUE(st);
    if (!st || *st == ReadStatus::kEnd) break;
    if (*st != ReadStatus::kBatch) continue;
    (void)decode_batch(batch, Limits{}, zstd, scratch, [&](const RecordView& r) {
      if (!is_signed_heads_line(r.line)) return;
      auto b = decode_signed_heads_body(r.line);
      EXPECT_TRUE(b.has_value());
      if (b) v.signed_records.push_back(*b);
    });
    // A signed record names the heads before its own batch: compare before recording it.
    v.heads[h.stream] = SignedHead{h.stream, h.end_seq(), h.hash};
  }
  return v;
}

class HeadSignerTest : public ::testing::Test {
 protected:
  void open(std::chrono::milliseconds interval) {
    SpoolOptions so;
    so.dir = dir_ / "spool";
    so.fsync = FsyncPolicy::kAlways;
    auto spool = Spool::open(so, recovered_);
    ASSERT_TRUE(spool);
    spool_ = std::move(*spool);
    PipelineOptions po;
    po.files.globs = {dir_ / "*.log"};
    pipeline_ = std::make_unique<Pipeline>(po, *spool_, recovered_, metrics_, clock_);
    auto key = Ed25519Key::generate();
    ASSERT_TRUE(key);
    key_ = std::make_shared<const Ed25519Key>(std::move(*key));
    signer_ = std::make_unique<HeadSigner>(HeadSignerOptions{"i-signer", key_, interval},
                                           *pipeline_, clock_, recovered_.state);
    pipeline_->set_on_spooled([this](std::uint32_t s, std::uint64_t n, const ChainHash& h) {
      signer_->on_spooled(s, n, h);
    });
    pipeline_->start();
    signer_->start();
  }
  void write_lines(int first, int count) {
    std::ofstream out(dir_ / "app.log", std::ios::app);
    for (int i = first; i < first + count; ++i) out << "line " << i << "\n";
  }
  void TearDown() override {
    if (signer_) signer_->stop();
    if (pipeline_) pipeline_->stop();
  }

  testing::TempDir dir_;
  ManualClock clock_{1'700'000'000'000'000'000};
  Metrics registry_;
  AgentMetrics metrics_{registry_};
  RecoveryReport recovered_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<Pipeline> pipeline_;
  std::shared_ptr<const Ed25519Key> key_;
  std::unique_ptr<HeadSigner> signer_;
};

TEST_F(HeadSignerTest, SignNowSignsWhereEveryChainStandsInTheSpool) {
  write_lines(0, 50);
  open(0ms);  // no interval thread: only the last gasp signs
  ASSERT_TRUE(pipeline_->append_record(kStreamLifecycle, RecordKind::kLifecycle, Severity::kInfo,
                                       "agent", "{\"event\":\"goodbye\"}"));
  ASSERT_TRUE(pipeline_->flush(generous_deadline()));
  const SpoolView before = read_spool(*spool_);
  const auto ticket = signer_->sign_now(generous_deadline());
  ASSERT_NE(ticket, 0u);
  ASSERT_TRUE(pipeline_->wait_durable(ticket, generous_deadline()));
  const SpoolView after = read_spool(*spool_);
  ASSERT_EQ(after.signed_records.size(), 1u);
  const SignedHeadsBody& b = after.signed_records[0];
  EXPECT_TRUE(signed_heads_valid(b));
  EXPECT_EQ(b.public_key, key_->public_key());
  EXPECT_EQ(b.instance, "i-signer");
  EXPECT_EQ(b.signed_ns, clock_.wall_ns());
  ASSERT_EQ(b.heads.size(), 2u);
  EXPECT_EQ(b.heads[0], before.heads.at(kStreamLogs));
  EXPECT_EQ(b.heads[0].next_seq, 50u);
  EXPECT_EQ(b.heads[1], before.heads.at(kStreamLifecycle));
  EXPECT_EQ(signer_->signatures(), 1u);
}

TEST_F(HeadSignerTest, TheIntervalSignsOnlyWhenAHeadMovedNotForItsOwnRecords) {
  write_lines(0, 10);  // before the inputs start: the flush then cuts all ten
  open(20ms);
  ASSERT_TRUE(pipeline_->flush(generous_deadline()));
  ASSERT_TRUE(blackbox::testing::poll_until([&] { return signer_->signatures() >= 1; }, 60s));
  // Its own record moved the lifecycle head: that alone is no reason to sign again. More
  // lines are: the next signature covers them.
  const auto more = pipeline_->append_record(kStreamLogs, RecordKind::kLog, Severity::kInfo, "app",
                                             "one more line");
  ASSERT_NE(more, 0u);
  ASSERT_TRUE(pipeline_->wait_durable(more, generous_deadline()));
  ASSERT_TRUE(blackbox::testing::poll_until(
      [&] {
        for (const auto& r : read_spool(*spool_).signed_records)
          for (const auto& h : r.heads)
            if (h.stream == kStreamLogs && h.next_seq == 11) return true;
        return false;
      },
      60s));
  // Then nothing moves but the signer's own records: the count settles (one signature per
  // change, plus at most one more when its own record raced the next change), and however many
  // intervals pass after that, it stays.
  auto idle_intervals = [&](std::uint64_t n) {
    const auto seen = signer_->intervals();
    return blackbox::testing::poll_until([&] { return signer_->intervals() >= seen + n; }, 60s);
  };
  ASSERT_TRUE(idle_intervals(10));
  const auto settled = signer_->signatures();
  EXPECT_GE(settled, 2u);
  EXPECT_LE(settled, 4u);
  ASSERT_TRUE(idle_intervals(20));
  EXPECT_EQ(signer_->signatures(), settled);
  const SpoolView v = read_spool(*spool_);
  ASSERT_EQ(v.signed_records.size(), settled);
  EXPECT_EQ(v.signed_records.back().heads[0], v.heads.at(kStreamLogs));
}

}  // namespace
}  // namespace blackbox::agent
