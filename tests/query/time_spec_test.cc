#include "query/time_spec.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "schemas/time_text.h"

namespace blackbox::query {
namespace {

constexpr std::int64_t kS = 1'000'000'000;
// 2026-11-26T06:35:14.25Z
constexpr std::int64_t kNow = 1'795'674'914'250'000'000;

std::int64_t at(const char* rfc3339) { return *parse_rfc3339_ns(rfc3339); }

TEST(TimeSpec, AbsoluteForms) {
  const TimeContext utc{kNow, true};
  EXPECT_EQ(*parse_user_time("2026-11-26T06:35:14Z", utc), at("2026-11-26T06:35:14Z"));
  EXPECT_EQ(*parse_user_time("2026-11-26T07:35:14+01:00", utc), at("2026-11-26T06:35:14Z"));
  EXPECT_EQ(*parse_user_time("2026-11-26 06:35", utc), at("2026-11-26T06:35:00Z"));
  EXPECT_EQ(*parse_user_time("2026-11-26 06:35:14", utc), at("2026-11-26T06:35:14Z"));
  EXPECT_EQ(*parse_user_time("2026-11-26 06:35:14.5", utc), at("2026-11-26T06:35:14.5Z"));
  EXPECT_EQ(*parse_user_time("2026-11-26T06:35", utc), at("2026-11-26T06:35:00Z"));
  EXPECT_EQ(*parse_user_time("2026-11-26", utc), at("2026-11-26T00:00:00Z"));
  EXPECT_EQ(*parse_user_time("06:00", utc), at("2026-11-26T06:00:00Z"));
  EXPECT_EQ(*parse_user_time("@1795674914", utc), at("2026-11-26T06:35:14Z"));
  EXPECT_EQ(*parse_user_time("@1795674914.5", utc), at("2026-11-26T06:35:14.5Z"));
}

TEST(TimeSpec, RelativeForms) {
  const TimeContext utc{kNow, true};
  EXPECT_EQ(*parse_user_time("now", utc), kNow);
  EXPECT_EQ(*parse_user_time("-15m", utc), kNow - 900 * kS);
  EXPECT_EQ(*parse_user_time("+1h", utc), kNow + 3600 * kS);
  EXPECT_EQ(*parse_user_time("2h ago", utc), kNow - 7200 * kS);
  EXPECT_EQ(*parse_user_time("2 hours ago", utc), kNow - 7200 * kS);
  EXPECT_EQ(*parse_user_time("today", utc), at("2026-11-26T00:00:00Z"));
  EXPECT_EQ(*parse_user_time("yesterday", utc), at("2026-11-25T00:00:00Z"));
  EXPECT_EQ(*parse_user_time("tomorrow", utc), at("2026-11-27T00:00:00Z"));
}

TEST(TimeSpec, MalformedTimesAreErrors) {
  const TimeContext utc{kNow, true};
  for (const char* bad : {"", "garbage", "2026-11-32", "25:00", "-15x", "ago", "2h agoo", "@",
                          "@12x", "2026-11-26 06:35:14 extra", "yesterday 5"})
    EXPECT_FALSE(parse_user_time(bad, utc)) << bad;
}

TEST(TimeSpec, ZonelessTimesAreLocalUnlessUtc) {
  const char* old = std::getenv("TZ");
  const std::string saved = old ? old : "";
  ::setenv("TZ", "Europe/Berlin", 1);
  ::tzset();
  const TimeContext local{kNow, false};
  // Berlin is UTC+1 in November.
  EXPECT_EQ(*parse_user_time("2026-11-26 07:35:14", local), at("2026-11-26T06:35:14Z"));
  EXPECT_EQ(*parse_user_time("today", local), at("2026-11-25T23:00:00Z"));
  EXPECT_EQ(*parse_user_time("2026-07-01 02:00", local), at("2026-07-01T00:00:00Z"));  // DST
  EXPECT_EQ(start_of_day(kNow, false), at("2026-11-25T23:00:00Z"));
  if (old) {
    ::setenv("TZ", saved.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
}

}  // namespace
}  // namespace blackbox::query
