#include "schemas/time_text.h"

#include "tests/schemas/generators.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace blackbox {
namespace {

using testing::SeededRng;

TEST(TimeText, FormatsUtcWithNineDigits) {
  EXPECT_EQ(format_rfc3339_ns(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format_rfc3339_ns(1'795'674'914'123'456'789), "2026-11-26T06:35:14.123456789Z");
  EXPECT_EQ(format_rfc3339_ns(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(format_rfc3339_ns(951'782'400'000'000'000), "2000-02-29T00:00:00.000000000Z");
}

TEST(TimeText, FormatsTheExtremesOfInt64) {
  EXPECT_EQ(format_rfc3339_ns(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(format_rfc3339_ns(INT64_MIN), "1677-09-21T00:12:43.145224192Z");
}

TEST(TimeText, ParsesWhatItFormats) {
  SeededRng rng;
  SCOPED_TRACE(rng.trace());
  for (int i = 0; i < 2000; ++i) {
    const auto ns = static_cast<std::int64_t>(rng.range(0, 4'102'444'800'000'000'000ull)) -
                    (rng.coin() ? 1'000'000'000'000'000'000 : 0);
    const std::string text = format_rfc3339_ns(ns);
    auto back = parse_rfc3339_ns(text);
    ASSERT_TRUE(back) << text;
    ASSERT_EQ(*back, ns) << text;
  }
}

TEST(TimeText, ParsesZonesFractionsAndSeparators) {
  const std::int64_t base = 1'795'674'914'000'000'000;  // 2026-11-26T06:35:14Z
  EXPECT_EQ(*parse_rfc3339_ns("2026-11-26T06:35:14Z"), base);
  EXPECT_EQ(*parse_rfc3339_ns("2026-11-26t06:35:14z"), base);
  EXPECT_EQ(*parse_rfc3339_ns("2026-11-26 06:35:14Z"), base);
  EXPECT_EQ(*parse_rfc3339_ns("2026-11-26T06:35:14.5Z"), base + 500'000'000);
  EXPECT_EQ(*parse_rfc3339_ns("2026-11-26T06:35:14.000000001Z"), base + 1);
  EXPECT_EQ(*parse_rfc3339_ns("2026-11-26T07:35:14+01:00"), base);
  EXPECT_EQ(*parse_rfc3339_ns("2026-11-26T07:35:14+0100"), base);
  EXPECT_EQ(*parse_rfc3339_ns("2026-11-26T01:35:14-05:00"), base);
}

TEST(TimeText, RejectsWhatIsNotATimestamp) {
  for (const char* bad :
       {"", "2026-11-26", "2026-11-26T06:35:14", "yesterday", "2026-11-26T06:35:14.1234567891Z",
        "2026-13-01T00:00:00Z", "2026-11-26T06:35:14Zjunk", "2026-11-26T25:00:00Z",
        // found by http_query_fuzz: date.h read "-1" as a zone, then overflowed
        "2026-11-26T06:35:02-1SSogs", "2026-11-26T06:35:02-1S", "2026-02-30T06:35:02Z",
        "1677-12-31T23:59:59Z", "2262-04-12T00:00:00Z", "2026-11-26T06:35:02+24:00",
        "2026-11-26T06:35:02.Z", "+2026-11-26T06:35:02Z", "2026-11-26T06:35:60Z"}) {
    EXPECT_FALSE(parse_rfc3339_ns(bad)) << bad;
  }
}

TEST(Duration, ParsesUnitsAndSums) {
  EXPECT_EQ(*parse_duration_ns("10m"), 600'000'000'000);
  EXPECT_EQ(*parse_duration_ns("1h30m"), 5'400'000'000'000);
  EXPECT_EQ(*parse_duration_ns("1.5h"), 5'400'000'000'000);
  EXPECT_EQ(*parse_duration_ns("250ms"), 250'000'000);
  EXPECT_EQ(*parse_duration_ns("90"), 90'000'000'000);
  EXPECT_EQ(*parse_duration_ns("2d 3h"), (2 * 24 + 3) * 3'600'000'000'000);
  EXPECT_EQ(*parse_duration_ns("1w"), 7 * 24 * 3'600'000'000'000);
  EXPECT_EQ(*parse_duration_ns("5 minutes"), 300'000'000'000);
  for (const char* bad : {"", "-5m", "m", "5x", "1h-", "9999999999999d"})
    EXPECT_FALSE(parse_duration_ns(bad)) << bad;
}

TEST(Duration, FormatIsReadBackExactly) {
  for (std::int64_t ns : {0ll, 1ll, 250'000'000ll, 1'500'000'000ll, 600'000'000'000ll,
                          5'400'000'000'000ll, 183'600'000'000'000ll, 1'000'000'001ll}) {
    auto back = parse_duration_ns(format_duration(ns));
    ASSERT_TRUE(back) << format_duration(ns);
    EXPECT_EQ(*back, ns) << format_duration(ns);
  }
  EXPECT_EQ(format_duration(600'000'000'000), "10m");
  EXPECT_EQ(format_duration(5'400'000'000'000), "1h30m");
  EXPECT_EQ(format_duration(0), "0s");
}

TEST(TimeText, FormatsRfc3339WithNanoseconds) {
  EXPECT_EQ(format_rfc3339_ns(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format_rfc3339_ns(1'795'674'914'123'456'789), "2026-11-26T06:35:14.123456789Z");
  EXPECT_EQ(format_rfc3339_ns(-1), "1969-12-31T23:59:59.999999999Z");
}

TEST(TimeText, ParsesZonesAndFractions) {
  EXPECT_EQ(*parse_rfc3339_ns("2026-11-26T06:35:14.123456789Z"), 1'795'674'914'123'456'789);
  EXPECT_EQ(*parse_rfc3339_ns("2026-11-26T06:35:14Z"), 1'795'674'914'000'000'000);
  EXPECT_EQ(*parse_rfc3339_ns("2026-11-26 07:35:14.5+01:00"), 1'795'674'914'500'000'000);
  EXPECT_EQ(*parse_rfc3339_ns("2026-11-26t01:35:14-0500"), 1'795'674'914'000'000'000);
}

TEST(TimeText, RejectsWhatIsNotRfc3339) {
  for (const char* bad :
       {"", "2026-11-26", "2026-11-26T06:35:14", "yesterday", "2026-11-26T06:35:14.1234567890Z",
        "2026-13-26T06:35:14Z", "2026-11-26T06:35:14Zjunk"})
    EXPECT_FALSE(parse_rfc3339_ns(bad)) << bad;
}

TEST(TimeText, RoundTripsRandomInstants) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> dist(-2'000'000'000'000'000'000,
                                                   4'000'000'000'000'000'000);
  for (int i = 0; i < 2000; ++i) {
    const std::int64_t t = dist(rng);
    auto back = parse_rfc3339_ns(format_rfc3339_ns(t));
    ASSERT_TRUE(back) << format_rfc3339_ns(t);
    EXPECT_EQ(*back, t);
  }
}

TEST(TimeText, ParsesDurations) {
  constexpr std::int64_t s = 1'000'000'000;
  EXPECT_EQ(*parse_duration_ns("10m"), 600 * s);
  EXPECT_EQ(*parse_duration_ns("1h30m"), 5400 * s);
  EXPECT_EQ(*parse_duration_ns("1.5h"), 5400 * s);
  EXPECT_EQ(*parse_duration_ns("90"), 90 * s);
  EXPECT_EQ(*parse_duration_ns("250ms"), s / 4);
  EXPECT_EQ(*parse_duration_ns("2 hours"), 7200 * s);
  EXPECT_EQ(*parse_duration_ns("1d 2h"), 93600 * s);
  for (const char* bad : {"", "m", "10x", "-5m", "1h 30", "10m5", "99999999999w"})
    EXPECT_FALSE(parse_duration_ns(bad)) << bad;
}

TEST(TimeText, FormatsDurationsParseBack) {
  for (std::int64_t ns : {0LL, 1LL, 1'000LL, 250'000'000LL, 1'500'000'000LL, 600'000'000'000LL,
                          5'400'000'000'000LL, 93'600'000'000'000LL, 93'601'250'000'000LL}) {
    auto back = parse_duration_ns(format_duration(ns));
    ASSERT_TRUE(back) << format_duration(ns);
    EXPECT_EQ(*back, ns) << format_duration(ns);
  }
  EXPECT_EQ(format_duration(600'000'000'000), "10m");
  EXPECT_EQ(format_duration(5'400'000'000'000), "1h30m");
}

}  // namespace
}  // namespace blackbox
