#include "collector/store/retention_filter.h"

#include "collector/store/codec.h"
#include "schemas/bytes.h"

namespace blackbox::collector {
namespace {

// Offset of the max event time in a batch header (schemas/batch.h).
constexpr std::size_t kBatchMaxTimeOffset = 32;

class RetentionFilter final : public rocksdb::CompactionFilter {
 public:
  RetentionFilter(keys::Cf cf, std::int64_t cutoff_ns, std::shared_ptr<const HoldSet> holds)
      : cf_(cf), cutoff_ns_(cutoff_ns), holds_(std::move(holds)) {}

  bool Filter(int /*level*/, const rocksdb::Slice& key, const rocksdb::Slice& value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    return retention_drops(cf_, std::string_view(key.data(), key.size()),
                           std::string_view(value.data(), value.size()), cutoff_ns_, *holds_);
  }
  const char* Name() const override { return "blackbox.RetentionFilter"; }

 private:
  keys::Cf cf_;
  std::int64_t cutoff_ns_;
  std::shared_ptr<const HoldSet> holds_;
};

}  // namespace

bool retention_drops(keys::Cf cf, std::string_view key, std::string_view value,
                     std::int64_t cutoff_ns, const HoldSet& holds) {
  std::string_view instance;
  // The time retention counts from: when the collector stored the batch (codec.h). Only a
  // value written before the stored time was kept falls back to the event time it claims.
  std::int64_t time = 0;
  switch (cf) {
    case keys::Cf::kBatches: {
      auto inst = keys::key_instance(key);
      if (!inst || value.size() < kBatchMaxTimeOffset + 8) return false;
      instance = *inst;
      if (!codec::stored_batch_time(value, time))
        time = bytes::load_le<std::int64_t>(value.data() + kBatchMaxTimeOffset);
      break;
    }
    case keys::Cf::kTimeIndex:
    case keys::Cf::kFleetTime:
    case keys::Cf::kIngestLog: {
      codec::RetentionFields f;
      const bool ok = cf == keys::Cf::kIngestLog ? codec::peek_ingest_retention(value, f)
                                                 : codec::peek_index_retention(value, f);
      if (!ok) return false;
      instance = f.instance;
      time = f.stored_ns != 0 ? f.stored_ns : f.max_time_ns;
      break;
    }
    case keys::Cf::kSnapshots: {
      auto inst = keys::key_instance(key);
      auto rest = keys::after_instance(key);
      if (!inst || !rest || rest->size() < 8) return false;
      instance = *inst;
      if (!codec::snapshot_stored_time(value, time))
        time = keys::unflip_time(bytes::load_be<std::uint64_t>(rest->data()));
      break;
    }
    default:
      return false;  // everything else is kept forever
  }
  // Unparseable entries are kept: retention must never be the thing that loses evidence.
  if (time >= cutoff_ns) return false;
  return !holds.contains(instance);
}

std::unique_ptr<rocksdb::CompactionFilter> RetentionFilterFactory::CreateCompactionFilter(
    const rocksdb::CompactionFilter::Context& /*context*/) {
  if (retention_ns_ <= 0) return nullptr;
  const std::int64_t now = clock_->wall_ns();
  return std::make_unique<RetentionFilter>(cf_, now - retention_ns_, holds_);
}

}  // namespace blackbox::collector
