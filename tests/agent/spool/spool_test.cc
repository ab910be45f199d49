#include "agent/spool/spool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/spool/segment_format.h"
#include "schemas/batch.h"
#include "tests/agent/spool/batch_maker.h"
#include "tests/agent/support/temp_dir.h"

namespace blackbox::agent {
namespace {

namespace fs = std::filesystem;
using testing::BatchMaker;
using testing::checkpoint_for;
using testing::TempDir;

SpoolOptions options(const TempDir& dir, std::uint64_t segment_bytes = 1 << 20) {
  SpoolOptions o;
  o.dir = dir / "spool";
  o.segment_bytes = segment_bytes;
  o.max_bytes = 64 << 20;
  o.fsync = FsyncPolicy::kNever;
  return o;
}

// Appends `n` batches of 10 records; returns the checkpoints written, in order.
std::vector<std::string> append_batches(Spool& spool, BatchMaker& maker, int n) {
  std::vector<std::string> cps;
  for (int i = 0; i < n; ++i) {
    std::string batch = maker.next(10);
    cps.push_back(checkpoint_for(maker.seq(), maker.seq() * 1000));
    SpoolAppend a{batch, cps.back(), maker.stream(), maker.seq()};
    EXPECT_TRUE(spool.append(std::span<const SpoolAppend>(&a, 1)));
  }
  return cps;
}

std::vector<std::uint64_t> readable_first_seqs(Spool& spool) {
  std::vector<std::uint64_t> seqs;
  SpoolCursor cursor = spool.begin();
  std::string batch;
  BatchHeader h;
  for (int i = 0; i < 100000; ++i) {
    auto st = spool.read_next(cursor, batch, h);
    EXPECT_TRUE(st);
    if (!st || *st == ReadStatus::kEnd) break;
    if (*st == ReadStatus::kBatch) seqs.push_back(h.first_seq);
  }
  return seqs;
}

std::vector<fs::path> segment_files(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".seg") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

void flip_byte(const fs::path& file, std::uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x10));
}

TEST(Spool, AppendsReadsAndDeletesAcknowledgedSegments) {
  TempDir dir;
  RecoveryReport report;
  auto spool = Spool::open(options(dir, 8 * 1024), report);
  ASSERT_TRUE(spool);
  EXPECT_TRUE(report.fresh);
  BatchMaker maker;
  append_batches(**spool, maker, 30);
  EXPECT_GT(segment_files(dir / "spool").size(), 3u);
  auto seqs = readable_first_seqs(**spool);
  ASSERT_EQ(seqs.size(), 30u);
  for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i * 10);
  EXPECT_FALSE((*spool)->all_acked());

  const auto before = (*spool)->bytes();
  (*spool)->ack(1, 150);
  EXPECT_LT((*spool)->bytes(), before);
  seqs = readable_first_seqs(**spool);
  ASSERT_FALSE(seqs.empty());
  EXPECT_EQ(seqs.front(), 150u);
  (*spool)->ack(1, 300);
  EXPECT_TRUE((*spool)->all_acked());
  EXPECT_EQ(segment_files(dir / "spool").size(), 1u);  // the active one stays
  EXPECT_TRUE(readable_first_seqs(**spool).empty());
}

TEST(Spool, RecoversStateFromTheLastEntryEvenAfterEverySegmentWasAcknowledged) {
  TempDir dir;
  BatchMaker maker;
  std::vector<std::string> cps;
  {
    RecoveryReport report;
    auto spool = Spool::open(options(dir, 8 * 1024), report);
    ASSERT_TRUE(spool);
    cps = append_batches(**spool, maker, 30);
    (*spool)->ack(1, maker.seq());
  }
  RecoveryReport report;
  auto spool = Spool::open(options(dir, 8 * 1024), report);
  ASSERT_TRUE(spool);
  EXPECT_FALSE(report.fresh);
  EXPECT_EQ(report.state, *decode_checkpoint(cps.back()));
  EXPECT_TRUE(report.damage.empty());
  EXPECT_EQ(report.truncated_bytes, 0u);
}

TEST(Spool, TornTailIsTruncatedAndTheStateRollsBackToTheLastWholeEntry) {
  TempDir dir;
  BatchMaker maker;
  std::vector<std::string> cps;
  {
    RecoveryReport report;
    auto spool = Spool::open(options(dir), report);
    ASSERT_TRUE(spool);
    cps = append_batches(**spool, maker, 3);
  }
  auto segs = segment_files(dir / "spool");
  ASSERT_EQ(segs.size(), 1u);
  const auto size = fs::file_size(segs.back());
  fs::resize_file(segs.back(), size - 37);  // a write cut short by kill -9 / power loss

  RecoveryReport report;
  auto spool = Spool::open(options(dir), report);
  ASSERT_TRUE(spool);
  EXPECT_GT(report.truncated_bytes, 0u);
  EXPECT_TRUE(report.damage.empty());
  EXPECT_EQ(report.state, *decode_checkpoint(cps[1]));
  EXPECT_EQ(readable_first_seqs(**spool), (std::vector<std::uint64_t>{0, 10}));
  // The truncated file is clean now: another restart finds nothing to repair.
  spool->reset();
  auto again = Spool::open(options(dir), report);
  ASSERT_TRUE(again);
  EXPECT_EQ(report.truncated_bytes, 0u);
}

