// The pipeline's flush, drain and durability waits, driven by events: a ManualClock that never
// moves (so no linger or interval ever fires on its own), real files, a real spool, and the
// fault-injecting file layer for the spool's failure paths.
#include "agent/pipeline/pipeline.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include "schemas/metrics.h"
#include "schemas/streams.h"
#include "tests/agent/support/temp_dir.h"
#include "tests/support/fault_file_ops.h"

namespace blackbox::agent {
namespace {

using namespace std::chrono_literals;
using blackbox::testing::FaultFileOps;
using blackbox::testing::FaultMode;
using blackbox::testing::FaultPlan;
using blackbox::testing::FileOp;
using testing::TempDir;

// A deadline far enough that only a bug reaches it: the waits end on events, not on time.
Pipeline::TimePoint generous_deadline() { return std::chrono::steady_clock::now() + 60s; }

void write_lines(const std::string& path, int first, int count, std::string_view tail = {}) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  for (int i = first; i < first + count; ++i) out << "line " << i << "\n";
  out << tail;
}

// Records spooled per stream, read back from the spool.
std::uint64_t spooled_records(Spool& spool, std::uint32_t stream) {
  SpoolCursor cursor = spool.begin();
  std::string batch;
  BatchHeader h;
  std::uint64_t records = 0;
  for (int guard = 0; guard < 100000; ++guard) {
    auto st = spool.read_next(cursor, batch, h);
    EXPECT_TRUE(st);
    if (!st || *st == ReadStatus::kEnd) break;
    if (*st == ReadStatus::kBatch && h.stream == stream) records += h.record_count;
  }
  return records;
}

class PipelineTest : public ::testing::Test {
 protected:
  void open(FileOps* ops = nullptr) {
    SpoolOptions so;
    so.dir = dir_ / "spool";
    so.fsync = FsyncPolicy::kAlways;
    so.file_ops = ops;
    auto spool = Spool::open(so, recovered_);
    ASSERT_TRUE(spool);
    spool_ = std::move(*spool);
    PipelineOptions po;
    po.files.globs = {dir_ / "*.log"};
    po.fsync = FsyncPolicy::kAlways;
    pipeline_ = std::make_unique<Pipeline>(po, *spool_, recovered_, metrics_, clock_);
    pipeline_->start();
  }
  void TearDown() override {
    if (pipeline_) pipeline_->stop();
  }

  TempDir dir_;
  ManualClock clock_;
  Metrics registry_;
  AgentMetrics metrics_{registry_};
  RecoveryReport recovered_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, FlushMakesWhatWasReadDurableWithoutWaitingForTheLinger) {
  write_lines(dir_ / "app.log", 0, 50);
  open();
  // The clock never moves: no linger passes; only the flush can cut the batch.
  ASSERT_TRUE(pipeline_->flush(generous_deadline()));
  EXPECT_EQ(spooled_records(*spool_, kStreamLogs), 50u);
  EXPECT_FALSE(pipeline_->failed());
}

TEST_F(PipelineTest, AnAppendedRecordIsInTheSpoolOnceItsTicketIsDurable) {
  open();
  const auto ticket = pipeline_->append_record(kStreamLifecycle, RecordKind::kLifecycle,
                                               Severity::kInfo, "agent", "{\"event\":\"start\"}");
  ASSERT_NE(ticket, 0u);
  ASSERT_TRUE(pipeline_->wait_durable(ticket, generous_deadline()));
  EXPECT_EQ(spooled_records(*spool_, kStreamLifecycle), 1u);
  const auto next = pipeline_->append_record(kStreamLifecycle, RecordKind::kLifecycle,
                                             Severity::kInfo, "agent", "{\"event\":\"again\"}");
  EXPECT_GT(next, ticket);  // tickets order submissions
}

TEST_F(PipelineTest, DrainReadsEveryFileToItsEndIncludingAPartialLineThenStopsReading) {
  write_lines(dir_ / "app.log", 0, 20, "no newline yet");
  open();
  ASSERT_TRUE(pipeline_->drain_inputs(generous_deadline()));
  EXPECT_EQ(spooled_records(*spool_, kStreamLogs), 21u);  // the partial line too
  // Nothing is read after the last gasp: a later flush finds the inputs stopped.
  write_lines(dir_ / "app.log", 20, 5);
  ASSERT_TRUE(pipeline_->flush(generous_deadline()));
  EXPECT_EQ(spooled_records(*spool_, kStreamLogs), 21u);
}

TEST_F(PipelineTest, AFailedFdatasyncStopsThePipelineAndNothingIsReportedDurable) {
  spdlog::set_level(spdlog::level::off);  // the critical line is expected
  FaultFileOps faults(posix_file_ops());
  open(&faults);
  faults.set_plan(FaultPlan{1, FileOp::kSync, EIO, FaultMode::kOnce});  // the next fdatasync
  const auto ticket = pipeline_->append_record(kStreamLifecycle, RecordKind::kLifecycle,
                                               Severity::kInfo, "agent", "{}");
  ASSERT_NE(ticket, 0u);
  EXPECT_FALSE(pipeline_->wait_durable(ticket, generous_deadline()));
  EXPECT_TRUE(pipeline_->failed());
  EXPECT_EQ(faults.fired(), FileOp::kSync);
  spdlog::set_level(spdlog::level::info);
}

TEST_F(PipelineTest, ADiskFullAppendIsRetriedAndTheRecordStillBecomesDurableOnce) {
  spdlog::set_level(spdlog::level::off);
  FaultFileOps faults(posix_file_ops());
  open(&faults);
  faults.set_plan(FaultPlan{1, FileOp::kWrite, ENOSPC, FaultMode::kOnce});  // the next write
  const auto ticket = pipeline_->append_record(kStreamLifecycle, RecordKind::kLifecycle,
                                               Severity::kInfo, "agent", "{}");
  ASSERT_NE(ticket, 0u);
  EXPECT_TRUE(pipeline_->wait_durable(ticket, generous_deadline()));  // after one retry
  EXPECT_FALSE(pipeline_->failed());
  EXPECT_EQ(metrics_.spool_write_errors.load(), 1u);
  EXPECT_EQ(spooled_records(*spool_, kStreamLifecycle), 1u);
  spdlog::set_level(spdlog::level::info);
}

}  // namespace
}  // namespace blackbox::agent
