// date::parse reads %S into a long double that GCC 12 at -O2 says may be used uninitialised
// (inside date.h/chrono.h): it is, when the read stops before the seconds; clock_has_seconds()
// keeps such text away from %T. Silenced for this file only, before any include, since the
// warning is reported at a location in <chrono>.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "query/time_spec.h"

#include <date/date.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <ctime>
#include <sstream>
#include <string>

#include "schemas/time_text.h"

namespace blackbox::query {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;
constexpr std::int64_t kSecondNs = 1'000'000'000;
constexpr std::int64_t kDayNs = 86400 * kSecondNs;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// A wall-clock reading (no zone) → instant, in the process's time zone or UTC.
std::int64_t local_to_ns(std::int64_t local_ns, bool utc) {
  if (utc) return local_ns;
  const std::int64_t secs = floor_div(local_ns, kSecondNs);
  const std::int64_t sub = local_ns - secs * kSecondNs;
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);  // the fields of the wall-clock reading
  tm.tm_isdst = -1;   // let mktime decide whether DST applies
  return static_cast<std::int64_t>(std::mktime(&tm)) * kSecondNs + sub;
}

// Wall-clock reading of an instant in the process's time zone (or UTC), as ns.
std::int64_t ns_to_local(std::int64_t ns, bool utc) {
  if (utc) return ns;
  const std::int64_t secs = floor_div(ns, kSecondNs);
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  localtime_r(&t, &tm);
  return ns + static_cast<std::int64_t>(tm.tm_gmtoff) * kSecondNs;
}

// Where date.h's %F stops reading `t` ([+-], 1-4 digits, '-', 1-2 digits, '-', 1-2 digits), or
// npos where it fails.
std::size_t date_end(std::string_view t) {
  std::size_t i = !t.empty() && (t[0] == '+' || t[0] == '-') ? 1 : 0;
  auto digits_then = [&](std::size_t max, char next) {
    std::size_t n = 0;
    for (; n < max && i < t.size() && t[i] >= '0' && t[i] <= '9'; ++n) ++i;
    if (n == 0 || (next && (i >= t.size() || t[i] != next))) return false;
    if (next) ++i;
    return true;
  };
  return digits_then(4, '-') && digits_then(2, '-') && digits_then(2, 0) ? i
                                                                         : std::string_view::npos;
}

// %T only on text where date.h can read the seconds (schemas/time_text.h): the clock starts
// after the date and the format's 'T' or spaces ("%F %T", "%FT%T"), or is the whole text ("%T").
bool seconds_readable(std::string_view text, std::string_view fmt) {
  if (fmt.find("%T") == std::string_view::npos) return true;
  std::string_view clock = text;
  if (fmt.starts_with("%F")) {
    const std::size_t end = date_end(text);
    if (end == std::string_view::npos) return false;
    clock = text.substr(end);
    if (fmt[2] == 'T') {
      if (!clock.starts_with('T')) return false;
      clock.remove_prefix(1);
    } else {
      while (!clock.empty() && std::isspace(static_cast<unsigned char>(clock[0])))
        clock.remove_prefix(1);
    }
  }
  return clock_has_seconds(clock);
}

bool try_parse_local(std::string_view text, const char* fmt, std::int64_t& local_ns) {
  if (!seconds_readable(text, fmt) || !year_fits_ns(text)) return false;
  std::istringstream in{std::string(text)};
  date::local_time<nanoseconds> tp;
  in >> date::parse(fmt, tp);
  if (in.fail() || in.peek() != std::char_traits<char>::eof()) return false;
  local_ns = tp.time_since_epoch().count();
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

std::int64_t start_of_day(std::int64_t ns, bool utc) {
  const std::int64_t local = ns_to_local(ns, utc);
  return local_to_ns(floor_div(local, kDayNs) * kDayNs, utc);
}

Result<std::int64_t> parse_user_time(std::string_view raw, const TimeContext& ctx) {
  const std::string_view text = trim(raw);
  if (text.empty() || text.size() > 64) return Err(Errc::kInvalidArgument);
  if (text == "now") return ctx.now_ns;
  if (text == "today") return start_of_day(ctx.now_ns, ctx.utc);
  if (text == "yesterday") return start_of_day(start_of_day(ctx.now_ns, ctx.utc) - 1, ctx.utc);
  if (text == "tomorrow")
    return start_of_day(start_of_day(ctx.now_ns, ctx.utc) + kDayNs + 3600 * kSecondNs, ctx.utc);
  if (text.front() == '@') {
    // Unix seconds, optionally with a fraction.
    std::string_view num = text.substr(1);
    const std::size_t dot = num.find('.');
    std::int64_t secs = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + std::min(dot, num.size()), secs);
    if (ec != std::errc() || p != num.data() + std::min(dot, num.size()))
      return Err(Errc::kInvalidArgument);
    std::int64_t frac = 0;
    if (dot != std::string_view::npos) {
      std::string_view f = num.substr(dot + 1);
      if (f.empty() || f.size() > 9) return Err(Errc::kInvalidArgument);
      for (char c : f) {
        if (c < '0' || c > '9') return Err(Errc::kInvalidArgument);
      }
      std::string padded(f);
      padded.resize(9, '0');
      std::from_chars(padded.data(), padded.data() + 9, frac);
    }
    if (secs > 9'000'000'000 || secs < -9'000'000'000) return Err(Errc::kInvalidArgument);
    return secs * kSecondNs + frac;
  }
  if (text.front() == '-' || text.front() == '+') {
    auto d = parse_duration_ns(text.substr(1));
    if (!d) return d.error();
    std::int64_t t;  // out of int64 ns (past 2262): an error, not a wrapped time
    if (text.front() == '-' ? __builtin_sub_overflow(ctx.now_ns, *d, &t)
                            : __builtin_add_overflow(ctx.now_ns, *d, &t))
      return Err(Errc::kInvalidArgument);
    return t;
  }
  if (text.size() > 4 && text.substr(text.size() - 4) == " ago") {
    auto d = parse_duration_ns(text.substr(0, text.size() - 4));
    if (!d) return d.error();
    std::int64_t t;
    if (__builtin_sub_overflow(ctx.now_ns, *d, &t)) return Err(Errc::kInvalidArgument);
    return t;
  }
  if (auto t = parse_rfc3339_ns(text)) return *t;
  std::int64_t local = 0;
  for (const char* fmt : {"%F %T", "%F %R", "%FT%T", "%FT%R", "%F"}) {
    if (try_parse_local(text, fmt, local)) return local_to_ns(local, ctx.utc);
  }
  for (const char* fmt : {"%T", "%R"}) {
    if (!seconds_readable(text, fmt)) continue;
    std::istringstream in{std::string(text)};
    nanoseconds tod{};
    in >> date::parse(fmt, tod);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof() && tod.count() >= 0 &&
        tod.count() < kDayNs) {
      const std::int64_t day_local = floor_div(ns_to_local(ctx.now_ns, ctx.utc), kDayNs) * kDayNs;
      return local_to_ns(day_local + tod.count(), ctx.utc);
    }
  }
  return Err(Errc::kInvalidArgument);
}

}  // namespace blackbox::query
