// Snapshot record envelopes: round trips over generated values, malformed input, the version
// rule, and snapshot_body.schema.json.
#include "schemas/snapshot_body.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/schemas/body_test_support.h"

namespace blackbox {
namespace {

using nlohmann::json;
using testing::SeededRng;

const json& schema() {
  static const json s = testing::load_schema("snapshot_body.schema.json");
  return s;
}

std::string section_name(SeededRng& rng) {
  static const char kTail[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
  std::string s(1, static_cast<char>('a' + rng.range(0, 25)));
  const std::size_t n = rng.range(0, kMaxSnapshotSectionName - 1);
  for (std::size_t i = 0; i < n; ++i) s.push_back(kTail[rng.range(0, sizeof(kTail) - 2)]);
  return s;
}

SnapshotBody random_snapshot(SeededRng& rng) {
  SnapshotBody b;
  b.kind = static_cast<SnapshotKind>(rng.range(0, 3));
  b.taken_ns = rng.edgy<std::int64_t>();
  const std::size_t n = rng.range(0, kMaxSnapshotSections);
  while (b.sections.size() < n) {
    std::string s = section_name(rng);
    if (std::find(b.sections.begin(), b.sections.end(), s) == b.sections.end())
      b.sections.push_back(std::move(s));
  }
  return b;
}

TEST(SnapshotBody, RoundTripsGeneratedEnvelopesThatMatchTheSchema) {
  // 200: the validator compiles the section name pattern once per item.
  testing::expect_round_trips(200, schema(), random_snapshot, encode_snapshot_body,
                              decode_snapshot_body);
}

TEST(SnapshotBody, EncodesASortedVersionedEnvelope) {
  SnapshotBody b{SnapshotKind::kFinal, 1'795'674'914'123'456'789, {"packages", "users"}};
  EXPECT_EQ(encode_snapshot_body(b),
            R"({"kind":"final","sections":["packages","users"],"snapshot_version":1,)"
            R"("taken_ns":1795674914123456789})");
}

TEST(SnapshotBody, IgnoresTheSectionsThemselves) {
  auto b = decode_snapshot_body(
      R"({"kind":"boot","sections":["packages"],"snapshot_version":1,"taken_ns":-5,)"
      R"("packages":[{"name":"openssl","version":"3.0.19"}]})");
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, (SnapshotBody{SnapshotKind::kBoot, -5, {"packages"}}));
}

TEST(SnapshotBody, RejectsAnotherVersion) {
  EXPECT_EQ(
      decode_snapshot_body(R"({"kind":"boot","sections":[],"snapshot_version":2,"taken_ns":0})")
          .error(),
      Err(Errc::kUnsupportedVersion));
}

TEST(SnapshotBody, RejectsMalformedInput) {
  std::string too_many = R"({"kind":"boot","snapshot_version":1,"taken_ns":0,"sections":[)";
  for (std::size_t i = 0; i <= kMaxSnapshotSections; ++i)
    too_many += (i ? ",\"s" : "\"s") + std::to_string(i) + "\"";
  too_many += "]}";
  const std::string long_name =
      R"({"kind":"boot","snapshot_version":1,"taken_ns":0,"sections":[")" +
      std::string(kMaxSnapshotSectionName + 1, 'a') + "\"]}";
  for (const std::string& bad : {
           std::string(""),
           std::string(R"({"kind":"boot","sections":[],"taken_ns":0})"),
           std::string(R"({"kind":"boot","sections":[],"snapshot_version":"1","taken_ns":0})"),
           std::string(R"({"kind":"reboot","sections":[],"snapshot_version":1,"taken_ns":0})"),
           std::string(R"({"sections":[],"snapshot_version":1,"taken_ns":0})"),
           std::string(R"({"kind":"boot","sections":[],"snapshot_version":1})"),
           std::string(R"({"kind":"boot","sections":[],"snapshot_version":1,"taken_ns":null})"),
           std::string(R"({"kind":"boot","sections":[],"snapshot_version":1,"taken_ns":1.5})"),
           std::string(R"({"kind":"boot","snapshot_version":1,"taken_ns":0})"),
           std::string(R"({"kind":"boot","sections":{},"snapshot_version":1,"taken_ns":0})"),
           std::string(R"({"kind":"boot","sections":[1],"snapshot_version":1,"taken_ns":0})"),
           std::string(R"({"kind":"boot","sections":["Users"],"snapshot_version":1,"taken_ns":0})"),
           std::string(R"({"kind":"boot","sections":["a","a"],"snapshot_version":1,"taken_ns":0})"),
           std::string(R"({"kind":"boot","sections":[""],"snapshot_version":1,"taken_ns":0})"),
           too_many,
           long_name,
       }) {
    auto r = decode_snapshot_body(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), Err(Errc::kMalformedRecord)) << bad;
  }
  // The schema agrees on what it can express.
  for (const char* bad :
       {R"({"kind":"boot","sections":["a","a"],"snapshot_version":1,"taken_ns":0})",
        R"({"kind":"boot","sections":["Users"],"snapshot_version":1,"taken_ns":0})",
        R"({"kind":"boot","sections":[],"snapshot_version":2,"taken_ns":0})"})
    EXPECT_FALSE(testing::validate(schema(), json::parse(bad)).empty()) << bad;
}

TEST(SnapshotBody, KindNamesRoundTrip) {
  for (auto k : {SnapshotKind::kBoot, SnapshotKind::kPeriodic, SnapshotKind::kFinal,
                 SnapshotKind::kOnDemand})
    EXPECT_EQ(parse_snapshot_kind(snapshot_kind_name(k)), k);
  EXPECT_FALSE(parse_snapshot_kind("on-demand"));
}

}  // namespace
}  // namespace blackbox
