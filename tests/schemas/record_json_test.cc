// record_to_json() against schemas/record.schema.json: the shape the query API, the CLI and
// the export all print.
#include "schemas/record_json.h"

#include "schemas/text_encoding.h"
#include "schemas/time_text.h"
#include "tests/schemas/generators.h"
#include "tests/support/json_schema_check.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>

namespace blackbox {
namespace {

using nlohmann::json;
using testing::OwnedRecord;
using testing::SeededRng;

const json& record_schema() {
  static const json schema =
      testing::load_json_file(std::string(BLACKBOX_SOURCE_DIR) + "/schemas/record.schema.json");
  return schema;
}

// Encodes `records` into a raw payload and returns their views (valid while `raw` lives).
std::vector<RecordView> encode_and_read(std::vector<OwnedRecord>& records, std::string& raw,
                                        std::uint64_t first_seq) {
  for (auto& r : records) append_record(raw, r.view());
  std::vector<RecordView> out;
  RecordReader reader(raw, first_seq, static_cast<std::uint32_t>(records.size()));
  RecordView v;
  while (true) {
    auto more = reader.next(v);
    EXPECT_TRUE(more);
    if (!more || !*more) break;
    out.push_back(v);
  }
  return out;
}

TEST(RecordJson, GeneratedRecordsMatchTheSchemaAndKeepTheExactBytes) {
  SeededRng rng;
  SCOPED_TRACE(rng.trace());
  std::vector<OwnedRecord> records;
  for (int i = 0; i < 500; ++i) {
    OwnedRecord r = testing::random_record(rng);
    // Fields as the agent writes them: JSON text values under UTF-8 keys.
    r.fields.clear();
    if (rng.coin()) r.fields = {{"level", "\"error\""}, {"n", "42"}, {"obj", R"({"a":[1,null]})"}};
    r.event_time_ns = static_cast<std::int64_t>(rng.range(0, 4'000'000'000'000'000'000ull));
    records.push_back(std::move(r));
  }
  std::string raw;
  const auto views = encode_and_read(records, raw, 1000);
  ASSERT_EQ(views.size(), records.size());
  for (std::size_t i = 0; i < views.size(); ++i) {
    const json j = record_to_json("i-abc", 1, views[i]);
    const auto errors = testing::validate(record_schema(), j);
    ASSERT_TRUE(errors.empty()) << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n"
                                << testing::join(errors);
    EXPECT_EQ(j["seq"], 1000 + i);
    EXPECT_EQ(j["time"], format_rfc3339_ns(records[i].event_time_ns));
    EXPECT_EQ(*parse_rfc3339_ns(j["time"].get<std::string>()), records[i].event_time_ns);
    auto bytes = record_message_bytes(j);
    ASSERT_TRUE(bytes);
    EXPECT_EQ(*bytes, records[i].line);
    EXPECT_EQ(j.contains("message_base64"), !is_valid_utf8(records[i].line));
    // Round trip through text, as a consumer of `-o json` sees it.
    const json reparsed = json::parse(j.dump());
    EXPECT_EQ(*record_message_bytes(reparsed), records[i].line);
  }
}

TEST(RecordJson, LogRecordShape) {
  OwnedRecord r;
  r.severity = Severity::kErr;
  r.flags = record_flags::kJson | record_flags::kSplitHead;
  r.event_time_ns = 1'795'674'914'123'456'789;
  r.read_time_ns = 1'795'674'914'200'000'000;
  r.source = "/var/log/app.log";
  r.line = R"({"level":"error","msg":"disk full"})";
  r.fields = {{"level", "\"error\""}, {"msg", "\"disk full\""}};
  std::vector<OwnedRecord> records{r};
  std::string raw;
  const auto views = encode_and_read(records, raw, 123);
  const json want = json::parse(R"({
    "instance": "i-abc", "stream": 1, "seq": 123, "kind": "log",
    "time": "2026-11-26T06:35:14.123456789Z", "time_ns": 1795674914123456789,
    "read_time_ns": 1795674914200000000, "source": "/var/log/app.log",
    "severity": "err", "priority": 3, "flags": ["split_head", "json"],
    "message": "{\"level\":\"error\",\"msg\":\"disk full\"}",
    "fields": {"level": "error", "msg": "disk full"}
  })");
  EXPECT_EQ(record_to_json("i-abc", 1, views.at(0)), want);
}

TEST(RecordJson, InvalidUtf8LineGetsLossyMessageAndBase64) {
  OwnedRecord r;
  r.line = std::string("bad \xff\0 byte", 10);
  std::vector<OwnedRecord> records{r};
  std::string raw;
  const json j = record_to_json("i-1", 1, encode_and_read(records, raw, 0).at(0));
  EXPECT_EQ(j["message"], std::string("bad \xEF\xBF\xBD\0 byte", 12));
  EXPECT_EQ(j["message_base64"], base64_encode(r.line));
  EXPECT_TRUE(j["severity"].is_null());
  EXPECT_TRUE(j["priority"].is_null());
}

TEST(RecordJson, NonLogKindsCarryTheirBody) {
  OwnedRecord r;
  r.kind = RecordKind::kLifecycle;
  r.line = R"({"event":"termination_notice","reason":"spot interruption"})";
  std::vector<OwnedRecord> records{r};
  std::string raw;
  const json j = record_to_json("i-1", 2, encode_and_read(records, raw, 0).at(0));
  EXPECT_EQ(j["body"], json::parse(r.line));
  EXPECT_TRUE(testing::validate(record_schema(), j).empty());
}

// ---- Hand-made records (moved from tests/query/) --------------------------------------------

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

}  // namespace
}  // namespace blackbox
