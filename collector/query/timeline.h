// The timeline of one instance (the API's /v1/instances/{id}/timeline): its record, lifecycle
// events, gap ranges, the agent's gap records and the number of records at or above a
// priority per time bucket ("error bursts"), read through the index so that only batches
// holding such records are decompressed. A typed result; collector/http encodes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "collector/query/records_page.h"
#include "collector/store/store.h"
#include "schemas/clock.h"
#include "schemas/limits.h"
#include "schemas/result.h"

namespace blackbox::collector::query {

struct TimelineRequest {
  std::string instance;
  std::int64_t bucket_ns = 60'000'000'000;  // burst bucket width
  int max_priority = 3;                     // count records with severity 0..max_priority
};

inline constexpr std::size_t kMaxTimelineBuckets = 10'000;
inline constexpr std::size_t kMaxTimelineGapRecords = 1'000;

// Records with severity 0..max_priority in [time_ns, time_ns + bucket_ns).
struct Burst {
  std::int64_t time_ns = 0;
  std::uint64_t count = 0;
  Severity worst = Severity::kDebug;  // the most severe of them
};

struct Timeline {
  InstanceInfo instance;
  std::vector<LifecycleEvent> events;
  std::vector<GapRange> gaps;
  std::vector<QueryRecord> gap_records;  // at most kMaxTimelineGapRecords, in scan order
  std::vector<Burst> bursts;             // by time, at most kMaxTimelineBuckets
  std::int64_t bucket_ns = 0;
  bool partial = false;                     // the time budget or the bucket cap cut the scan short
  std::vector<UnreadableBatch> unreadable;  // batches skipped: damaged or undecodable
};

// Errors: kNotFound (unknown instance), store read errors. A batch that cannot be read is
// skipped and named in Timeline::unreadable.
[[nodiscard]] Result<Timeline> build_timeline(const Store& store, const TimelineRequest& req,
                                              const Limits& limits, const PageLimits& page_limits,
                                              const Clock& clock);

}  // namespace blackbox::collector::query
