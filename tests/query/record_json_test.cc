#include "schemas/record_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "schemas/text_encoding.h"
#include "tests/support/json_schema_check.h"

namespace blackbox {
namespace {

using nlohmann::json;

const json& record_schema() {
  static const json schema =
      testing::load_json_file(std::string(BLACKBOX_SOURCE_DIR) + "/schemas/record.schema.json");
  return schema;
}

// A RecordView over bytes encoded exactly as a batch carries them.
struct Encoded {
  std::string raw;
  RecordView view;
  explicit Encoded(const RecordData& d, std::uint64_t seq = 7) {
    append_record(raw, d);
    RecordReader reader(raw, seq, 1);
    auto more = reader.next(view);
    EXPECT_TRUE(more && *more);
  }
};

TEST(RecordJson, LogRecordHasEveryFieldOfTheSchema) {
  const std::vector<Field> fields = {{"user", "\"bob\""}, {"n", "42"}, {"obj", "{\"a\":[1,2]}"}};
  RecordData d;
  d.severity = Severity::kErr;
  d.flags = record_flags::kJson | record_flags::kPartial;
  d.event_time_ns = 1'795'674'914'123'456'789;
  d.read_time_ns = d.event_time_ns + 5;
  d.source = "/var/log/app.log";
  d.line = R"({"user":"bob","n":42,"obj":{"a":[1,2]}})";
  d.fields = fields;
  Encoded e(d);
  const json j = record_to_json("i-abc", 1, e.view);
  EXPECT_EQ(j["instance"], "i-abc");
  EXPECT_EQ(j["stream"], 1);
  EXPECT_EQ(j["seq"], 7);
  EXPECT_EQ(j["kind"], "log");
  EXPECT_EQ(j["time"], "2026-11-26T06:35:14.123456789Z");
  EXPECT_EQ(j["time_ns"], d.event_time_ns);
  EXPECT_EQ(j["read_time_ns"], d.read_time_ns);
  EXPECT_EQ(j["severity"], "err");
  EXPECT_EQ(j["priority"], 3);
  EXPECT_EQ(j["flags"], json({"partial", "json"}));
  EXPECT_EQ(j["message"], d.line);
  EXPECT_FALSE(j.contains("message_base64"));
  EXPECT_FALSE(j.contains("body"));
  EXPECT_EQ(j["fields"]["user"], "bob");
  EXPECT_EQ(j["fields"]["n"], 42);
  EXPECT_EQ(j["fields"]["obj"], json::parse(R"({"a":[1,2]})"));
  auto errors = testing::validate(record_schema(), j);
  EXPECT_TRUE(errors.empty()) << testing::join(errors);
}

TEST(RecordJson, UnknownSeverityIsNull) {
  RecordData d;
  d.line = "plain";
  Encoded e(d);
  const json j = record_to_json("i-1", 1, e.view);
  EXPECT_TRUE(j["severity"].is_null());
  EXPECT_TRUE(j["priority"].is_null());
  EXPECT_TRUE(j["flags"].empty());
  EXPECT_TRUE(j["fields"].is_object());
  EXPECT_TRUE(testing::validate(record_schema(), j).empty());
}

TEST(RecordJson, InvalidUtf8KeepsExactBytesInBase64) {
  const std::string line("ok \xff\xfe bad \xc3\x28 end \xe2\x82", 19);
  RecordData d;
  d.line = line;
  Encoded e(d);
  const json j = record_to_json("i-1", 1, e.view);
  ASSERT_TRUE(j.contains("message_base64"));
  EXPECT_TRUE(is_valid_utf8(j["message"].get<std::string>()));
  EXPECT_EQ(j["message"], "ok \xEF\xBF\xBD\xEF\xBF\xBD bad \xEF\xBF\xBD( end \xEF\xBF\xBD");
  auto bytes = record_message_bytes(j);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, line);
  // Survives a trip through JSON text too.
  auto again = record_message_bytes(json::parse(j.dump()));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, line);
  EXPECT_TRUE(testing::validate(record_schema(), j).empty())
      << testing::join(testing::validate(record_schema(), j));
}

TEST(RecordJson, ValidUtf8ControlsAndNulStayInMessage) {
  const std::string line("a\0b\tc\x1b[31m\xe2\x82\xac", 13);
  RecordData d;
  d.line = line;
  Encoded e(d);
  const json j = record_to_json("i-1", 1, e.view);
  EXPECT_FALSE(j.contains("message_base64"));
  EXPECT_EQ(*record_message_bytes(json::parse(j.dump())), line);
}

TEST(RecordJson, RandomBytesRoundTrip) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> len(0, 64), byte(0, 255), pick(0, 3);
  const std::string utf8_bits[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "x"};
  for (int i = 0; i < 3000; ++i) {
    std::string line;
    const int n = len(rng);
    for (int k = 0; k < n; ++k) {
      if (pick(rng) == 0) {
        line += static_cast<char>(byte(rng));
      } else {
        line += utf8_bits[pick(rng)];
      }
    }
    RecordData d;
    d.line = line;
    Encoded e(d);
    const json j = json::parse(record_to_json("i", 1, e.view).dump());
    EXPECT_EQ(j.contains("message_base64"), !is_valid_utf8(line));
    auto bytes = record_message_bytes(j);
    ASSERT_TRUE(bytes);
    ASSERT_EQ(*bytes, line) << "seed 7, case " << i;
    ASSERT_TRUE(testing::validate(record_schema(), j).empty());
  }
}

TEST(RecordJson, LifecycleBodyIsParsed) {
  RecordData d;
  d.kind = RecordKind::kLifecycle;
  d.source = "agent";
  d.line = R"({"event":"goodbye","reason":"sigterm"})";
  Encoded e(d);
  const json j = record_to_json("i-1", 2, e.view);
  EXPECT_EQ(j["kind"], "lifecycle");
  EXPECT_EQ(j["body"]["event"], "goodbye");
  EXPECT_TRUE(testing::validate(record_schema(), j).empty());
}

TEST(TextEncoding, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("h\xc3\xa9llo \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
  EXPECT_EQ(utf8_lossy("\xe2\x82"
                       "a"),
            "\xEF\xBF\xBD"
            "a");  // one U+FFFD per maximal subpart
}

TEST(TextEncoding, Base64) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(*base64_decode("Zm8="), "fo");
  EXPECT_FALSE(base64_decode("Zm8"));
  EXPECT_FALSE(base64_decode("Z=8="));
  EXPECT_FALSE(base64_decode("Zm 8"));
}

}  // namespace
}  // namespace blackbox
