// RFC 3339 timestamps as the API and the JSON shapes write them (DESIGN.md "Query"): UTC with
// nanoseconds, "2026-11-26T06:35:14.123456789Z". Shared by the collector's HTTP API, the
// `blackbox` CLI and the Kafka export so that all of them print the same instant the same way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "schemas/result.h"

namespace blackbox {

// Formats `ns` (since the Unix epoch, may be negative) as RFC 3339 UTC with exactly nine
// fractional digits and a 'Z'.
std::string format_rfc3339_ns(std::int64_t ns);

// Parses an RFC 3339 / ISO 8601 timestamp with a date, a time, an optional fraction (up to
// nine digits) and a zone: 'Z', "+HH:MM", "+HHMM" or "+HH". 'T', 't' or one space separates
// date and time. Returns ns since the epoch; kInvalidArgument for anything else (including a
// missing zone: a bare local time needs a time zone, which is the caller's business).
[[nodiscard]] Result<std::int64_t> parse_rfc3339_ns(std::string_view text);

// Parses a duration: one or more <number><unit> terms ("10m", "1h30m", "1.5h", "90s",
// "250ms"), units ns, us, ms, s, m, h, d, w (also sec/second(s), min/minute(s), hour(s),
// day(s), week(s)), optionally separated by spaces. A bare number means seconds.
// kInvalidArgument when malformed, negative or over ~292 years.
[[nodiscard]] Result<std::int64_t> parse_duration_ns(std::string_view text);

// True when `clock` (the text after a date, or a bare time of day) starts "H:M:<digit>", the
// only text date::parse may be given to read with %T: date.h converts %T's seconds even when
// its read stopped before them, from an uninitialised long double (undefined behaviour, found
// by tests/fuzz/http_query_fuzz). Any other text fails %T anyway.
bool clock_has_seconds(std::string_view clock);
// True when `date` starts with a year ([+-] and 1 to 4 digits, as date::parse's %F reads it) in
// 1678..2261, the years int64 ns since the epoch can hold: date.h's conversion of other days to
// ns overflows (undefined behaviour, found by tests/fuzz/http_query_fuzz).
bool year_fits_ns(std::string_view date);

// "10m", "1h30m", "2d3h", "1.5s", "250ms", "0s": the shortest form parse_duration_ns() reads.
std::string format_duration(std::int64_t ns);

}  // namespace blackbox
