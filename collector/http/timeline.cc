#include "collector/http/timeline.h"

#include <map>

#include "collector/http/api_json.h"
#include "schemas/batch.h"
#include "schemas/record_json.h"
#include "schemas/time_text.h"
#include "schemas/zstd_codec.h"

namespace blackbox::collector::http {

Result<nlohmann::json> build_timeline(const Store& store, const TimelineRequest& req,
                                      const Limits& limits, const PageLimits& page_limits,
                                      const Clock& clock) {
  using nlohmann::json;
  const std::int64_t deadline = clock.steady_ns() + page_limits.budget.count();
  auto info = store.get_instance(req.instance);
  if (!info) return info.error();
  auto events = store.lifecycle_events(req.instance);
  if (!events) return events.error();
  auto gaps = store.gaps(req.instance);
  if (!gaps) return gaps.error();

  json doc = json::object();
  doc["instance"] = instance_json(*info);
  doc["events"] = json::array();
  for (const auto& e : *events) doc["events"].push_back(lifecycle_event_json(req.instance, e));
  doc["gaps"] = json::array();
  for (const auto& g : *gaps) doc["gaps"].push_back(gap_json(g));

  struct Bucket {
    std::uint64_t count = 0;
    int worst = 7;
  };
  std::map<std::int64_t, Bucket> buckets;
  json gap_records = json::array();
  bool partial = false;
  ZstdDecompressor zstd;
  std::string scratch;
  Result<void> batch_error;
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
      partial = true;
      return false;
    }
    auto h = decode_batch(b.bytes, limits, zstd, scratch, [&](const RecordView& r) {
      if (r.kind == RecordKind::kGap && gap_records.size() < kMaxTimelineGapRecords)
        gap_records.push_back(record_to_json(req.instance, b.index.stream, r));
      const int p = static_cast<int>(r.severity);
      if (r.severity == Severity::kUnknown || p > req.max_priority) return;
      std::int64_t key = r.event_time_ns / req.bucket_ns;
      if (r.event_time_ns < 0 && r.event_time_ns % req.bucket_ns != 0) --key;
      if (buckets.size() >= kMaxTimelineBuckets && !buckets.contains(key)) {
        partial = true;
        return;
      }
      Bucket& bucket = buckets[key];
      ++bucket.count;
      bucket.worst = std::min(bucket.worst, p);
    });
    if (!h) {
      batch_error = h.error();
      return false;
    }
    return true;
  };
  if (auto ok = store.scan_batches(q, want, visit); !ok) return ok.error();
  if (!batch_error) return batch_error.error();

  json bursts = json::array();
  for (const auto& [key, b] : buckets) {
    const std::int64_t t = key * req.bucket_ns;
    bursts.push_back({{"time", format_rfc3339_ns(t)},
                      {"time_ns", t},
                      {"count", b.count},
                      {"worst", severity_name(static_cast<Severity>(b.worst))}});
  }
  doc["bursts"] = std::move(bursts);
  doc["bucket_ns"] = req.bucket_ns;
  doc["gap_records"] = std::move(gap_records);
  json records = {{"count", info->records}};
  if (info->records > 0 && info->min_event_ns <= info->max_event_ns) {
    records["first"] = format_rfc3339_ns(info->min_event_ns);
    records["first_ns"] = info->min_event_ns;
    records["last"] = format_rfc3339_ns(info->max_event_ns);
    records["last_ns"] = info->max_event_ns;
  }
  doc["records"] = std::move(records);
  doc["partial"] = partial;
  return doc;
}

}  // namespace blackbox::collector::http
