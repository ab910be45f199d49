// Store::scan_raw_batches(): the batches of one instance as `blackbox verify` reads them
// (issue 12 item 5): by key, unparsed, and past damaged blocks.
#include <rocksdb/snapshot.h>

#include <algorithm>

#include "collector/store/codec.h"
#include "collector/store/keys.h"
#include "collector/store/store.h"
#include "collector/store/store_internals.h"

namespace blackbox::collector {
namespace {

using keys::Cf;

struct IndexedKey {
  std::string key;
  std::uint32_t stream = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t end_seq = 0;
};

// The batch keys the instance's time index names, in key order: where a scan resumes after a
// damaged block (the index lives in other table files).
Result<std::vector<IndexedKey>> indexed_keys(const StoreInternals& in, std::string_view instance,
                                             const rocksdb::Snapshot* snap) {
  const std::string prefix = keys::instance_prefix(instance);
  RangeIter it(in, Cf::kTimeIndex, prefix, keys::prefix_successor(prefix), snap);
  std::vector<IndexedKey> out;
  for (; it->Valid(); it->Next()) {
    auto e = codec::decode_index_entry(std::string_view(it->value().data(), it->value().size()));
    if (!e) continue;  // an index entry that does not decode names no batch
    out.push_back({keys::batch_key(instance, e->stream, e->first_seq), e->stream, e->first_seq,
                   e->end_seq()});
  }
  if (auto e = it.status("verify: time index"); e != Errc::kOk) return Err(e);
  std::sort(out.begin(), out.end(),
            [](const IndexedKey& a, const IndexedKey& b) { return a.key < b.key; });
  return out;
}

}  // namespace

Result<void> Store::scan_raw_batches(std::string_view instance,
                                     const RawBatchVisitor& visit) const {
  rocksdb::ManagedSnapshot snap(internals_->db());
  const std::string prefix = keys::instance_prefix(instance);
  const std::string upper = keys::prefix_successor(prefix);
  std::string resume = prefix, last_key;
  std::optional<std::vector<IndexedKey>> index;  // loaded at the first damaged read
  // Each round reads from `resume` until the end or a damaged block; every round starts past
  // the previous round's keys, so the loop ends.
  while (true) {
    RangeIter it(*internals_, Cf::kBatches, resume, upper, snap.snapshot());
    for (; it->Valid(); it->Next()) {
      const std::string_view key(it->key().data(), it->key().size());
      auto k = keys::parse_batch_key(key);
      if (!k || k->instance != instance) continue;
      last_key.assign(key);
      RawStoredBatch b;
      b.stream = k->stream;
      b.key_first_seq = k->first_seq;
      b.bytes = codec::stored_batch_bytes(std::string_view(it->value().data(), it->value().size()));
      if (!visit(b)) return {};
    }
    const rocksdb::Status st = it->status();
    if (st.ok()) return {};
    if (!st.IsCorruption()) return Err(status_errc(st, "verify: scan batches"));
    if (!index) {
      auto loaded = indexed_keys(*internals_, instance, snap.snapshot());
      if (!loaded) return loaded.error();
      index = std::move(*loaded);
    }
    auto next =
        std::upper_bound(index->begin(), index->end(), last_key,
                         [](const std::string& k, const IndexedKey& e) { return k < e.key; });
    bool resumed = false;
    for (; next != index->end(); ++next) {
      rocksdb::ReadOptions ro;
      ro.snapshot = snap.snapshot();
      std::string v;
      const auto got = internals_->db()->Get(ro, internals_->cf(Cf::kBatches), next->key, &v);
      last_key = next->key;
      if (got.ok()) {
        resume = next->key;
        resumed = true;
        break;
      }
      if (got.IsNotFound()) continue;  // removed (retention): nothing to report here
      RawStoredBatch b;
      b.stream = next->stream;
      b.key_first_seq = next->first_seq;
      b.index_end_seq = next->end_seq;
      b.error = got.ToString();
      if (!visit(b)) return {};
    }
    if (!resumed) return {};
  }
}

}  // namespace blackbox::collector
