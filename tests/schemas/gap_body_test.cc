// Gap record bodies: round trips over generated values, the bytes the agent has always
// written, malformed input, and gap_body.schema.json.
#include "schemas/gap_body.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/schemas/body_test_support.h"

namespace blackbox {
namespace {

using nlohmann::json;
using testing::SeededRng;

const json& schema() {
  static const json s = testing::load_schema("gap_body.schema.json");
  return s;
}

template <class T>
std::optional<T> maybe(SeededRng& rng) {
  if (rng.coin()) return std::nullopt;
  return rng.edgy<T>();
}

std::optional<std::string> maybe_text(SeededRng& rng) {
  if (rng.coin()) return std::nullopt;
  return rng.printable(0, 30) + (rng.coin(4) ? "\"\\\n\xc3\xa9" : "");
}

GapBody random_gap(SeededRng& rng) {
  GapBody g;
  static const std::string_view kReasons[] = {
      gap_reason::kTruncated, gap_reason::kTruncatedWhileStopped, gap_reason::kSpoolDamaged,
      gap_reason::kSpoolUnreadable, gap_reason::kBatchRejected};
  g.reason = rng.coin(4) ? rng.printable(0, 20) : std::string(kReasons[rng.range(0, 4)]);
  g.source = rng.coin() ? "spool" : "/var/log/" + rng.printable(0, 20);
  g.lost_bytes = maybe<std::uint64_t>(rng);
  g.records = maybe<std::uint64_t>(rng);
  g.from_offset = maybe<std::uint64_t>(rng);
  g.offset = maybe<std::uint64_t>(rng);
  g.size = maybe<std::uint64_t>(rng);
  g.segment = maybe<std::uint64_t>(rng);
  g.stream = maybe<std::uint32_t>(rng);
  g.first_seq = maybe<std::uint64_t>(rng);
  g.end_seq = maybe<std::uint64_t>(rng);
  g.error = maybe_text(rng);
  g.note = maybe_text(rng);
  return g;
}

TEST(GapBody, RoundTripsGeneratedBodiesThatMatchTheSchema) {
  testing::expect_round_trips(2000, schema(), random_gap, encode_gap_body, decode_gap_body);
}

// The exact lines the agent wrote before these types existed (nlohmann, sorted keys).
TEST(GapBody, EncodesTheBytesTheAgentAlwaysWrote) {
  GapBody tail("truncated", "/var/log/a.log");
  tail.offset = 812;
  tail.note = "gone";
  EXPECT_EQ(encode_gap_body(tail),
            R"({"note":"gone","offset":812,"reason":"truncated","source":"/var/log/a.log"})");
  GapBody rejected(gap_reason::kBatchRejected, "spool");
  rejected.error = "malformed_record";
  rejected.stream = 1;
  rejected.first_seq = 10;
  rejected.end_seq = 15;
  rejected.records = 5;
  EXPECT_EQ(
      encode_gap_body(rejected),
      R"({"end_seq":15,"error":"malformed_record","first_seq":10,)"
      R"("reason":"batch rejected by the collector","records":5,"source":"spool","stream":1})");
  GapBody damaged(gap_reason::kSpoolDamaged, "spool");
  damaged.segment = 4;
  damaged.offset = 8192;
  damaged.lost_bytes = 100;
  EXPECT_EQ(encode_gap_body(damaged),
            R"({"lost_bytes":100,"offset":8192,"reason":"spool segment damaged; quarantined",)"
            R"("segment":4,"source":"spool"})");
}

TEST(GapBody, ReadsWhatOtherWritersMayAdd) {
  auto g =
      decode_gap_body(R"({"reason":"line_too_long","source":"/var/log/app.log","lost_bytes":5,)"
                      R"("from_offset":null,"extra":{"a":1}})");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->lost_bytes, 5u);
  EXPECT_FALSE(g->from_offset);
}

TEST(GapBody, RejectsMalformedInput) {
  for (const char* bad : {
           "",
           "[]",
           R"({"reason":"x"})",
           R"({"source":"x"})",
           R"({"reason":null,"source":"x"})",
           R"({"reason":"x","source":1})",
           R"({"reason":"x","source":"y","lost_bytes":-5})",
           R"({"reason":"x","source":"y","lost_bytes":1.5})",
           R"({"reason":"x","source":"y","lost_bytes":"5"})",
           R"({"reason":"x","source":"y","stream":4294967296})",
           R"({"reason":"x","source":"y","note":false})",
           R"({"reason":"x","source":"y"} trailing)",
       }) {
    auto r = decode_gap_body(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), Err(Errc::kMalformedRecord)) << bad;
  }
}

TEST(GapBody, SchemaRejectsWhatTheDecoderRejects) {
  for (const char* bad : {R"({"reason":"x"})", R"({"reason":"x","source":"y","lost_bytes":-5})",
                          R"({"reason":"x","source":"y","stream":4294967296})"})
    EXPECT_FALSE(testing::validate(schema(), json::parse(bad)).empty()) << bad;
}

}  // namespace
}  // namespace blackbox
