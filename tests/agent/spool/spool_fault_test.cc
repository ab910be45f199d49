// Fail-at-step-N tests over the spool's recover → append → rotate → read → ack path: for
// N = 1, 2, 3, … the Nth file operation fails (or is cut short), the workload reacts as the
// pipeline and shipper do (retry what is retryable, stop at a fatal error), and the spool is
// then reopened with the real file operations and checked against what the workload was told.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
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
using blackbox::testing::FileOp;
using testing::BatchMaker;
using testing::checkpoint_for;
using testing::segment_ids;
using testing::TempDir;

constexpr std::uint64_t kOffsetPerSeq = 1000;  // file offset committed with seq: seq × 1000
constexpr std::uint64_t kStateOffset = 500;    // a state entry moves the offset alone
constexpr int kRecordsPerBatch = 10;

// What the workload was told by the spool, to check the reopened spool against.
struct Ledger {
  std::map<std::uint64_t, std::string> attempted;  // first_seq → batch handed to append()
  std::uint64_t attempted_end = 0;
  std::uint64_t durable_end = 0;  // append() reported every batch below this durable
  std::uint64_t acked_end = 0;
  std::set<std::uint64_t> deleted_segments;  // removed from the directory by an ack()
  std::optional<Errc> first_error;
  std::uint64_t unlink_failures = 0;
};

SpoolOptions spool_options(const std::string& dir, FileOps* ops, FsyncPolicy fsync) {
  SpoolOptions o;
  o.dir = dir;
  o.segment_bytes = 4096;  // ~2 batches a segment: the workload rotates often
  o.max_bytes = 64u << 20;
  o.fsync = fsync;
  o.file_ops = ops;
  o.reserve_bytes = 0;  // best effort, never an error: SpoolDiskFull covers it
  return o;
}

// Drives a spool as the pipeline's writer and the shipper do, noting what it was told.
class Workload {
 public:
  Workload(Spool& spool, BatchMaker& maker, Ledger& ledger, std::string dir, bool retry)
      : spool_(spool), maker_(maker), ledger_(ledger), dir_(std::move(dir)), retry_(retry) {}

  // Appends and ships a few segments' worth; stops at the first error it may not retry.
  void run() {
    for (int i = 0; i < 9; ++i) {
      if (!append(i % 3 == 2 ? 2 : 1, i % 3 == 2)) return;
      if (i % 2 == 1 && !ship_and_ack()) return;
    }
    if (!ship_and_ack()) return;
    if (auto r = spool_.sync(); !r) note(r.error());
  }

  // Appends `batches` batches (and a state entry after them) in one call; retries the rest
  // after a retryable error, as Pipeline::append_with_retry does.
  bool append(int batches, bool with_state) {
    std::vector<std::string> bodies, cps;
    std::vector<std::uint64_t> ends;
    bodies.reserve(batches);
    for (int k = 0; k < batches; ++k) {
      const std::uint64_t first = maker_.seq();
      bodies.push_back(maker_.next(kRecordsPerBatch));
      ends.push_back(maker_.seq());
      ledger_.attempted[first] = bodies.back();
      ledger_.attempted_end = maker_.seq();
      cps.push_back(checkpoint_for(maker_.seq(), maker_.seq() * kOffsetPerSeq));
    }
    if (with_state)
      cps.push_back(checkpoint_for(maker_.seq(), maker_.seq() * kOffsetPerSeq + kStateOffset));
    std::vector<SpoolAppend> entries;
    for (std::size_t k = 0; k < cps.size(); ++k) {
      entries.push_back(k < bodies.size() ? SpoolAppend{bodies[k], cps[k], 1, ends[k]}
                                          : SpoolAppend{{}, cps[k], 1, 0});
    }
    std::span<const SpoolAppend> rest(entries);
    for (int attempt = 0; attempt < 3; ++attempt) {
      std::size_t done = 0;
      auto r = spool_.append(rest, &done);
      for (std::size_t k = 0; k < done; ++k)
        if (!rest[k].batch.empty()) ledger_.durable_end = rest[k].end_seq;
      if (r) return true;
      rest = rest.subspan(done);
      if (!note(r.error())) return false;
    }
    return false;
  }

