#include "schemas/time_text.h"

#include <date/date.h>

#include <chrono>
#include <cstdio>
#include <sstream>

namespace blackbox {

std::string format_rfc3339_ns(std::int64_t ns) {
  using namespace std::chrono;
  const sys_time<nanoseconds> tp{nanoseconds(ns)};
  const auto day = floor<days>(tp);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<nanoseconds> hms{tp - day};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%09lldZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<long long>(hms.subseconds().count()));
  return buf;
}

Result<std::int64_t> parse_rfc3339_ns(std::string_view text) {
  // Normalise the two spellings date::parse cannot take directly: a space or 't' between date
  // and time, and a 'Z' zone.
  if (text.size() < 20 || text.size() > 64) return Err(Errc::kInvalidArgument);
  std::string s(text);
  if (s[10] == ' ' || s[10] == 't') s[10] = 'T';
  if (s.back() == 'Z' || s.back() == 'z') {
    s.pop_back();
    s += "+00:00";
  }
  for (const char* fmt : {"%FT%T%Ez", "%FT%T%z"}) {
    std::istringstream in(s);
    date::sys_time<std::chrono::nanoseconds> tp;
    in >> date::parse(fmt, tp);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof())
      return static_cast<std::int64_t>(tp.time_since_epoch().count());
  }
  return Err(Errc::kInvalidArgument);
}

}  // namespace blackbox
