// IngestWriter: the one thread that writes to RocksDB (contracts 1 and 2 on the collector).
// Connections submit requests (HELLO, BATCH, HEARTBEAT, GOODBYE) and the silence timer submits
// ticks; the thread takes everything queued (a group), decides each batch against the stream
// heads — next in chain → stored; already stored (same key, same hash) or wholly below the
// head → duplicate, acknowledged, not stored again; after a hole → gap range recorded, stored;
// straddling the head or conflicting with a stored batch → rejected — and stages the whole
// group in ONE StoreWriteBatch committed with one synced write (group commit). Only then are
// completions called, so an ACK always follows durability. The writer decides what to store;
// the store (collector/store/) encodes it.
//
// A failed write with a retryable error (Store: kDiskFull — the data disk is full — or kBusy —
// e.g. RocksDB out of file descriptors) pauses ingest: the group's requests and every later
// one complete with that error (agents keep their data and retry with backoff), the ledger is
// reloaded from the store (so memory holds exactly what is stored), the log says so once per
// episode with figures, and before each later group the writer asks the store to resume
// (Store::resume()); the first commit that succeeds ends the pause. Any other failed write is
// fatal: every pending and later request completes with kFsyncFailed, on_fatal is called once,
// and nothing is acknowledged again.
//
// Threads: submit() from any thread; completions run on the writer thread and must only post
// work elsewhere (e.g. to a session's strand).
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <variant>

#include "collector/ingest/batch_indexer.h"
#include "collector/lifecycle/ledger.h"
#include "collector/store/store.h"
#include "collector/store/store_write_batch.h"
#include "schemas/clock.h"
#include "schemas/frame.h"
#include "schemas/metrics.h"

namespace blackbox::collector {

struct WriterOptions {
  bool sync = true;                         // fsync the WAL before acknowledging
  std::size_t max_group_bytes = 64u << 20;  // batch bytes per group commit
  std::size_t max_group_requests = 8192;
  std::uint32_t max_streams_per_instance = 16;
  LedgerOptions ledger;
};

// Power-of-two microsecond buckets; quantiles for the metrics gauges. Thread-safe.
struct LatencyHistogram {
  std::array<std::atomic<std::uint64_t>, 40> buckets{};
  void record(std::uint64_t micros);
  double quantile_seconds(double q) const;  // upper bound of the bucket holding quantile q
};

struct WriteOutcome {
  boost::system::error_code ec;         // this request was rejected, or the writer failed
  std::string message;                  // for the ERROR frame / log
  std::vector<StreamPosition> welcome;  // HELLO: resume points
  std::optional<AckEntry> ack;          // BATCH: highest durable sequence of its stream
  bool duplicate = false;               // BATCH: was already stored
};
using Completion = std::function<void(WriteOutcome&&)>;

struct HelloRequest {
  Hello hello;
  // The "enrolled" event when this HELLO's key was just enrolled (server/enrollment.h); staged
  // before the HELLO's own events, in the same group commit.
  std::optional<LifecycleEvent> enrolled = std::nullopt;
};
struct BatchRequest {
  std::string instance;
  IndexedBatch batch;
  // Shared by the batches of one connection: set by the writer when it rejects one, so that
  // the connection's later (pipelined) batches are rejected too instead of leaving a hole.
  std::shared_ptr<bool> connection_failed;
};
struct HeartbeatRequest {
  std::string instance;
  Heartbeat heartbeat;
};
struct GoodbyeRequest {
  std::string instance;
  Goodbye goodbye;
};
struct TickRequest {};
// An audit lifecycle event of an admin action (LifecycleKind::kAdmin, collector/http/admin.h),
// written through this thread like every other lifecycle event; the instance need not exist.
struct AuditRequest {
  std::string instance;
  LifecycleEvent event;
};
using WriteRequest = std::variant<HelloRequest, BatchRequest, HeartbeatRequest, GoodbyeRequest,
                                  TickRequest, AuditRequest>;

class IngestWriter {
 public:
  // Loads the ledger and starts the thread. The store, clock and metrics must outlive it.
  [[nodiscard]] static Result<std::unique_ptr<IngestWriter>> start(Store& store, const Clock& clock,
                                                                   Metrics& metrics,
                                                                   WriterOptions options);
  ~IngestWriter();  // stop()
  IngestWriter(const IngestWriter&) = delete;
  IngestWriter& operator=(const IngestWriter&) = delete;

  // Queues a request; `done` is called exactly once (on the writer thread), also when the
  // writer is stopping or has failed (ec kUnavailable / kFsyncFailed).
  void submit(WriteRequest&& request, Completion&& done);

  // Finishes everything queued, then joins the thread. Idempotent.
  void stop();

  // Called once, on the writer thread, when a write fails. Set before the first submit().
  void set_on_fatal(std::function<void()> f) { on_fatal_ = std::move(f); }

 private:
  struct Pending {
    WriteRequest request;
    Completion done;
    WriteOutcome outcome;
  };
  IngestWriter(Store& store, const Clock& clock, Metrics& metrics, WriterOptions options);
  void run();
  void commit(std::vector<Pending>& group);
  // A failed commit of `group` with the retryable `e`: reject, reload, log once per episode.
  void pause(std::vector<Pending>& group, Errc e);
  // Before a group while paused: lets the store resume; false (group rejected) while it can't.
  bool try_resume(std::vector<Pending>& group);
  void apply(Pending& p, StoreWriteBatch& wb);
  void apply_batch(BatchRequest& r, WriteOutcome& out, StoreWriteBatch& wb);
  void store_batch(Ledger::Entry& e, BatchRequest& r, StoreWriteBatch& wb);

  Store& store_;
  const Clock& clock_;
  WriterOptions options_;
  Ledger ledger_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  bool failed_ = false;  // writer thread only
  // Paused by a retryable write error (writer thread only; the gauge reads paused_gauge_).
  Errc paused_ = Errc::kOk;
  std::chrono::steady_clock::time_point paused_since_;
  std::uint64_t paused_refused_ = 0;  // requests refused in this episode
  std::shared_ptr<std::atomic<bool>> paused_gauge_ = std::make_shared<std::atomic<bool>>(false);
  std::function<void()> on_fatal_;
  std::thread thread_;

  // Writer-thread state.
  // Batches staged in the current group: (instance, stream, first_seq) → hash (duplicates
  // inside one group).
  std::map<std::tuple<std::string, std::uint32_t, std::uint64_t>, ChainHash> group_keys_;

  struct Counters {
    std::atomic<std::uint64_t>* records;
    std::atomic<std::uint64_t>* batches;
    std::atomic<std::uint64_t>* bytes;
    std::atomic<std::uint64_t>* dup_batches;
    std::atomic<std::uint64_t>* dup_records;
    std::atomic<std::uint64_t>* gaps;
    std::atomic<std::uint64_t>* gap_records;
    std::atomic<std::uint64_t>* groups;
    std::atomic<std::uint64_t>* write_us;
    std::atomic<std::uint64_t>* write_errors;
    std::atomic<std::uint64_t>* retryable_errors;
    std::atomic<std::uint64_t>* paused_refused;
  } c_;
  std::shared_ptr<LatencyHistogram> latency_ = std::make_shared<LatencyHistogram>();
};

}  // namespace blackbox::collector
