// The agent's path from files to the spool, on three threads:
//   input thread   globs, tails files, encodes lines into the open batch (BatchCutter), cuts
//                  it with the file positions it covers                    → queue (depth 2)
//   sealer thread  compresses once, numbers and chains it (Sealer)         → queue (depth 4)
//   writer thread  appends groups of entries to the spool in one write and one fdatasync,
//                  waits while the spool is full (back-pressure reaches the files: they wait)
// Producers on other threads (lifecycle records, gap records) submit whole batches too.
// Submissions carry increasing tickets; flush() waits until a ticket is durable.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string_view>
#include <thread>

#include "agent/agent_metrics.h"
#include "agent/inputs/file_input.h"
#include "agent/pipeline/batch_cutter.h"
#include "agent/pipeline/builder_pool.h"
#include "agent/pipeline/sealer.h"
#include "agent/spool/spool.h"
#include "agent/util/bounded_queue.h"
#include "schemas/clock.h"
#include "schemas/record.h"

namespace blackbox::agent {

struct PipelineOptions {
  FileInputOptions files;
  CutterOptions cutter;
  std::int64_t poll_interval_ns = 100'000'000;    // idle files are looked at this often
  std::int64_t glob_interval_ns = 1'000'000'000;  // globs are expanded this often
  int compression_level = 1;
  std::int64_t fsync_interval_ns = 1'000'000'000;  // FsyncPolicy::kInterval
  FsyncPolicy fsync = FsyncPolicy::kAlways;
};

class Pipeline {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  Pipeline(PipelineOptions options, Spool& spool, const RecoveryReport& recovered,
           AgentMetrics& metrics, const Clock& clock);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void start();
  // Any thread: one record as a batch of its own on `stream` (lifecycle events, gaps).
  // Waits for room in the pipeline until `deadline` at most (the spool may be full).
  // Returns its ticket, or 0 when stopping or at the deadline.
  std::uint64_t append_record(std::uint32_t stream, RecordKind kind, Severity severity,
                              std::string_view source, std::string_view body,
                              TimePoint deadline = TimePoint::max());
  // Cuts what the inputs have read so far and waits until it and everything submitted
  // before is in the spool (durable per the fsync policy). False at the deadline.
  bool flush(TimePoint deadline);
  // Last gasp: the inputs read every file to its current end, cut, and stop reading; then
  // waits as flush() does.
  bool drain_inputs(TimePoint deadline);
  bool wait_durable(std::uint64_t ticket, TimePoint deadline);
  // Stops every thread. Cut but unspooled batches are dropped: their positions were never
  // committed, so their lines are read again at the next start.
  void stop();
  // A fatal error (failed fsync, failed compression) stopped the pipeline.
  bool failed() const { return failed_.load(); }
  Sealer& sealer() { return sealer_; }
  // Called on the writer thread for every batch once it is in the spool: its stream, end
  // sequence and chain hash (the head signer, head_signer.h). Set before start().
  using SpooledHook = std::function<void(std::uint32_t, std::uint64_t, const ChainHash&)>;
  void set_on_spooled(SpooledHook hook) { on_spooled_ = std::move(hook); }

 private:
  std::uint64_t submit(CutBatch batch, TimePoint deadline = TimePoint::max());
  void cut(bool with_positions);
  void input_loop();
  void sealer_loop();
  void writer_loop();
  bool append_with_retry(std::span<const SpoolAppend> part);
  // The spool-full episode (writer thread): warned once with figures, raised on the health
  // endpoint ("spool_full", degraded), ended — said, cleared — once a whole segment fits again.
  void spool_full_begins(std::string_view cause, std::span<const SpoolAppend> waiting);
  void spool_full_check_end();
  void fail(std::string_view what);

  PipelineOptions options_;
  Spool& spool_;
  AgentMetrics& metrics_;
  const Clock& clock_;
  BuilderPool pool_;
  FileInput input_;
  BatchCutter cutter_;
  Sealer sealer_;
  ReadBuffer read_buffer_;

  BoundedQueue<CutBatch> cut_queue_{1};
  BoundedQueue<SealedEntry> sealed_queue_{2};
  BoundedQueue<SealedEntry> free_entries_{2};

  std::timed_mutex submit_mu_;  // orders tickets; held while a submission waits for room
  std::atomic<std::uint64_t> last_ticket_{0};  // written under submit_mu_

  std::mutex mu_;  // input thread requests and replies
  std::condition_variable input_cv_;
  bool flush_requested_ = false;
  bool drain_requested_ = false;
  std::uint64_t flushed_ticket_ = 0;  // set by the input thread after a requested cut
  std::uint64_t flush_generation_ = 0;
  bool inputs_drained_ = false;

  std::mutex durable_mu_;
  std::condition_variable durable_cv_;
  std::uint64_t durable_ticket_ = 0;

  bool spool_full_ = false;             // writer thread
  std::int64_t spool_full_since_ns_ = 0;  // writer thread, steady clock
  bool append_failing_ = false;         // writer thread: an I/O error episode was logged

  SpooledHook on_spooled_;  // set before start(); writer thread

  std::atomic<bool> stopping_{false};
  std::atomic<bool> failed_{false};
  std::thread input_thread_, sealer_thread_, writer_thread_;
};

}  // namespace blackbox::agent