  // Reads every unacknowledged batch from the start, then acknowledges all but the last one.
  bool ship_and_ack() {
    SpoolCursor cursor = spool_.begin();
    std::string batch;
    BatchHeader h;
    std::vector<std::uint64_t> ends;
    for (int guard = 0; guard < 1000; ++guard) {
      auto st = spool_.read_next(cursor, batch, h);
      if (!st) return note(st.error());  // the shipper reconnects and reads again
      if (*st == ReadStatus::kEnd) break;
      EXPECT_NE(*st, ReadStatus::kCorruptSkipped);
      if (*st != ReadStatus::kBatch) continue;
      EXPECT_EQ(batch, ledger_.attempted[h.first_seq]) << "batch " << h.first_seq;
      ends.push_back(h.end_seq());
    }
    if (ends.size() < 2) return true;
    const auto before = segment_ids(dir_);
    spool_.ack(1, ends[ends.size() - 2]);
    ledger_.acked_end = std::max(ledger_.acked_end, ends[ends.size() - 2]);
    const auto after = segment_ids(dir_);
    for (auto id : before)
      if (!after.count(id)) ledger_.deleted_segments.insert(id);
    return true;
  }

 private:
  // Notes an error; whether the workload may go on.
  bool note(const boost::system::error_code& ec) {
    const Errc e = to_errc(ec);
    if (!ledger_.first_error) ledger_.first_error = e;
    return retry_ && classify(e) == ErrorClass::kRetryable;
  }

  Spool& spool_;
  BatchMaker& maker_;
  Ledger& ledger_;
  std::string dir_;
  bool retry_;
};

// A spool left by a killed agent: three durable batches, then half an entry (a torn tail).
void prepare(const std::string& dir, BatchMaker& maker, Ledger& ledger) {
  {
    RecoveryReport report;
    auto spool = Spool::open(spool_options(dir, nullptr, FsyncPolicy::kNever), report);
    ASSERT_TRUE(spool);
    Workload w(**spool, maker, ledger, dir, false);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(w.append(1, false));
  }
  const auto ids = segment_ids(dir);
  ASSERT_FALSE(ids.empty());
  std::string body(2000, 'x');
  auto header = make_entry_header(EntryType::kState, {}, body);
  std::ofstream out(dir + "/" + segment_file_name(*ids.rbegin()), std::ios::app | std::ios::binary);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(body.data(), 700);
}

// The spool reopened with the real file operations holds what the workload was promised.
void check_reopened(const std::string& dir, const Ledger& ledger) {
  RecoveryReport report;
  auto spool = Spool::open(spool_options(dir, nullptr, FsyncPolicy::kNever), report);
  ASSERT_TRUE(spool);
  EXPECT_TRUE(report.damage.empty()) << "a fault must never look like corruption";
  SpoolCursor cursor = (*spool)->begin();
  std::string batch;
  BatchHeader h;
  std::set<std::uint64_t> present;
  std::optional<std::uint64_t> last_end;  // of the unacknowledged batches, in order
  std::uint64_t max_end = 0;
  for (int guard = 0; guard < 1000; ++guard) {
    auto st = (*spool)->read_next(cursor, batch, h);
    ASSERT_TRUE(st);
    if (*st == ReadStatus::kEnd) break;
    ASSERT_EQ(*st, ReadStatus::kBatch);
    auto it = ledger.attempted.find(h.first_seq);
    ASSERT_NE(it, ledger.attempted.end()) << "batch " << h.first_seq << " was never appended";
    EXPECT_EQ(batch, it->second) << "batch " << h.first_seq << " is not the bytes appended";
    EXPECT_TRUE(present.insert(h.first_seq).second) << "batch " << h.first_seq << " twice";
    EXPECT_FALSE(ledger.deleted_segments.count(cursor.segment))
        << "batch " << h.first_seq << " came back from an acknowledged, deleted segment";
    max_end = std::max(max_end, h.end_seq());
    if (h.end_seq() <= ledger.acked_end) continue;  // kept with unacknowledged neighbours
    if (last_end) {
      EXPECT_EQ(h.first_seq, *last_end) << "unacknowledged batches out of order";
    }
    last_end = h.end_seq();
  }
  for (const auto& [first, bytes] : ledger.attempted) {
    const std::uint64_t end = first + kRecordsPerBatch;
    if (end <= ledger.durable_end && end > ledger.acked_end) {
      EXPECT_TRUE(present.count(first)) << "durable, unacknowledged batch " << first << " lost";
    }
  }
  // The state is the one committed with the last entry on disk: records and positions agree.
  ASSERT_FALSE(report.fresh);
  ASSERT_EQ(report.state.streams.size(), 1u);
  ASSERT_EQ(report.state.files.size(), 1u);
  const std::uint64_t next_seq = report.state.streams[0].next_seq;
  EXPECT_GE(next_seq, ledger.durable_end);
  EXPECT_LE(next_seq, ledger.attempted_end);
  if (!present.empty()) {
    EXPECT_EQ(next_seq, max_end);
  }
  const std::uint64_t offset = report.state.files[0].offset;
  EXPECT_TRUE(offset == next_seq * kOffsetPerSeq ||
              offset == next_seq * kOffsetPerSeq + kStateOffset)
      << "offset " << offset << " does not belong to seq " << next_seq;
}

