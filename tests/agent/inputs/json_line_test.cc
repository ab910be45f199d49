#include "agent/inputs/json_line.h"

#include <gtest/gtest.h>

namespace blackbox::agent {
namespace {

// simdjson may read past a line's end: keep the line inside a padded buffer.
struct Padded {
  explicit Padded(std::string s)
      : buf(s + std::string(JsonLineParser::kPadding, '\0')), line(buf.data(), s.size()) {}
  std::string buf;
  std::string_view line;
};

TEST(JsonLine, RecognisesTimeSeverityAndKeepsTheOtherFieldsAsRawJson) {
  JsonLineParser parser;
  Padded p(R"({"time":"2024-05-01T12:00:00.5Z","level":"error","msg":"boom \"x\"",)"
           R"("n":5,"tags":["a","b"],"ctx":{"k":1},"ok":true,"nil":null})");
  RecordData r;
  ASSERT_TRUE(parser.parse(p.line, r));
  EXPECT_EQ(r.event_time_ns, 1714564800'500'000'000);
  EXPECT_EQ(r.severity, Severity::kErr);
  EXPECT_TRUE(r.flags & record_flags::kJson);
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& f : r.fields) fields.emplace_back(f.key, f.value);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"msg", R"("boom \"x\"")"}, {"n", "5"},     {"tags", R"(["a","b"])"},
      {"ctx", R"({"k":1})"},      {"ok", "true"}, {"nil", "null"}};
  EXPECT_EQ(fields, want);
}

TEST(JsonLine, EpochNumbersAndNumericLevels) {
  JsonLineParser parser;
  Padded s(R"({"ts":1714564800.25,"severity":4})");
  RecordData r;
  ASSERT_TRUE(parser.parse(s.line, r));
  EXPECT_EQ(r.event_time_ns, 1714564800'250'000'000);
  EXPECT_EQ(r.severity, Severity::kWarning);
  Padded ms(R"({"@timestamp":1714564800123,"level":50})");
  RecordData r2;
  ASSERT_TRUE(parser.parse(ms.line, r2));
  EXPECT_EQ(r2.event_time_ns, 1714564800'123'000'000);
  EXPECT_EQ(r2.severity, Severity::kErr);
}

TEST(JsonLine, LeavesNonObjectsAndBrokenJsonAlone) {
  JsonLineParser parser;
  for (std::string text : {"plain text", "[1,2]", "{\"a\":", "{not json}", "{}x", ""}) {
    Padded p(text);
    RecordData r;
    r.event_time_ns = 7;
    EXPECT_FALSE(parser.parse(p.line, r)) << text;
    EXPECT_EQ(r.event_time_ns, 7);
    EXPECT_EQ(r.flags, 0);
  }
}

TEST(JsonLine, ParsesRfc3339) {
  EXPECT_EQ(parse_rfc3339_ns("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339_ns("2024-05-01 12:00:00"), 1714564800'000'000'000);
  EXPECT_EQ(parse_rfc3339_ns("2024-05-01T14:00:00+02:00"), 1714564800'000'000'000);
  EXPECT_EQ(parse_rfc3339_ns("2024-05-01T12:00:00.000000001Z"), 1714564800'000'000'001);
  EXPECT_FALSE(parse_rfc3339_ns("2024-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339_ns("2024-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339_ns("yesterday"));
  EXPECT_FALSE(parse_rfc3339_ns("2024-05-01T12:00:00Zjunk"));
}

}  // namespace
}  // namespace blackbox::agent
