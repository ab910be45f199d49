// Retention by age as a RocksDB compaction filter (README "Storage layout"): entries of the
// batch and index column families whose batch was *stored* (collector clock, codec.h) longer
// than `retention` ago are dropped during compaction, unless their instance is on legal hold.
// The event time a line claims never decides: a line dated 1970 lives as long as one dated
// today, one dated 2100 no longer (values of old stores, without a stored time, fall back to
// the batch's max event time). Runs on RocksDB's
// background threads; reads the hold set through HoldSet's own lock.
#pragma once

#include <rocksdb/compaction_filter.h>

#include <memory>

#include "collector/store/keys.h"
#include "collector/store/store_internals.h"

namespace blackbox::collector {

class RetentionFilterFactory final : public rocksdb::CompactionFilterFactory {
 public:
  RetentionFilterFactory(keys::Cf cf, std::int64_t retention_ns, const Clock* clock,
                         std::shared_ptr<const HoldSet> holds)
      : cf_(cf), retention_ns_(retention_ns), clock_(clock), holds_(std::move(holds)) {}

  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& context) override;
  const char* Name() const override { return "blackbox.RetentionFilterFactory"; }

 private:
  keys::Cf cf_;
  std::int64_t retention_ns_;
  const Clock* clock_;
  std::shared_ptr<const HoldSet> holds_;
};

// Exposed for tests: would retention drop this entry of `cf` at time cutoff_ns?
bool retention_drops(keys::Cf cf, std::string_view key, std::string_view value,
                     std::int64_t cutoff_ns, const HoldSet& holds);

}  // namespace blackbox::collector
