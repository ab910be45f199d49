#include "collector/store/store_write_batch.h"

#include <algorithm>

#include "collector/store/codec.h"
#include "collector/store/keys.h"
#include "collector/store/store_internals.h"

namespace blackbox::collector {

using keys::Cf;

namespace {

rocksdb::Slice sl(std::string_view s) { return {s.data(), s.size()}; }

void put(StoreWriteBatch::Impl& b, Cf cf, std::string_view key, std::string_view value) {
  if (!b.status.ok()) return;  // the first error is the one commit() reports
  b.status = b.wb.Put(b.in->cf(cf), sl(key), sl(value));
}

}  // namespace

StoreWriteBatch::StoreWriteBatch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StoreWriteBatch::StoreWriteBatch(StoreWriteBatch&&) noexcept = default;
StoreWriteBatch& StoreWriteBatch::operator=(StoreWriteBatch&&) noexcept = default;
StoreWriteBatch::~StoreWriteBatch() = default;

std::size_t StoreWriteBatch::count() const { return impl_->wb.Count(); }

void StoreWriteBatch::put_batch(BatchIndexEntry& e, std::string_view bytes) {
  Impl& b = *impl_;
  e.ingest_seq = b.in->assigned_ingest_seq.fetch_add(1) + 1;
  b.max_ingest_seq = std::max(b.max_ingest_seq, e.ingest_seq);
  b.max_span = std::max(b.max_span, e.time_span_ns());
  {
    // The batch and its stored-time trailer as two parts: the batch is not copied again.
    const std::string key = keys::batch_key(e.instance, e.stream, e.first_seq);
    const std::string trailer = codec::stored_batch_trailer(e.ingest_time_ns);
    const rocksdb::Slice key_part = sl(key);
    const rocksdb::Slice value_parts[2] = {sl(bytes), sl(trailer)};
    if (b.status.ok())
      b.status = b.wb.Put(b.in->cf(Cf::kBatches), rocksdb::SliceParts(&key_part, 1),
                          rocksdb::SliceParts(value_parts, 2));
  }
  std::string v;
  codec::encode_index_entry(v, e, /*with_words=*/true);
  put(b, Cf::kTimeIndex, keys::time_index_key(e.instance, e.min_time_ns, e.stream, e.first_seq), v);
  v.clear();
  codec::encode_index_entry(v, e, /*with_words=*/false);
  put(b, Cf::kFleetTime, keys::fleet_time_key(e.min_time_ns, e.instance, e.stream, e.first_seq), v);
  v.clear();
  codec::encode_ingest_ref(v, e);
  put(b, Cf::kIngestLog, keys::ingest_log_key(e.ingest_seq), v);
}

void StoreWriteBatch::put_snapshot(std::string_view instance, const SnapshotRef& ref,
                                   std::int64_t stored_ns) {
  put(*impl_, Cf::kSnapshots, keys::snapshot_key(instance, ref.time_ns, ref.seq),
      codec::encode_snapshot_ref(ref.batch_first_seq, stored_ns));
}

void StoreWriteBatch::put_instance(const InstanceInfo& info) {
  put(*impl_, Cf::kInstances, info.instance, codec::encode_instance(info));
}

void StoreWriteBatch::put_lifecycle(std::string_view instance, const LifecycleEvent& event) {
  const auto counter = impl_->in->event_counter.fetch_add(1) + 1;
  put(*impl_, Cf::kLifecycle, keys::lifecycle_key(instance, event.time_ns, counter),
      codec::encode_event(event));
}

void StoreWriteBatch::put_gap(std::string_view instance, const GapRange& gap) {
  put(*impl_, Cf::kGaps, keys::gap_key(instance, gap.stream, gap.from_seq), codec::encode_gap(gap));
}

void StoreWriteBatch::delete_batch(std::string_view instance, std::uint32_t stream,
                                   std::uint64_t first_seq) {
  Impl& b = *impl_;
  if (b.status.ok())
    b.status = b.wb.Delete(b.in->cf(Cf::kBatches), keys::batch_key(instance, stream, first_seq));
}

void StoreWriteBatch::put_head(std::string_view instance, const StreamHead& head) {
  put(*impl_, Cf::kHeads, keys::head_key(instance, head.stream), codec::encode_head(head));
}

}  // namespace blackbox::collector
