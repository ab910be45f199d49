// StoreWriteBatch: the typed writes of one atomic store commit. The collector's writers (ingest,
// the lifecycle ledger) decide WHAT to write and stage it here; the store alone knows HOW it is
// encoded (keys, value codecs, column families). Store::commit() makes the whole batch durable
// at once, or none of it.
//
// Contract: a batch comes from Store::write_batch() and is committed to, or dropped by, that
// store; the store must outlive it. Staging never fails on its own: the first encoding error
// (RocksDB refusing a put) is kept and returned by Store::commit(), which then writes nothing.
// Not thread-safe: one thread stages a batch (the ingest writer thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "collector/store/store.h"

namespace blackbox::collector {

class StoreWriteBatch {
 public:
  StoreWriteBatch(StoreWriteBatch&&) noexcept;
  StoreWriteBatch& operator=(StoreWriteBatch&&) noexcept;
  ~StoreWriteBatch();

  // A batch as stored: its bytes (exactly as the agent sent them, plus the stored time
  // entry.ingest_time_ns that retention runs by: codec.h) under (instance, stream,
  // first_seq), and its index entries (per-instance time index with the word filter, fleet
  // time index, ingest log). Assigns entry.ingest_seq, the batch's position in the ingest log
  // (published by Store::commit()). entry.instance, stream, first_seq and the time range must be
  // set. The store also widens its fleet-wide batch span when this batch is wider.
  void put_batch(BatchIndexEntry& entry, std::string_view bytes);
  // Removes the stored bytes of one batch (its index entries stay, and readers skip them as
  // they skip entries whose batch retention removed). For tests of `blackbox verify`, which
  // must find a batch that went missing: the collector itself never deletes a batch.
  void delete_batch(std::string_view instance, std::uint32_t stream, std::uint64_t first_seq);
  // Where a host snapshot record of `instance` lives; `stored_ns` is when its batch was stored
  // (the batch's ingest_time_ns: retention removes both together).
  void put_snapshot(std::string_view instance, const SnapshotRef& ref, std::int64_t stored_ns);
  // The whole record of one instance (replaces the stored one; legal_hold is not stored here).
  void put_instance(const InstanceInfo& info);
  // One lifecycle event; events of the same instance and time keep their staging order.
  void put_lifecycle(std::string_view instance, const LifecycleEvent& event);
  // A gap range of one stream of `instance` (keyed by its from_seq).
  void put_gap(std::string_view instance, const GapRange& gap);
  // The stored end of one stream of `instance` (replaces the stored one).
  void put_head(std::string_view instance, const StreamHead& head);

  // Number of staged puts; a batch with none is committed as a no-op.
  std::size_t count() const;
  bool empty() const { return count() == 0; }

  struct Impl;  // defined privately in collector/store/

 private:
  friend class Store;
  explicit StoreWriteBatch(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace blackbox::collector
