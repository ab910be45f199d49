// A spool whose disk is full once the collector has acknowledged everything in it (issue 10,
// item 2): the acknowledged active segment is released (a fresh segment carries the state,
// made in the room of the reserve file), so that writing goes on and nothing acknowledged is
// shipped again. Then the same with a fault (ENOSPC or EIO) at each step of that path in turn:
// nothing durable is lost, nothing acknowledged comes back unless the run stopped on a fatal
// error, nothing is there twice.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/spool/segment_format.h"
#include "agent/spool/spool.h"
#include "tests/agent/spool/batch_maker.h"
#include "tests/agent/support/temp_dir.h"
#include "tests/support/fault_file_ops.h"

namespace blackbox::agent {
namespace {

using blackbox::testing::FaultFileOps;
using blackbox::testing::FaultMode;
using blackbox::testing::FaultPlan;
using blackbox::testing::file_op_name;
using testing::BatchMaker;
using testing::checkpoint_for;
using testing::segment_ids;
using testing::TempDir;

constexpr int kRecords = 10;

SpoolOptions options(const std::string& dir, FileOps* ops) {
  SpoolOptions o;
  o.dir = dir;
  o.segment_bytes = 1u << 20;  // everything stays in the active segment
  o.max_bytes = 64u << 20;
  o.fsync = FsyncPolicy::kAlways;
  o.file_ops = ops;
  return o;
}

// Drives a spool as the pipeline's writer (retrying what is retryable, three times at most)
// and the shipper (read everything, acknowledge it) do; remembers what it was told.
struct Driver {
  Driver(Spool& s, BatchMaker& m) : spool(s), maker(m) {}
  Spool& spool;
  BatchMaker& maker;
  std::map<std::uint64_t, std::string> appended;  // first_seq → bytes handed to append()
  std::set<std::uint64_t> durable;                // append() said these are in
  std::uint64_t acked_end = 0;
  std::optional<Errc> first_error;
  bool fatal = false;

  bool append_one() {
    const std::uint64_t first = maker.seq();
    appended[first] = maker.next(kRecords);
    const std::string cp = checkpoint_for(maker.seq(), maker.seq() * 100);
    const SpoolAppend e{appended[first], cp, 1, maker.seq()};
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto r = spool.append(std::span<const SpoolAppend>(&e, 1));
      if (r) {
        durable.insert(first);
        return true;
      }
      if (!note(r.error())) return false;
    }
    return false;
  }

  // `n` batches, each appended, then all shipped and acknowledged.
  bool append_and_ack(int n) {
    for (int i = 0; i < n; ++i)
      if (!append_one()) return false;
    return ship_and_ack_all();
  }

  // Reads every unacknowledged batch and acknowledges all of them.
  bool ship_and_ack_all() {
    SpoolCursor cursor = spool.begin();
    std::string batch;
    BatchHeader h;
    std::uint64_t end = 0;
    for (int guard = 0; guard < 100; ++guard) {
      auto st = spool.read_next(cursor, batch, h);
      if (!st) return note(st.error());
      if (*st == ReadStatus::kEnd) break;
      EXPECT_EQ(*st, ReadStatus::kBatch);
      EXPECT_GE(h.first_seq, acked_end) << "an acknowledged batch was read again";
      EXPECT_EQ(batch, appended[h.first_seq]);
      end = h.end_seq();
    }
    if (end > 0) {
      spool.ack(1, end);
      acked_end = std::max(acked_end, end);
    }
    return true;
  }

