#include "collector/query/timeline.h"

#include <algorithm>
#include <map>

#include "schemas/batch.h"
#include "schemas/zstd_codec.h"

namespace blackbox::collector::query {

Result<Timeline> build_timeline(const Store& store, const TimelineRequest& req,
                                const Limits& limits, const PageLimits& page_limits,
                                const Clock& clock) {
  const std::int64_t deadline = clock.steady_ns() + page_limits.budget.count();
  Timeline out;
  out.bucket_ns = req.bucket_ns;
  auto info = store.get_instance(req.instance);
  if (!info) return info.error();
  out.instance = std::move(*info);
  auto events = store.lifecycle_events(req.instance);
  if (!events) return events.error();
  out.events = std::move(*events);
  auto gaps = store.gaps(req.instance);
  if (!gaps) return gaps.error();
  out.gaps = std::move(*gaps);

  struct Bucket {
    std::uint64_t count = 0;
    int worst = 7;
  };
  std::map<std::int64_t, Bucket> buckets;
  ZstdDecompressor zstd;
  std::string scratch;
  BatchQuery q;
  q.instance = req.instance;
  auto want = [&](const BatchIndexEntry& e) {
    if (e.has_kind(RecordKind::kGap)) return true;
    for (int p = 0; p <= req.max_priority; ++p)
      if (e.severity_counts[p] > 0) return true;
    return false;
  };
  auto visit = [&](const StoredBatch& b) {
    if (clock.steady_ns() > deadline) {
      out.partial = true;
      return false;
    }
    auto h = decode_batch(b.bytes, limits, zstd, scratch, [&](const RecordView& r) {
      if (r.kind == RecordKind::kGap && out.gap_records.size() < kMaxTimelineGapRecords)
        out.gap_records.push_back(QueryRecord::from(req.instance, b.index.stream, r));
      const int p = static_cast<int>(r.severity);
      if (r.severity == Severity::kUnknown || p > req.max_priority) return;
      std::int64_t key = r.event_time_ns / req.bucket_ns;
      if (r.event_time_ns < 0 && r.event_time_ns % req.bucket_ns != 0) --key;
      if (buckets.size() >= kMaxTimelineBuckets && !buckets.contains(key)) {
        out.partial = true;
        return;
      }
      Bucket& bucket = buckets[key];
      ++bucket.count;
      bucket.worst = std::min(bucket.worst, p);
    });
    if (!h) note_unreadable(out.unreadable, undecodable(b.index, h.error()));
    return true;
  };
  auto unreadable = [&](const UnreadableBatch& u) { note_unreadable(out.unreadable, u); };
  if (auto ok = store.scan_batches(q, want, visit, unreadable); !ok) return ok.error();
  for (const auto& [key, b] : buckets)
    out.bursts.push_back(Burst{key * req.bucket_ns, b.count, static_cast<Severity>(b.worst)});
  return out;
}

}  // namespace blackbox::collector::query
