// Times and durations as a person types them on the command line, journalctl-style:
//   ISO 8601 / RFC 3339 with a zone       2026-11-26T06:35:14Z, 2026-11-26T07:35:14+01:00
//   local date and time                   2026-11-26 06:35, 2026-11-26 06:35:14.5,
//                                         2026-11-26T06:35:14, 2026-11-26 (midnight)
//   time of day today                     06:35, 06:35:14
//   relative to now                       -15m, +1h, 15m ago, 2 hours ago, now
//   days                                  today, yesterday, tomorrow (local midnight)
//   Unix time                             @1764138914, @1764138914.25
// "Local" means the TZ of the process, or UTC when TimeContext::utc is set (--utc).
#pragma once

#include <cstdint>
#include <string_view>

#include "schemas/result.h"

namespace blackbox::query {

struct TimeContext {
  std::int64_t now_ns = 0;  // "now" for relative times (tests pin it)
  bool utc = false;         // zone-less times are UTC instead of local time
};

// ns since the Unix epoch; kInvalidArgument with nothing else to say: the caller prints the
// accepted forms (kTimeFormsHelp).
[[nodiscard]] Result<std::int64_t> parse_user_time(std::string_view text, const TimeContext& ctx);

// Accepted forms, one line, for error messages and --help.
inline constexpr std::string_view kTimeFormsHelp =
    "accepted: 2026-11-26T06:35:14Z, '2026-11-26 06:35[:14]', 06:35, -15m, '2h ago', now, "
    "today, yesterday, @UNIX_SECONDS";

// Local midnight (or UTC midnight with ctx.utc) of the day `ns` falls in.
std::int64_t start_of_day(std::int64_t ns, bool utc);

}  // namespace blackbox::query
