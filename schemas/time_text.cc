#include "schemas/time_text.h"

#include <date/date.h>

#include <chrono>
#include <cstdio>
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

namespace {

// Reads exactly `n` decimal digits at `pos` (advancing it); false if any is missing.
bool fixed_digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

}  // namespace

// A strict reader of its own rather than date::parse: date.h's %T and %z have read
// uninitialised or overflowing values on malformed text three times (each found by
// tests/fuzz/http_query_fuzz, the last with "…T06:35:02-1S…"); date.h still does the calendar.
Result<std::int64_t> parse_rfc3339_ns(std::string_view s) {
  constexpr std::int64_t kSec = 1'000'000'000;
  if (s.size() < 20 || s.size() > 64) return Err(Errc::kInvalidArgument);
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  auto expect = [&](char c) { return pos < s.size() && s[pos] == c ? (++pos, true) : false; };
  if (!fixed_digits(s, pos, 4, y) || !expect('-') || !fixed_digits(s, pos, 2, mo) ||
      !expect('-') || !fixed_digits(s, pos, 2, d))
    return Err(Errc::kInvalidArgument);
  if (!(expect('T') || expect('t') || expect(' '))) return Err(Errc::kInvalidArgument);
  if (!fixed_digits(s, pos, 2, h) || !expect(':') || !fixed_digits(s, pos, 2, mi) ||
      !expect(':') || !fixed_digits(s, pos, 2, sec))
    return Err(Errc::kInvalidArgument);
  std::int64_t frac = 0;
  if (expect('.')) {
    std::size_t n = 0;
    for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, ++n) {
      if (n >= 9) return Err(Errc::kInvalidArgument);
      frac = frac * 10 + (s[pos] - '0');
    }
    if (n == 0) return Err(Errc::kInvalidArgument);
    for (; n < 9; ++n) frac *= 10;
  }
  int offset_min = 0;
  if (expect('Z') || expect('z')) {
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos++] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!fixed_digits(s, pos, 2, oh)) return Err(Errc::kInvalidArgument);
    if (pos < s.size()) {
      expect(':');  // "+HH:MM" or "+HHMM"
      if (!fixed_digits(s, pos, 2, om)) return Err(Errc::kInvalidArgument);
    }
    if (oh > 23 || om > 59) return Err(Errc::kInvalidArgument);
    offset_min = sign * (oh * 60 + om);
  } else {
    return Err(Errc::kInvalidArgument);  // no zone
  }
  if (pos != s.size() || h > 23 || mi > 59 || sec > 59) return Err(Errc::kInvalidArgument);
  const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                                 date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || y < 1678 || y > 2261) return Err(Errc::kInvalidArgument);
  const std::int64_t days = date::sys_days{ymd}.time_since_epoch().count();
  const std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(secs, kSec, &ns) || __builtin_add_overflow(ns, frac, &ns))
    return Err(Errc::kInvalidArgument);
  return ns;
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
