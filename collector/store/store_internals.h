// The RocksDB handles behind Store, for the collector's own writers (ingest, ledger) and
// tests. Not for the query server: it reads through store.h only.
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "collector/store/keys.h"
#include "collector/store/store.h"

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
  std::shared_ptr<HoldSet> holds = std::make_shared<HoldSet>();
  std::shared_ptr<const Clock> clock_owner;  // set when the store made its own SystemClock
  const Clock* clock = nullptr;
  // Highest ingest_seq committed; written by the ingest writer after each commit through
  // publish_ingest_seq(), which also wakes Store::wait_for_ingest().
  std::atomic<std::uint64_t> last_ingest_seq{0};
  void publish_ingest_seq(std::uint64_t seq);
  std::mutex ingest_mu;
  std::condition_variable ingest_cv;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// Turns a RocksDB status into our Errc (and logs it). kOk when st.ok().
Errc status_errc(const rocksdb::Status& st, std::string_view what);

}  // namespace blackbox::collector
