// Lifecycle record bodies: round trips over generated values, the bytes the agent has always
// written, malformed input, and lifecycle_body.schema.json.
#include "schemas/lifecycle_body.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "schemas/body_json.h"
#include "tests/schemas/body_test_support.h"

namespace blackbox {
namespace {

using nlohmann::json;
using testing::SeededRng;

const json& schema() {
  static const json s = testing::load_schema("lifecycle_body.schema.json");
  return s;
}

// Text with what a JSON writer must escape (quotes, backslashes, controls) and UTF-8.
std::string text(SeededRng& rng) {
  static const std::string kPieces[] = {"\"", "\\", "\n", std::string(1, '\0'), "\xc3\xa9", "/"};
  std::string s = rng.printable(0, 12);
  if (rng.coin(3)) s += kPieces[rng.range(0, std::size(kPieces) - 1)];
  return s;
}

LifecycleBody random_body(SeededRng& rng) {
  switch (rng.range(0, 3)) {
    case 0: {
      HelloBody h{text(rng), text(rng), text(rng), text(rng), text(rng), {}};
      h.spool = {rng.coin(), rng.edgy<std::uint64_t>(), rng.edgy<std::uint64_t>(),
                 rng.edgy<std::uint64_t>()};
      return h;
    }
    case 1:
      return HeartbeatBody{};
    case 2:
      return TerminationNoticeBody{text(rng)};
    default: {
      GoodbyeBody g{text(rng), rng.coin(), std::nullopt};
      if (rng.coin()) g.termination_notice = text(rng);
      return g;
    }
  }
}

TEST(LifecycleBody, RoundTripsGeneratedBodiesThatMatchTheSchema) {
  testing::expect_round_trips(2000, schema(), random_body, encode_lifecycle_body,
                              decode_lifecycle_body);
}

// The exact lines the agent wrote before these types existed (nlohmann, sorted keys): stored
// data and the collector's reading of it depend on them.
TEST(LifecycleBody, EncodesTheBytesTheAgentAlwaysWrote) {
  HelloBody h{"0.1.0", "config", "ami-1", "b-1", "web-1", {false, 3, 12, 1}};
  EXPECT_EQ(encode_lifecycle_body(h),
            R"({"agent_version":"0.1.0","boot_id":"b-1","event":"hello","hostname":"web-1",)"
            R"("image_id":"ami-1","instance_id_source":"config","spool":{"batches_waiting":3,)"
            R"("damaged_ranges":1,"fresh":false,"torn_tail_bytes":12}})");
  EXPECT_EQ(encode_lifecycle_body(TerminationNoticeBody{"spot interruption"}),
            R"({"event":"termination_notice","reason":"spot interruption"})");
  EXPECT_EQ(encode_lifecycle_body(GoodbyeBody{"sigterm", false, std::nullopt}),
            R"({"after_termination_notice":false,"event":"goodbye","reason":"sigterm"})");
  EXPECT_EQ(encode_lifecycle_body(GoodbyeBody{"sigterm", true, "spot"}),
            R"({"after_termination_notice":true,"event":"goodbye","reason":"sigterm",)"
            R"("termination_notice":"spot"})");
  EXPECT_EQ(encode_lifecycle_body(HeartbeatBody{}), R"({"event":"heartbeat"})");
}

TEST(LifecycleBody, InvalidUtf8IsReplacedNotThrown) {
  const std::string line = encode_lifecycle_body(TerminationNoticeBody{"bad \xff byte"});
  auto back = decode_lifecycle_body(line);
  ASSERT_TRUE(back);
  EXPECT_EQ(std::get<TerminationNoticeBody>(*back).reason, "bad \xEF\xBF\xBD byte");
}

TEST(LifecycleBody, AcceptsExtraMembersAndMissingOptionalOnes) {
  auto notice = decode_lifecycle_body(R"({"event":"termination_notice","reason":null,"x":[1]})");
  ASSERT_TRUE(notice);
  EXPECT_EQ(std::get<TerminationNoticeBody>(*notice).reason, "");
  auto hello = decode_lifecycle_body(R"({"event":"hello"})");
  ASSERT_TRUE(hello);
  EXPECT_EQ(std::get<HelloBody>(*hello), HelloBody{});
  auto bye = decode_lifecycle_body(R"({"event":"goodbye","reason":"sigint"})");
  ASSERT_TRUE(bye);
  EXPECT_EQ(std::get<GoodbyeBody>(*bye), (GoodbyeBody{"sigint", false, std::nullopt}));
}

TEST(LifecycleBody, RejectsMalformedInput) {
  for (const char* bad : {
           "",
           "not json",
           R"(["event","hello"])",
           R"({"event":"hello")",
           R"({})",
           R"({"event":null})",
           R"({"event":"went_silent"})",
           R"({"event":7})",
           R"({"event":"termination_notice","reason":5})",
           R"({"event":"goodbye","after_termination_notice":"yes"})",
           R"({"event":"goodbye","termination_notice":{}})",
           R"({"event":"hello","spool":[]})",
           R"({"event":"hello","spool":{"batches_waiting":-1}})",
           R"({"event":"hello","spool":{"torn_tail_bytes":1.5}})",
           R"({"event":"hello","hostname":42})",
       }) {
    auto r = decode_lifecycle_body(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), Err(Errc::kMalformedRecord)) << bad;
  }
}

TEST(LifecycleBody, BoundsDepthAndSize) {
  std::string deep = R"({"event":"heartbeat","x":)";
  for (std::size_t i = 0; i < body_json::kMaxBodyDepth + 1; ++i) deep += "[";
  for (std::size_t i = 0; i < body_json::kMaxBodyDepth + 1; ++i) deep += "]";
  deep += "}";
  EXPECT_EQ(decode_lifecycle_body(deep).error(), Err(Errc::kMalformedRecord));
  std::string huge = R"({"event":"heartbeat","x":")";
  huge.append(body_json::kMaxBodyBytes, 'a');
  huge += "\"}";
  EXPECT_EQ(decode_lifecycle_body(huge).error(), Err(Errc::kLineTooLong));
}

TEST(LifecycleBody, EventNamesRoundTrip) {
  for (auto e : {LifecycleEvent::kHello, LifecycleEvent::kHeartbeat,
                 LifecycleEvent::kTerminationNotice, LifecycleEvent::kGoodbye})
    EXPECT_EQ(parse_lifecycle_event(lifecycle_event_name(e)), e);
  EXPECT_FALSE(parse_lifecycle_event("Hello"));
}

}  // namespace
}  // namespace blackbox