// The error the workload saw first is the one the fault calls for, in the right class.
void check_error(const FaultPlan& plan, FileOp fired, const Ledger& ledger) {
  if (fired == FileOp::kUnlink) {
    // Never an error of the call that removes: counted, and (once) nothing else fails.
    if (plan.mode == FaultMode::kOnce) {
      EXPECT_FALSE(ledger.first_error);
      EXPECT_EQ(ledger.unlink_failures, 1u);
    }
    return;
  }
  ASSERT_TRUE(ledger.first_error) << "a failed " << file_op_name(fired) << " went unreported";
  const bool sync = fired == FileOp::kSync || fired == FileOp::kSyncDir;
  const Errc want = sync ? Errc::kFsyncFailed : plan.err == ENOSPC ? Errc::kDiskFull : Errc::kIo;
  EXPECT_EQ(*ledger.first_error, want);
  EXPECT_EQ(classify(*ledger.first_error), sync ? ErrorClass::kFatal : ErrorClass::kRetryable);
}

struct FaultCase {
  const char* name;
  FaultMode mode;
  int err;
  std::optional<FileOp> kind;
};

class SpoolFault : public ::testing::TestWithParam<FaultCase> {
  testing::QuietLogs quiet_;
};

TEST_P(SpoolFault, AfterAFaultAtAnyStepNothingDurableIsLostNothingAckedReturnsNothingTwice) {
  const FaultCase& c = GetParam();
  std::uint64_t step = 1;
  for (; step < 5000; ++step) {
    SCOPED_TRACE("fault at step " + std::to_string(step));
    TempDir tmp;
    const std::string dir = tmp / "spool";
    BatchMaker maker;
    Ledger ledger;
    prepare(dir, maker, ledger);
    ASSERT_FALSE(HasFatalFailure());
    const FaultPlan plan{step, c.kind, c.err, c.mode};
    FaultFileOps faults(posix_file_ops(), plan);
    faults.set_real_syncs(false);
    {
      RecoveryReport report;
      auto spool = Spool::open(spool_options(dir, &faults, FsyncPolicy::kAlways), report);
      if (!spool) {
        ledger.first_error = to_errc(spool.error());
      } else {
        Workload(**spool, maker, ledger, dir, c.mode != FaultMode::kFromNowOn).run();
        ledger.unlink_failures = (*spool)->unlink_failures();
      }
    }
    if (!faults.fired()) break;  // the workload makes fewer calls: every step was tried
    SCOPED_TRACE(std::string("failed call: ") + file_op_name(*faults.fired()));
    check_error(plan, *faults.fired(), ledger);
    check_reopened(dir, ledger);
    if (HasFatalFailure()) return;
  }
  RecordProperty("steps", static_cast<int>(step));
  EXPECT_GT(step, 10u) << "the workload should take more steps than this";
  EXPECT_LT(step, 5000u) << "the fault loop must end";
}

INSTANTIATE_TEST_SUITE_P(
    Faults, SpoolFault,
    ::testing::Values(FaultCase{"DiskFullOnce", FaultMode::kOnce, ENOSPC, std::nullopt},
                      FaultCase{"IoErrorOnce", FaultMode::kOnce, EIO, std::nullopt},
                      FaultCase{"DiskDiesAtStep", FaultMode::kFromNowOn, EIO, std::nullopt},
                      FaultCase{"ShortWriteThenDiskFull", FaultMode::kShortWrite, ENOSPC,
                                FileOp::kWrite}),
    [](const ::testing::TestParamInfo<FaultCase>& info) { return info.param.name; });

}  // namespace
}  // namespace blackbox::agent
