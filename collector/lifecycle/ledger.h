// Ledger: the life of every instance (issue 4 "Instance ledger"): its InstanceInfo record,
// its stream heads (chain continuity, WELCOME), and its lifecycle events — hello, termination
// notice, goodbye (→ terminated), went silent (no heartbeat for silent_after → silent), and
// reconnected after silence. Every change is staged in the caller's StoreWriteBatch, so that it
// becomes durable atomically with the batches that caused it. The ledger decides what to write;
// the store encodes it.
//
// Threads: owned by the ingest writer thread; not thread-safe. Readers see the ledger through
// the store (instances, lifecycle, heads column families).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <unordered_map>

#include "collector/store/store.h"
#include "collector/store/store_write_batch.h"
#include "schemas/clock.h"
#include "schemas/frame.h"

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
  // Stages the instance records changed since the last flush().
  void flush(StoreWriteBatch& wb);

 private:
  void add_event(Entry& e, LifecycleEvent ev, StoreWriteBatch& wb);
  void mark(Entry& e);

  const Store& store_;
  const Clock& clock_;
  LedgerOptions options_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::vector<Entry*> dirty_;
};

}  // namespace blackbox::collector
