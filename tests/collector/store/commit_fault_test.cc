// Fail-at-step-N over the collector's commit (IngestWriter + Store, STYLE.md §8): a fixed
// workload of HELLOs, batches, a re-sent batch, heartbeats and a GOODBYE runs against a store
// whose file system fails its Nth durable file operation (once, or from then on), for
// N = 1, 2, 3, … until a run sees no fault. After each run the store is reopened without
// faults and must hold everything acknowledged, nothing twice, and heads and instance records
// that agree with the stored batches; the writer must acknowledge nothing after a failure; and
// a full re-delivery must then complete the streams without storing anything twice.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <map>
#include <numeric>

#include "schemas/streams.h"
#include "tests/collector/test_agent.h"
#include "tests/collector/writer_harness.h"
#include "tests/support/fault_file_system.h"

namespace blackbox::collector::testing {
namespace {

using blackbox::testing::FaultFileSystem;
using blackbox::testing::FaultMode;

constexpr std::uint64_t kMaxSteps = 400;  // bound on the fault loop; the workload needs fewer

struct Stream {
  std::string instance;
  std::uint32_t stream;
};

// The workload's batches, cut once (as the agent's spool does) so that re-delivery is
// byte-identical.
struct Workload {
  std::vector<Stream> streams = {{"i-1", kStreamLogs}, {"i-1", 7}, {"i-2", kStreamLogs}};
  std::vector<std::vector<std::string>> batches;  // per stream
  std::uint64_t records_per_batch = 5;

