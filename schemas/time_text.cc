// date::parse reads %S into a long double that GCC 12 at -O2 says may be used uninitialised
// (inside date.h/chrono.h): it is, when the read stops before the seconds; clock_has_seconds()
// keeps such text away from %T. Silenced for this file only, before any include, since the
// warning is reported at a location in <chrono>.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "schemas/time_text.h"

#include <date/date.h>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <utility>

namespace blackbox {

std::string format_rfc3339_ns(std::int64_t ns) {
  using namespace std::chrono;
  // Floor division by hand: chrono's floor<days> overflows for times near INT64_MIN, and an
  // agent chooses event times.
  constexpr std::int64_t kDayNs = 86'400'000'000'000;
  std::int64_t day = ns / kDayNs;
  std::int64_t rem = ns % kDayNs;
  if (rem < 0) {
    rem += kDayNs;
    --day;
  }
  const date::year_month_day ymd{date::sys_days{date::days{day}}};
  const date::hh_mm_ss<nanoseconds> hms{nanoseconds(rem)};
  char buf[96];
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
  if (const auto t = s.find('T');
      t == std::string::npos || !clock_has_seconds(s.substr(t + 1)) || !year_fits_ns(s))
    return Err(Errc::kInvalidArgument);
  for (const char* fmt : {"%FT%T%Ez", "%FT%T%z"}) {
    std::istringstream in(s);
    date::sys_time<std::chrono::nanoseconds> tp;
    in >> date::parse(fmt, tp);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof())
      return static_cast<std::int64_t>(tp.time_since_epoch().count());
  }
  return Err(Errc::kInvalidArgument);
}

bool clock_has_seconds(std::string_view t) {
  auto number_then_colon = [&t] {
    std::size_t n = 0;
    while (n < 2 && n < t.size() && t[n] >= '0' && t[n] <= '9') ++n;
    if (n == 0 || n >= t.size() || t[n] != ':') return false;
    t.remove_prefix(n + 1);
    return true;
  };
  return number_then_colon() && number_then_colon() && !t.empty() && t[0] >= '0' && t[0] <= '9';
}

bool year_fits_ns(std::string_view date) {
  std::size_t i = !date.empty() && (date[0] == '+' || date[0] == '-') ? 1 : 0;
  const bool negative = i == 1 && date[0] == '-';
  int year = 0;
  std::size_t digits = 0;
  for (; digits < 4 && i < date.size() && date[i] >= '0' && date[i] <= '9'; ++i, ++digits)
    year = year * 10 + (date[i] - '0');
  return digits > 0 && !negative && year >= 1678 && year <= 2261;
}

namespace {

struct Unit {
  std::string_view name;
  std::int64_t ns;
};
constexpr std::int64_t kSecond = 1'000'000'000;
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"ms", 1'000'000},
    {"s", kSecond},
    {"sec", kSecond},
    {"secs", kSecond},
    {"second", kSecond},
    {"seconds", kSecond},
    {"m", 60 * kSecond},
    {"min", 60 * kSecond},
    {"mins", 60 * kSecond},
    {"minute", 60 * kSecond},
    {"minutes", 60 * kSecond},
    {"h", 3600 * kSecond},
    {"hr", 3600 * kSecond},
    {"hour", 3600 * kSecond},
    {"hours", 3600 * kSecond},
    {"d", 86400 * kSecond},
    {"day", 86400 * kSecond},
    {"days", 86400 * kSecond},
    {"w", 604800 * kSecond},
    {"week", 604800 * kSecond},
    {"weeks", 604800 * kSecond},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

Result<std::int64_t> parse_duration_ns(std::string_view text) {
  constexpr long double kMax = 9.2e18L;
  long double total = 0;
  std::size_t i = 0, terms = 0;
  auto skip_spaces = [&] {
    while (i < text.size() && text[i] == ' ') ++i;
  };
  skip_spaces();
  while (i < text.size()) {
    // <digits>[.<digits>]
    const std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    long double value = 0;
    for (std::size_t k = start; k < i; ++k) value = value * 10 + (text[k] - '0');
    bool digits = i > start;
    if (i < text.size() && text[i] == '.') {
      ++i;
      long double scale = 0.1L;
      const std::size_t frac = i;
      while (i < text.size() && is_digit(text[i])) {
        value += scale * (text[i] - '0');
        scale /= 10;
        ++i;
      }
      digits = digits || i > frac;
    }
    if (!digits || i - start > 24) return Err(Errc::kInvalidArgument);
    skip_spaces();
    const std::size_t unit_start = i;
    while (i < text.size() && is_alpha(text[i])) ++i;
    std::string unit(text.substr(unit_start, i - unit_start));
    for (char& c : unit) c = static_cast<char>(c | 0x20);
    std::int64_t unit_ns = 0;
    if (unit.empty()) {
      if (terms > 0 || i != text.size()) return Err(Errc::kInvalidArgument);
      unit_ns = kSecond;  // a bare number is seconds
    }
    for (const Unit& u : kUnits)
      if (u.name == unit) unit_ns = u.ns;
    if (unit_ns == 0) return Err(Errc::kInvalidArgument);
    total += value * static_cast<long double>(unit_ns);
    if (total > kMax) return Err(Errc::kInvalidArgument);
    ++terms;
    skip_spaces();
  }
  if (terms == 0) return Err(Errc::kInvalidArgument);
  return static_cast<std::int64_t>(total + 0.5L);
}

std::string format_duration(std::int64_t ns) {
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out = "-";
    ns = -ns;
  }
  if (ns < kSecond) {
    if (ns % 1'000'000 == 0) return out + std::to_string(ns / 1'000'000) + "ms";
    if (ns % 1'000 == 0) return out + std::to_string(ns / 1'000) + "us";
    return out + std::to_string(ns) + "ns";
  }
  constexpr std::pair<std::int64_t, const char*> kParts[] = {
      {86400 * kSecond, "d"}, {3600 * kSecond, "h"}, {60 * kSecond, "m"}};
  for (const auto& [unit, name] : kParts) {
    if (ns >= unit) {
      out += std::to_string(ns / unit) + name;
      ns %= unit;
    }
  }
  if (ns > 0) {
    out += std::to_string(ns / kSecond);
    if (const std::int64_t frac = ns % kSecond; frac != 0) {
      char buf[16];
      std::snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(frac));
      std::string f(buf);
      while (f.back() == '0') f.pop_back();
      out += f;
    }
    out += "s";
  }
  return out;
}

}  // namespace blackbox
