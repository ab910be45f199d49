// The timeline of one instance (GET /v1/instances/{id}/timeline): its record, lifecycle events,
// gap ranges, the agent's gap records and the number of records at or above a priority per
// time bucket ("error bursts"), read through the index so that only batches holding such
// records are decompressed.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "collector/http/records_query.h"
#include "collector/store/store.h"
#include "schemas/clock.h"
#include "schemas/limits.h"
#include "schemas/result.h"

namespace blackbox::collector::http {

struct TimelineRequest {
  std::string instance;
  std::int64_t bucket_ns = 60'000'000'000;  // burst bucket width
  int max_priority = 3;                     // count records with severity 0..max_priority
};

inline constexpr std::size_t kMaxTimelineBuckets = 10'000;
inline constexpr std::size_t kMaxTimelineGapRecords = 1'000;

// {"instance":{…},"events":[…],"gaps":[…],"gap_records":[record…],
//  "bursts":[{"time","time_ns","count","worst"}],"bucket_ns":N,
//  "records":{"count":N,"first":…,"first_ns":…,"last":…,"last_ns":…},"partial":bool}
// Errors: kNotFound (unknown instance), store errors.
[[nodiscard]] Result<nlohmann::json> build_timeline(const Store& store, const TimelineRequest& req,
                                                    const Limits& limits,
                                                    const PageLimits& page_limits,
                                                    const Clock& clock);

}  // namespace blackbox::collector::http