  Workload() {
    for (const auto& s : streams) {
      StreamSource src(s.stream);
      auto& out = batches.emplace_back();
      for (int i = 0; i < 3; ++i)
        out.push_back(src.next_batch(static_cast<std::uint32_t>(records_per_batch)));
    }
  }
};

// What one run acknowledged.
struct Acked {
  std::map<std::pair<std::string, std::uint32_t>, std::uint64_t> next_seq;  // per stream
  bool failed = false;                                                      // some request failed
  bool acked_after_failure = false;
};

void note(Acked& a, const WriteOutcome& o, const std::string& instance) {
  if (o.ec) {
    a.failed = true;
    return;
  }
  if (a.failed) a.acked_after_failure = true;
  if (o.ack) {
    auto& n = a.next_seq[{instance, o.ack->stream}];
    n = std::max(n, o.ack->highest_seq + 1);
  }
}

Acked run_workload(WriterHarness& h, const Workload& w) {
  Acked a;
  note(a, h.hello("i-1"), "i-1");
  note(a, h.hello("i-2"), "i-2");
  for (std::size_t b = 0; b < 3; ++b) {
    for (std::size_t s = 0; s < w.streams.size(); ++s)
      note(a, h.batch(w.streams[s].instance, w.batches[s][b]), w.streams[s].instance);
    note(a, h.heartbeat("i-1"), "i-1");
    if (b == 1) note(a, h.batch("i-1", w.batches[0][0]), "i-1");  // a re-sent batch
  }
  note(a, h.goodbye("i-2", "sigterm"), "i-2");
  return a;
}

// The reopened store agrees with itself and holds everything acknowledged, once.
void check_store(WriterHarness& h, const Workload& w, const Acked& a) {
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> per_instance;  // records, batches
  for (const auto& s : w.streams) {
    SCOPED_TRACE(s.instance + " stream " + std::to_string(s.stream));
    const auto seqs = h.stored_seqs(s.instance, s.stream);
    std::vector<std::uint64_t> want(seqs.size());
    std::iota(want.begin(), want.end(), 0);
    EXPECT_EQ(seqs, want) << "stored records are not [0, n) once each";
    auto it = a.next_seq.find({s.instance, s.stream});
    if (it != a.next_seq.end()) {
      EXPECT_GE(seqs.size(), it->second) << "acknowledged data lost";
    }
    auto& [records, batches] = per_instance[s.instance];
    records += seqs.size();
    batches += seqs.size() / w.records_per_batch;
    auto heads = h.store->stream_heads(s.instance);
    ASSERT_TRUE(heads);
    const StreamHead* head = nullptr;
    for (const auto& hd : *heads)
      if (hd.stream == s.stream) head = &hd;
    if (seqs.empty()) {
      EXPECT_EQ(head, nullptr);
      continue;
    }
    ASSERT_NE(head, nullptr);
    EXPECT_EQ(head->next_seq, seqs.size());
    auto last = h.store->stored_batch_hash(s.instance, s.stream, head->last_first_seq);
    ASSERT_TRUE(last);
    ASSERT_TRUE(*last);
    EXPECT_EQ(**last, head->head);
  }
  for (const auto& [instance, counts] : per_instance) {
    auto info = h.store->get_instance(instance);
    if (!info) {
      EXPECT_EQ(counts.first, 0u) << instance << ": batches stored without an instance record";
      continue;
    }
    EXPECT_EQ(info->records, counts.first) << instance;
    EXPECT_EQ(info->batches, counts.second) << instance;
  }
}

// Re-delivers everything on the reopened store: every stream ends complete, stored once.
void redeliver(WriterHarness& h, const Workload& w) {
  ASSERT_FALSE(h.hello("i-1").ec);
  ASSERT_FALSE(h.hello("i-2").ec);
  for (std::size_t s = 0; s < w.streams.size(); ++s)
    for (const auto& b : w.batches[s]) {
      auto o = h.batch(w.streams[s].instance, b);
      ASSERT_FALSE(o.ec) << o.message;
    }
  const std::uint64_t per_stream = 3 * w.records_per_batch;
  for (const auto& s : w.streams) {
    std::vector<std::uint64_t> want(per_stream);
    std::iota(want.begin(), want.end(), 0);
    EXPECT_EQ(h.stored_seqs(s.instance, s.stream), want);
  }
  EXPECT_EQ(h.store->get_instance("i-1")->records, 2 * per_stream);
  EXPECT_EQ(h.store->get_instance("i-2")->records, per_stream);
}

void fail_at_every_step(FaultMode mode) {
  const Workload w;
  std::uint64_t step = 1;
  std::uint64_t runs_failed = 0;  // runs in which the writer saw its write fail
  for (; step <= kMaxSteps; ++step) {
    SCOPED_TRACE("fault at step " + std::to_string(step) +
                 (mode == FaultMode::kSticky ? " and after" : " only"));
    auto fs = std::make_shared<FaultFileSystem>();
    WriterHarness h(0, std::chrono::minutes(2), fs);
    fs->arm(step, mode);
    const Acked a = run_workload(h, w);
    const std::uint64_t faults = fs->faults();
    runs_failed += a.failed ? 1 : 0;
    EXPECT_FALSE(a.acked_after_failure) << "the writer acknowledged after a failed write";
    h.writer.reset();
    h.store.reset();  // closing may fail too: part of the fault
    fs->disarm();
    h.reopen();
    check_store(h, w, a);
    redeliver(h, w);
    if (::testing::Test::HasFailure()) return;
    if (faults == 0) {
      EXPECT_FALSE(a.failed) << "a request failed without an injected fault";
      break;  // the workload needs fewer steps: every step has had its fault
    }
  }
  EXPECT_LE(step, kMaxSteps) << "the workload never ran without a fault";
  EXPECT_GT(step, 2u) << "the workload made too few file operations to test anything";
  EXPECT_GT(runs_failed, 0u) << "no injected fault ever reached the writer";
  std::printf("[ faults   ] %llu steps, %llu runs with a failed write\n",
              static_cast<unsigned long long>(step - 1),
              static_cast<unsigned long long>(runs_failed));
}

TEST(CommitFault, FailedFileStepLosesNothingAckedAndStoresNothingTwice) {
  fail_at_every_step(FaultMode::kOnce);
}

TEST(CommitFault, DiskGoneBadAtStepLosesNothingAckedAndStoresNothingTwice) {
  fail_at_every_step(FaultMode::kSticky);
}

}  // namespace
}  // namespace blackbox::collector::testing
