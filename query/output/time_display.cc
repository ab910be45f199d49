#include "query/output/time_display.h"

#include <cstdio>
#include <ctime>

namespace blackbox::query {

std::string display_time(std::int64_t ns, bool utc, TimePrecision precision) {
  constexpr std::int64_t kSecond = 1'000'000'000;
  std::int64_t secs = ns / kSecond, sub = ns % kSecond;
  if (sub < 0) {
    sub += kSecond;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (utc) {
    gmtime_r(&t, &tm);
  } else {
    localtime_r(&t, &tm);
  }
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  switch (precision) {
    case TimePrecision::kSeconds:
      break;
    case TimePrecision::kMillis:
      n += static_cast<std::size_t>(std::snprintf(buf + n, sizeof buf - n, ".%03lld",
                                                  static_cast<long long>(sub / 1'000'000)));
      break;
    case TimePrecision::kMicros:
      n += static_cast<std::size_t>(
          std::snprintf(buf + n, sizeof buf - n, ".%06lld", static_cast<long long>(sub / 1'000)));
      break;
  }
  std::string out(buf, n);
  if (utc) out += 'Z';
  return out;
}

}  // namespace blackbox::query
