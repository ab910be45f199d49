// Times as the CLI shows them to a person: "2026-11-26 06:35:14.123456" in the local time zone,
// or "2026-11-26 06:35:14.123456Z" in UTC (--utc). Machine formats (-o json/ndjson/csv) use
// RFC 3339 UTC from the API instead.
#pragma once

#include <cstdint>
#include <string>

namespace blackbox::query {

enum class TimePrecision { kSeconds, kMillis, kMicros };

std::string display_time(std::int64_t ns, bool utc,
                         TimePrecision precision = TimePrecision::kMicros);

}  // namespace blackbox::query
