// The RocksDB handles and writer state behind Store. Private to collector/store/: everything
// else reads through store.h and writes through store_write_batch.h.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "collector/store/keys.h"
#include "collector/store/store.h"
#include "collector/store/store_write_batch.h"

namespace blackbox::collector {

// Legal holds shared by the store and its compaction filters (which run on RocksDB threads).
class HoldSet {
 public:
  bool contains(std::string_view instance) const;
  void set(const std::string& instance, bool on);
  std::vector<std::string> list() const;

 private:
  mutable std::mutex mu_;
  std::set<std::string, std::less<>> holds_;
};

class StoreInternals {
 public:
  ~StoreInternals();

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(keys::Cf c) const { return handles_[static_cast<int>(c)]; }

  std::string path;
  // The Env over StoreOptions::file_system (null: RocksDB's default); outlives db_.
  std::unique_ptr<rocksdb::Env> env;
  std::shared_ptr<HoldSet> holds = std::make_shared<HoldSet>();
  std::shared_ptr<const Clock> clock_owner;  // set when the store made its own SystemClock
  const Clock* clock = nullptr;
  // Highest ingest_seq committed; written by Store::commit() through publish_ingest_seq(),
  // which also wakes Store::wait_for_ingest().
  std::atomic<std::uint64_t> last_ingest_seq{0};
  void publish_ingest_seq(std::uint64_t seq);
  std::mutex ingest_mu;
  std::condition_variable ingest_cv;

  // Writer state (StoreWriteBatch staging, Store::commit()).
  std::atomic<std::uint64_t> assigned_ingest_seq{0};  // last ingest_seq handed to put_batch()
  std::atomic<std::uint64_t> event_counter{0};        // lifecycle key tie-breaker
  std::mutex commit_mu;                               // serialises commit() (fleet span)
  std::int64_t fleet_max_span = 0;                    // as stored in meta; under commit_mu

  // Health: opened read-only (disk full at start); the last retryable commit error (kOk once a
  // commit succeeds) and its RocksDB status, under health_mu.
  bool read_only = false;
  // StoreOptions::reserve_free_bytes resolved: commit() refuses and resume() waits below it.
  std::uint64_t resume_free_bytes = 0;
  mutable std::mutex health_mu;
  Errc write_error = Errc::kOk;
  std::string write_error_text;
  // True when the error changed (the first failure of an episode, or its end).
  bool set_write_error(Errc e, std::string text);

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// What a StoreWriteBatch stages: the encoded puts, and what commit() must publish or widen.
struct StoreWriteBatch::Impl {
  StoreInternals* in = nullptr;
  rocksdb::WriteBatch wb;
  rocksdb::Status status;            // first failed put; commit() returns it and writes nothing
  std::uint64_t max_ingest_seq = 0;  // highest ingest_seq staged (0: no batch)
  std::int64_t max_span = 0;         // widest batch time span staged
};

// Turns a RocksDB status into our Errc (and logs it). kOk when st.ok(). NoSpace is kDiskFull;
// Busy, TryAgain, Incomplete and an out-of-file-descriptors IOError (EMFILE/ENFILE: RocksDB
// keeps no errno, only the strerror text) are kBusy: retryable.
Errc status_errc(const rocksdb::Status& st, std::string_view what);
// The same without the log line.
Errc status_code(const rocksdb::Status& st);

// An iterator over [lower, upper) of one column family at one snapshot. The bounds live here
// because RocksDB keeps pointers to them.
class RangeIter {
 public:
  RangeIter(const StoreInternals& in, keys::Cf cf, std::string lower, std::string upper,
            const rocksdb::Snapshot* snap = nullptr)
      : lower_(std::move(lower)), upper_(std::move(upper)), lo_(lower_), hi_(upper_) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap;
    ro.iterate_lower_bound = &lo_;
    if (!upper_.empty()) ro.iterate_upper_bound = &hi_;
    it_.reset(in.db()->NewIterator(ro, in.cf(cf)));
    it_->Seek(lo_);
  }
  rocksdb::Iterator* operator->() { return it_.get(); }
  Errc status(std::string_view what) const { return status_errc(it_->status(), what); }

 private:
  std::string lower_, upper_;
  rocksdb::Slice lo_, hi_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace blackbox::collector
