// Ledger: the life of every instance (issue 4 "Instance ledger"): its InstanceInfo record,
// its stream heads (chain continuity, WELCOME), and its lifecycle events — hello, termination
// notice, goodbye (→ terminated), went silent (no heartbeat for silent_after → silent), and
// reconnected after silence. Every change is staged in the caller's StoreWriteBatch, so that it
// becomes durable atomically with the batches that caused it. The ledger decides what to write;
// the store encodes it.
//
// Threads: owned by the ingest writer thread; not thread-safe. Readers see the ledger through
// the store (instances, lifecycle, heads column families), and its figures through the gauges
// register_metrics() adds (instances by state, sequence gaps; read at scrape time from any
// thread: atomics published by load() and flush()).
//
// Metrics (collector/README.md "Metrics"):
//   blackbox_collector_instances{state="running"|"silent"|"terminated"}   gauge
//   blackbox_collector_stored_gaps{reason="sequence"}   gauge: gap ranges recorded, all instances
//   blackbox_collector_agent_gaps_total{reason=...}   counter: gap records agents sent, by reason
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "collector/store/store.h"
#include "collector/store/store_write_batch.h"
#include "schemas/clock.h"
#include "schemas/frame.h"
#include "schemas/metrics.h"

namespace blackbox::collector {

struct LedgerOptions {
  std::chrono::nanoseconds silent_after = std::chrono::minutes(2);
  std::size_t max_hostnames = 64;  // per instance; later ones are not recorded
  std::size_t max_boot_ids = 256;
};

class Ledger {
 public:
  struct Entry {
    InstanceInfo info;
    std::map<std::uint32_t, StreamHead> heads;
    bool dirty = false;  // info changed since the last flush()
    // What the published figures hold for this instance (account()).
    bool counted = false;
    InstanceState counted_state = InstanceState::kRunning;
    std::uint64_t counted_gaps = 0;
  };

  // `store` and `clock` must outlive the ledger.
  Ledger(const Store& store, const Clock& clock, LedgerOptions options);

  // Loads every instance record and every stream head. Call once before use. Errors: the
  // store's (kIo, kCorrupt).
  [[nodiscard]] Result<void> load();

  // The entry of `instance`, or nullptr if it never said HELLO.
  Entry* find(std::string_view instance);

  // A HELLO was accepted: creates the instance or starts a new life; records "hello" (and
  // "reconnected" after silence). Returns the stream positions for WELCOME.
  std::vector<StreamPosition> on_hello(const Hello& hello, StoreWriteBatch& wb);
  void on_heartbeat(Entry& e, const Heartbeat& hb);
  void on_goodbye(Entry& e, const Goodbye& bye, StoreWriteBatch& wb);
  void on_termination_notice(Entry& e, std::int64_t time_ns, std::uint64_t seq,
                             const std::string& reason, StoreWriteBatch& wb);
  // Any frame from the instance: last_seen, and back to running if it had gone silent.
  void on_seen(Entry& e, StoreWriteBatch& wb);

  // Declares silent every running instance not heard from for silent_after. Returns how many.
  std::size_t tick(StoreWriteBatch& wb);

  // Sets the stored end of one stream (staged in `wb` at once).
  void put_head(Entry& e, const StreamHead& h, StoreWriteBatch& wb);
  // Stages the instance records changed since the last flush(), and publishes the figures.
  void flush(StoreWriteBatch& wb);

  // Gap records (RecordKind::kGap) the agent sent in a stored batch, by their reason.
  void on_agent_gaps(const std::vector<std::string>& reasons);

  // Adds the ledger's gauges and counters to `metrics` (at start, once; they outlive the ledger
  // safely: the gauges share the published figures).
  void register_metrics(Metrics& metrics);
  // Instances in state `s` now (any thread).
  std::int64_t instances_in(InstanceState s) const;

 private:
  void add_event(Entry& e, LifecycleEvent ev, StoreWriteBatch& wb);
  void mark(Entry& e);
  void account(Entry& e);  // moves e's share of the published figures to its current state

  struct Figures {
    std::array<std::atomic<std::int64_t>, 3> by_state{};  // index: InstanceState
    std::atomic<std::uint64_t> sequence_gaps{0};
  };

  const Store& store_;
  const Clock& clock_;
  LedgerOptions options_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::vector<Entry*> dirty_;
  std::shared_ptr<Figures> figures_ = std::make_shared<Figures>();
  // Agent gap reasons (a short label per known reason, "other" for the rest) → counter.
  std::vector<std::pair<std::string_view, std::atomic<std::uint64_t>*>> agent_gaps_;
  std::atomic<std::uint64_t>* agent_gaps_other_ = nullptr;
};

}  // namespace blackbox::collector