TEST(Spool, BitFlipQuarantinesTheSegmentKeepsItsValidEntriesAndReportsTheGap) {
  TempDir dir;
  BatchMaker maker;
  std::vector<std::string> cps;
  {
    RecoveryReport report;
    auto spool = Spool::open(options(dir, 8 * 1024), report);
    ASSERT_TRUE(spool);
    cps = append_batches(**spool, maker, 20);
  }
  auto segs = segment_files(dir / "spool");
  ASSERT_GE(segs.size(), 3u);
  // Flip a bit inside the second batch entry of the first segment (entries are ~1.7 KiB).
  const std::uint64_t second_entry = kSegmentHeaderBytes + 2300;
  flip_byte(segs[0], second_entry);

  RecoveryReport report;
  auto spool = Spool::open(options(dir, 8 * 1024), report);
  ASSERT_TRUE(spool);
  ASSERT_EQ(report.damage.size(), 1u);
  EXPECT_GT(report.damage[0].bytes, 0u);
  EXPECT_EQ(report.state, *decode_checkpoint(cps.back()));  // later entries are intact
  EXPECT_FALSE(fs::is_empty(dir / "spool/quarantine"));     // the original, for forensics
  auto seqs = readable_first_seqs(**spool);
  EXPECT_EQ(seqs.size(), 19u);  // one batch lost, the rest still shippable
  EXPECT_EQ(seqs.front(), 0u);
  // Reopening again is clean: the quarantine rewrite was durable, no crash loop.
  spool->reset();
  auto again = Spool::open(options(dir, 8 * 1024), report);
  ASSERT_TRUE(again);
  EXPECT_TRUE(report.damage.empty());
  EXPECT_EQ(readable_first_seqs(**again).size(), 19u);
}

TEST(Spool, CorruptionInTheLastSegmentWithValidEntriesAfterItIsNotMistakenForATornTail) {
  TempDir dir;
  BatchMaker maker;
  {
    RecoveryReport report;
    auto spool = Spool::open(options(dir), report);
    ASSERT_TRUE(spool);
    append_batches(**spool, maker, 5);
  }
  auto segs = segment_files(dir / "spool");
  flip_byte(segs.back(), kSegmentHeaderBytes + 64 + 500);
  RecoveryReport report;
  auto spool = Spool::open(options(dir), report);
  ASSERT_TRUE(spool);
  EXPECT_EQ(report.damage.size(), 1u);
  EXPECT_EQ(report.truncated_bytes, 0u);
  EXPECT_EQ(readable_first_seqs(**spool).size(), 4u);
}

TEST(Spool, DamageFoundWhileShippingIsSkippedAndReported) {
  TempDir dir;
  RecoveryReport report;
  auto spool = Spool::open(options(dir), report);
  ASSERT_TRUE(spool);
  BatchMaker maker;
  append_batches(**spool, maker, 3);
  flip_byte(segment_files(dir / "spool").back(), kSegmentHeaderBytes + 64 + 1500);
  SpoolCursor cursor = (*spool)->begin();
  std::string batch;
  BatchHeader h;
  std::vector<ReadStatus> got;
  for (int i = 0; i < 10; ++i) {
    auto st = (*spool)->read_next(cursor, batch, h);
    ASSERT_TRUE(st);
    got.push_back(*st);
    if (*st == ReadStatus::kEnd) break;
  }
  EXPECT_NE(std::find(got.begin(), got.end(), ReadStatus::kCorruptSkipped), got.end());
  EXPECT_EQ(got.back(), ReadStatus::kEnd);
}

TEST(Spool, FullSpoolMakesTheWriterWaitUntilAcknowledgementsFreeSpace) {
  TempDir dir;
  auto o = options(dir, 8 * 1024);
  o.max_bytes = 40 * 1024;
  RecoveryReport report;
  auto spool = Spool::open(o, report);
  ASSERT_TRUE(spool);
  BatchMaker maker;
  std::atomic<bool> cancel{false};
  int appended = 0;
  while ((*spool)->fits(4000) && appended < 1000) {
    append_batches(**spool, maker, 1);
    ++appended;
  }
  EXPECT_LE((*spool)->bytes(), o.max_bytes);
  std::atomic<bool> got_space{false};
  std::thread writer([&] { got_space = (*spool)->wait_for_space(4000, cancel); });
  // The writer waits: nothing is dropped to make room.
  EXPECT_FALSE(got_space.load());
  (*spool)->ack(1, maker.seq());
  writer.join();
  EXPECT_TRUE(got_space.load());
}

}  // namespace
}  // namespace blackbox::agent