  bool note(const boost::system::error_code& ec) {
    const Errc e = to_errc(ec);
    if (!first_error) first_error = e;
    fatal = classify(e) != ErrorClass::kRetryable;
    return !fatal;
  }
};

struct Left {
  std::uint64_t segment = 0;
  std::string bytes;
};

// The batches a reopened spool (real file operations) offers to ship, by first_seq.
std::map<std::uint64_t, Left> reopened_batches(const std::string& dir) {
  RecoveryReport report;
  auto spool = Spool::open(options(dir, nullptr), report);
  EXPECT_TRUE(spool);
  std::map<std::uint64_t, Left> out;
  if (!spool) return out;
  EXPECT_TRUE(report.damage.empty()) << "a fault must never look like corruption";
  SpoolCursor cursor = (*spool)->begin();
  std::string batch;
  BatchHeader h;
  for (int guard = 0; guard < 100; ++guard) {
    auto st = (*spool)->read_next(cursor, batch, h);
    EXPECT_TRUE(st);
    if (!st || *st == ReadStatus::kEnd) break;
    EXPECT_EQ(*st, ReadStatus::kBatch);
    // After a batch, the cursor is still in the segment it came from.
    EXPECT_TRUE(out.emplace(h.first_seq, Left{cursor.segment, batch}).second)
        << "batch " << h.first_seq << " twice";
  }
  return out;
}

TEST(SpoolDiskFull, AnAcknowledgedActiveSegmentIsReleasedSoThatWritingGoesOn) {
  TempDir tmp;
  const std::string dir = tmp / "spool";
  FaultFileOps faults(posix_file_ops());
  faults.set_real_syncs(false);
  BatchMaker maker;
  {
    RecoveryReport report;
    auto spool = Spool::open(options(dir, &faults), report);
    ASSERT_TRUE(spool);
    Driver d(**spool, maker);
    ASSERT_TRUE(d.append_and_ack(3));
    const auto before = segment_ids(dir);
    ASSERT_EQ(before.size(), 1u) << "the three batches share the active segment";
    const std::uint64_t full_bytes = (*spool)->bytes();

    faults.set_disk_full(true);  // until a file is removed
    ASSERT_TRUE(d.append_one()) << "the first error: "
                                << (d.first_error ? errc_name(*d.first_error) : "none");
    EXPECT_FALSE(d.first_error) << "the release happens inside append, unseen by the caller";
    const auto after = segment_ids(dir);
    EXPECT_FALSE(after.count(*before.begin())) << "the acknowledged active segment is still there";
    EXPECT_LT((*spool)->bytes(), full_bytes);
  }
  // A restart ships only what was not acknowledged: the fourth batch.
  const auto left = reopened_batches(dir);
  ASSERT_EQ(left.size(), 1u) << "acknowledged batches would ship again";
  EXPECT_EQ(left.begin()->first, 3u * kRecords);
}

class SpoolDiskFullFault : public ::testing::TestWithParam<int> {
  testing::QuietLogs quiet_;
};

TEST_P(SpoolDiskFullFault, AFaultAtAnyStepOfTheReleaseLosesNothingAndShipsNothingTwice) {
  const int err = GetParam();
  std::uint64_t step = 1;
  std::set<std::string> fired_kinds;
  for (; step < 500; ++step) {
    SCOPED_TRACE("fault at step " + std::to_string(step));
    TempDir tmp;
    const std::string dir = tmp / "spool";
    FaultFileOps faults(posix_file_ops());
    faults.set_real_syncs(false);
    BatchMaker maker;
    std::optional<Driver> done;
    {
      RecoveryReport report;
      auto spool = Spool::open(options(dir, &faults), report);
      ASSERT_TRUE(spool);
      Driver d(**spool, maker);
      ASSERT_TRUE(d.append_and_ack(3));
      // The disk fills up, and the step-th file operation from here on fails as well. Three
      // times: the disk is full while everything is acknowledged; only the last batch stays.
      faults.set_plan(FaultPlan{step, std::nullopt, err, FaultMode::kOnce});
      for (int round = 0; round < 3; ++round) {
        faults.set_disk_full(true);
        if (!d.append_one() || (round < 2 && !d.ship_and_ack_all())) break;
      }
      done.emplace(std::move(d));
    }
    if (!faults.fired()) break;  // the path takes fewer steps: every one was tried
    fired_kinds.insert(file_op_name(*faults.fired()));
    SCOPED_TRACE(std::string("failed call: ") + file_op_name(*faults.fired()));
    if (done->fatal) {
      EXPECT_EQ(done->first_error, Errc::kFsyncFailed) << "only a failed sync may stop the run";
    }
    const auto left = reopened_batches(dir);
    std::set<std::uint64_t> segments_with_unacked;
    for (const auto& [first, l] : left)
      if (first >= done->acked_end) segments_with_unacked.insert(l.segment);
    for (const auto& [first, l] : left) {
      ASSERT_TRUE(done->appended.count(first)) << "batch " << first << " was never appended";
      EXPECT_EQ(l.bytes, done->appended[first]) << "batch " << first << " is not the one appended";
      // An acknowledged batch comes back only beside an unacknowledged one in its segment, or
      // from a segment that could not be removed (counted; the collector stores it once), or
      // after a fatal stop.
      if (!done->fatal && *faults.fired() != blackbox::testing::FileOp::kUnlink &&
          first < done->acked_end) {
        EXPECT_TRUE(segments_with_unacked.count(l.segment))
            << "acknowledged batch " << first << " would ship again";
      }
    }
    for (std::uint64_t first : done->durable) {
      if (first >= done->acked_end) {
        EXPECT_TRUE(left.count(first)) << "durable, unacknowledged batch " << first << " lost";
      }
    }
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(step, 10u) << "the path should take more steps than this";
  EXPECT_LT(step, 500u) << "the fault loop must end";
  // Every kind of call on the path failed in turn: writes, syncs, removals.
  EXPECT_TRUE(fired_kinds.count("write"));
  EXPECT_TRUE(fired_kinds.count("fdatasync"));
  EXPECT_TRUE(fired_kinds.count("unlink"));
  std::string kinds;
  for (const auto& k : fired_kinds) kinds += k + " ";
  RecordProperty("failed_calls", kinds);
}

INSTANTIATE_TEST_SUITE_P(Errors, SpoolDiskFullFault, ::testing::Values(ENOSPC, EIO),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == ENOSPC ? "DiskFull" : "IoError";
                         });

}  // namespace
}  // namespace blackbox::agent
