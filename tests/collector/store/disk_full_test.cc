// Issue 11 item 6, with the fault-injecting RocksDB file system: a full disk (NoSpace on the
// Nth durable file operation and every one after it, for the first kSteps of them: the WAL
// write and sync of a commit, the next commit's, ...; the disk reports 0 bytes free) pauses
// ingest — nothing acknowledged, the store says why, reads still answered — and once space
// returns, without a restart, the writer resumes: the refused batches are stored on re-delivery,
// nothing acknowledged is lost and nothing is stored twice.
#include <gtest/gtest.h>

#include <numeric>

#include "schemas/streams.h"
#include "tests/collector/test_agent.h"
#include "tests/collector/writer_harness.h"
#include "tests/support/fault_file_system.h"

namespace blackbox::collector::testing {
namespace {

using blackbox::testing::FaultError;
using blackbox::testing::FaultFileSystem;
using blackbox::testing::FaultMode;

// Each run waits for RocksDB's own recovery (its SstFileManager polls free space every 5 s):
// a few steps keep the test short.
constexpr std::uint64_t kSteps = 4;
constexpr std::size_t kBatches = 10;
constexpr std::uint32_t kRecords = 20;

std::vector<std::uint64_t> iota_seqs(std::uint64_t n) {
  std::vector<std::uint64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// Retries `write` until it is accepted (a full disk is retried, as the agent does), with the
// fixture's hang guard. The last outcome.
WriteOutcome until_accepted(const std::function<WriteOutcome()>& write) {
  WriteOutcome o;
  eventually([&] {
    o = write();
    return !o.ec;
  });
  return o;
}

// The fault loop for one kind of retryable error: `error` injected, `expect` seen by the agent.
void pause_and_resume_at_every_step(FaultError error, Errc expect) {
  std::vector<std::string> batches;
  {
    StreamSource src(kStreamLogs);
    for (std::size_t i = 0; i < kBatches; ++i) batches.push_back(src.next_batch(kRecords));
  }
  std::uint64_t step = 1, runs_paused = 0;
  for (; step <= kSteps; ++step) {
    SCOPED_TRACE(std::string(errc_name(expect)) + " from step " + std::to_string(step));
    auto fs = std::make_shared<FaultFileSystem>();
    WriterHarness h(0, std::chrono::minutes(2), fs);
    ASSERT_FALSE(h.hello("i-1").ec);
    ASSERT_FALSE(h.batch("i-1", batches[0]).ec);
    fs->arm(step, FaultMode::kSticky, blackbox::testing::kAllFsOps, error);

    // Writes until the disk "fills": every acknowledgement is in order, the first refusal is
    // disk_full, and after it nothing is acknowledged.
    std::size_t acked = 1;
    WriteOutcome refused;
    for (std::size_t i = 1; i < kBatches; ++i) {
      auto o = h.batch("i-1", batches[i]);
      if (o.ec) {
        refused = o;
        break;
      }
      ASSERT_TRUE(o.ack);
      EXPECT_EQ(o.ack->highest_seq, (i + 1) * kRecords - 1);
      acked = i + 1;
    }
    const bool paused = static_cast<bool>(refused.ec);
    if (paused) {
      ++runs_paused;
      EXPECT_EQ(to_errc(refused.ec), expect) << refused.message;
      const StoreHealth health = h.store->health();
      EXPECT_FALSE(health.writable);
      EXPECT_EQ(health.error, expect);
      EXPECT_NE(h.metrics.render().find("blackbox_collector_ingest_paused 1"), std::string::npos);
      // Still full: refused again, HELLO too, nothing acknowledged.
      if (error == FaultError::kNoSpace) {  // EMFILE: resumed as soon as RocksDB can
        EXPECT_EQ(to_errc(h.batch("i-1", batches[acked]).ec), expect);
        EXPECT_EQ(to_errc(h.hello("i-1").ec), expect);
      }
      // Reads are answered meanwhile, and hold exactly what was acknowledged.
      EXPECT_EQ(h.stored_seqs("i-1", kStreamLogs), iota_seqs(acked * kRecords));
      auto info = h.store->get_instance("i-1");
      ASSERT_TRUE(info);
      EXPECT_EQ(info->records, acked * kRecords);
    }
    const std::uint64_t faults = fs->faults();
    fs->disarm();  // space returns

    // The agent reconnects and re-sends from its last acknowledgement, and once more from the
    // start (a re-delivery): everything ends stored once, without a restart.
    ASSERT_FALSE(until_accepted([&] { return h.hello("i-1"); }).ec);
    for (std::size_t i = acked; i < kBatches; ++i) {
      auto o = until_accepted([&] { return h.batch("i-1", batches[i]); });
      ASSERT_FALSE(o.ec) << o.message;
      EXPECT_FALSE(o.duplicate) << "batch " << i << " was refused, so it cannot be stored";
    }
    EXPECT_TRUE(h.store->health().writable);
    for (const auto& b : batches) EXPECT_TRUE(h.batch("i-1", b).duplicate);
    EXPECT_EQ(h.stored_seqs("i-1", kStreamLogs), iota_seqs(kBatches * kRecords));
    EXPECT_EQ(h.store->get_instance("i-1")->records, kBatches * kRecords);
    // And after a restart.
    h.reopen();
    EXPECT_EQ(h.stored_seqs("i-1", kStreamLogs), iota_seqs(kBatches * kRecords));
    EXPECT_EQ(h.store->get_instance("i-1")->records, kBatches * kRecords);
    if (::testing::Test::HasFailure()) return;
    EXPECT_GT(faults, 0u) << "the workload made fewer than " << step << " durable file operations";
    EXPECT_TRUE(paused) << "an injected fault did not reach the writer";
  }
  EXPECT_EQ(runs_paused, kSteps);
  std::printf("[ %s ] %llu steps, %llu runs paused ingest\n", errc_name(expect),
              static_cast<unsigned long long>(step - 1),
              static_cast<unsigned long long>(runs_paused));
}

TEST(DiskFull, NoSpaceAtEveryStepPausesIngestThenResumesWithoutRestart) {
  pause_and_resume_at_every_step(FaultError::kNoSpace, Errc::kDiskFull);
}

}  // namespace
}  // namespace blackbox::collector::testing
