// Window time: the time a stored record is indexed and windowed by (DESIGN.md "Time",
// PROTOCOL.md §3). A record carries two times: the event time it claims (parsed from its line)
// and the time the agent read it. A line's own timestamp is evidence and is always shown, but
// it may lie (a 1970 date, a clock years ahead): when the event time is further than `skew_ns`
// from the read time, the record is *time skewed* and is indexed, windowed (--since, --last)
// and ordered by its read time instead. skew_ns <= 0 turns the rule off; a record without a
// read time (read_ns <= 0: a third-party agent that does not fill it) keeps its event time.
// Retention never uses either: it runs by the time the collector stored a batch.
#pragma once

#include <cstdint>

namespace blackbox::collector {

inline bool time_skewed(std::int64_t event_ns, std::int64_t read_ns, std::int64_t skew_ns) {
  if (skew_ns <= 0 || read_ns <= 0) return false;
  // |event - read| > skew without overflow: the difference is taken in unsigned 64 bits.
  const auto e = static_cast<std::uint64_t>(event_ns), r = static_cast<std::uint64_t>(read_ns);
  const std::uint64_t diff = event_ns >= read_ns ? e - r : r - e;
  return diff > static_cast<std::uint64_t>(skew_ns);
}

inline std::int64_t window_time(std::int64_t event_ns, std::int64_t read_ns, std::int64_t skew_ns) {
  return time_skewed(event_ns, read_ns, skew_ns) ? read_ns : event_ns;
}

// The default skew (collector config storage.time_skew): one day.
inline constexpr std::int64_t kDefaultTimeSkewNs = 86'400'000'000'000;

}  // namespace blackbox::collector
