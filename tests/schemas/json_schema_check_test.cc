// The JSON Schemas in schemas/*.schema.json against hand-made valid and invalid documents,
// which also tests the validator in tests/support/json_schema_check.h.
#include "tests/support/json_schema_check.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace blackbox {
namespace {

using nlohmann::json;
using testing::join;
using testing::validate;

json load_schema(const std::string& name) {
  return testing::load_json_file(std::string(BLACKBOX_SOURCE_DIR) + "/schemas/" + name);
}

void expect_valid(const json& schema, const json& doc) {
  const auto errors = validate(schema, doc);
  EXPECT_TRUE(errors.empty()) << doc.dump() << "\n" << join(errors);
}

void expect_invalid(const json& schema, const json& doc, const std::string& mentioning) {
  const auto errors = validate(schema, doc);
  ASSERT_FALSE(errors.empty()) << "accepted: " << doc.dump();
  EXPECT_NE(join(errors).find(mentioning), std::string::npos)
      << "errors do not mention \"" << mentioning << "\":\n"
      << join(errors);
}

// ---- The validator on small schemas
// --------------------------------------------------------------

TEST(JsonSchemaCheck, Types) {
  expect_valid(json{{"type", "integer"}}, 3);
  expect_valid(json{{"type", "integer"}}, 3.0);
  expect_valid(json{{"type", "integer"}}, UINT64_MAX);
  expect_invalid(json{{"type", "integer"}}, 3.5, "type");
  expect_invalid(json{{"type", "integer"}}, "3", "type");
  expect_valid(json{{"type", "number"}}, 3.5);
  expect_valid(json{{"type", json::array({"string", "null"})}}, nullptr);
  expect_invalid(json{{"type", json::array({"string", "null"})}}, false, "type");
  expect_invalid(json{{"type", "boolean"}}, 0, "type");
  expect_invalid(json{{"type", "object"}}, json::array(), "type");
}

TEST(JsonSchemaCheck, ObjectKeywords) {
  const json schema = json::parse(R"({
    "type": "object", "required": ["a"], "additionalProperties": false,
    "properties": {"a": {"type": "integer", "minimum": 0, "maximum": 10}, "b": {"type": "string"}}
  })");
  expect_valid(schema, json::parse(R"({"a": 0, "b": "x"})"));
  expect_invalid(schema, json::parse(R"({"b": "x"})"), "missing required property \"a\"");
  expect_invalid(schema, json::parse(R"({"a": 1, "c": 1})"), "unexpected property \"c\"");
  expect_invalid(schema, json::parse(R"({"a": -1})"), "/a");
  expect_invalid(schema, json::parse(R"({"a": 11})"), "/a");
  expect_invalid(schema, json::parse(R"({"a": 1, "b": 2})"), "/b");
  const json typed_extra = json::parse(R"({"additionalProperties": {"type": "string"}})");
  expect_valid(typed_extra, json::parse(R"({"x": "y"})"));
  expect_invalid(typed_extra, json::parse(R"({"x": 1})"), "/x");
}

TEST(JsonSchemaCheck, EnumConstItemsPatternLengths) {
  expect_valid(json::parse(R"({"enum": ["a", null, 1]})"), nullptr);
  expect_valid(json::parse(R"({"enum": ["a", null, 1]})"), 1.0);
  expect_invalid(json::parse(R"({"enum": ["a", null, 1]})"), "b", "one of");
  expect_invalid(json::parse(R"({"const": "log"})"), "gap", "is not");
  const json items = json::parse(R"({"type": "array", "uniqueItems": true,
                                     "items": {"enum": ["x", "y"]}})");
  expect_valid(items, json::parse(R"(["x", "y"])"));
  expect_invalid(items, json::parse(R"(["x", "z"])"), "/1");
  expect_invalid(items, json::parse(R"(["x", "x"])"), "equal");
  const json pat = json::parse(R"({"pattern": "^[0-9]+Z$", "minLength": 2, "maxLength": 4})");
  expect_valid(pat, "12Z");
  expect_valid(pat, 12);  // pattern and lengths apply to strings only
  expect_invalid(pat, "12", "does not match");
  expect_invalid(pat, "Z", "shorter");
  expect_invalid(pat, "1234Z", "longer");
  expect_valid(json::parse(R"({"maxLength": 1})"), "é");    // code points, not bytes
  expect_valid(json::parse(R"({"pattern": "b"})"), "abc");  // unanchored, as JSON Schema says
}

TEST(JsonSchemaCheck, BooleanSchemasAllOfIfThenElse) {
  expect_valid(json(true), 1);
  expect_invalid(json(false), 1, "not allowed");
  const json cond = json::parse(R"({"allOf": [{
    "if": {"properties": {"kind": {"const": "log"}}},
    "then": {"properties": {"body": false}},
    "else": {"required": ["body"]}}]})");
  expect_valid(cond, json::parse(R"({"kind": "log"})"));
  expect_invalid(cond, json::parse(R"({"kind": "log", "body": {}})"), "/body");
  expect_valid(cond, json::parse(R"({"kind": "gap", "body": {}})"));
  expect_invalid(cond, json::parse(R"({"kind": "gap"})"), "\"body\"");
}

TEST(JsonSchemaCheck, UnsupportedKeywordsAreErrorsNotSilentlySkipped) {
  expect_invalid(json::parse(R"({"oneOf": [{"type": "string"}]})"), "x", "unsupported");
  expect_invalid(json::parse(R"({"$ref": "#/x"})"), 1, "unsupported");
}

// Every keyword our schemas use is supported (an unsupported one would show up as an error on
// any document, including the valid ones below; this states it directly).
TEST(JsonSchemaCheck, OurSchemasUseOnlySupportedKeywords) {
  for (const char* name :
       {"record.schema.json", "instance.schema.json", "lifecycle_event.schema.json"}) {
    const json schema = load_schema(name);
    EXPECT_EQ(schema.value("$schema", ""), "https://json-schema.org/draft/2020-12/schema") << name;
    const auto errors = validate(schema, json::object());
    EXPECT_EQ(join(errors).find("unsupported"), std::string::npos) << name << "\n" << join(errors);
  }
}

// ---- record.schema.json ----------------------------------------------------------------------

json valid_log_record() {
  return json::parse(R"({
    "instance": "i-abc", "stream": 1, "seq": 123, "kind": "log",
    "time": "2026-11-26T06:35:14.123456789Z", "time_ns": 1795674914123456789,
    "read_time_ns": 1795674914200000000, "source": "/var/log/app.log",
    "severity": "err", "priority": 3, "flags": ["json", "partial"],
    "message": "{\"level\":\"error\",\"msg\":\"disk full\"}",
    "fields": {"level": "error", "msg": "disk full", "n": 3, "nested": {"a": [1, null]}}
  })");
}

TEST(RecordSchema, AcceptsEveryKind) {
  const json schema = load_schema("record.schema.json");
  expect_valid(schema, valid_log_record());

  json raw = valid_log_record();
  raw["message"] = "bad \xEF\xBF\xBD byte";  // lossy copy with U+FFFD
  raw["message_base64"] = "YmFkIP8gYnl0ZQ==";
  raw["severity"] = nullptr;
  raw["priority"] = nullptr;
  raw["flags"] = json::array();
  raw["fields"] = json::object();
  expect_valid(schema, raw);

  json lifecycle = valid_log_record();
  lifecycle["kind"] = "lifecycle";
  lifecycle["stream"] = 2;
  lifecycle["body"] = {{"event", "termination_notice"}, {"reason", "spot interruption"}};
  expect_valid(schema, lifecycle);
  lifecycle["body"] = {{"event", "hello"}, {"reason", nullptr}};
  expect_valid(schema, lifecycle);

  json gap = valid_log_record();
  gap["kind"] = "gap";
  gap["body"] = {{"reason", "line_too_long"},
                 {"source", "/var/log/app.log"},
                 {"lost_bytes", 1048576},
                 {"from_offset", 4096}};
  expect_valid(schema, gap);
  gap["body"] = {{"reason", "truncated"},
                 {"source", "/var/log/app.log"},
                 {"offset", 812},
                 {"note", "bytes written before the truncation are gone"}};  // lost size unknown
  expect_valid(schema, gap);

  json snapshot = valid_log_record();
  snapshot["kind"] = "snapshot";
  snapshot["stream"] = 3;
  snapshot["body"] = {{"packages", json::array({"openssl 3.0.19"})}, {"users", json::array()}};
  expect_valid(schema, snapshot);
  snapshot["body"] = nullptr;  // stored body that does not parse
  expect_valid(schema, snapshot);
}

TEST(RecordSchema, RejectsWrongShapes) {
  const json schema = load_schema("record.schema.json");
  auto with = [](const char* key, json value) {
    json r = valid_log_record();
    r[key] = std::move(value);
    return r;
  };
  auto without = [](const char* key) {
    json r = valid_log_record();
    r.erase(key);
    return r;
  };
  for (const char* key : {"instance", "stream", "seq", "kind", "time", "time_ns", "read_time_ns",
                          "source", "severity", "priority", "flags", "message", "fields"})
    expect_invalid(schema, without(key), std::string("\"") + key + "\"");
  expect_invalid(schema, with("kind", "metric"), "/kind");
  expect_invalid(schema, with("seq", -1), "/seq");
  expect_invalid(schema, with("stream", 4294967296ull), "/stream");
  expect_invalid(schema, with("time", "2026-11-26T06:35:14Z"), "/time");  // no ns
  expect_invalid(schema, with("time", "2026-11-26T06:35:14.123456789+01:00"), "/time");
  expect_invalid(schema, with("time_ns", "1795674914123456789"), "/time_ns");
  expect_invalid(schema, with("severity", "error"), "/severity");  // journalctl names only
  expect_invalid(schema, with("priority", 8), "/priority");
  expect_invalid(schema, with("flags", json::array({"compressed"})), "/flags/0");
  expect_invalid(schema, with("message_base64", "not base64!"), "/message_base64");
  expect_invalid(schema, with("fields", json::array()), "/fields");
  expect_invalid(schema, with("body", json::object()), "/body");  // log records have no body
  expect_invalid(schema, with("hostname", "web-1"), "unexpected property \"hostname\"");

  json lifecycle = valid_log_record();
  lifecycle["kind"] = "lifecycle";
  expect_invalid(schema, lifecycle, "\"body\"");   // non-log kinds need a body
  lifecycle["body"] = {{"event", "went_silent"}};  // a collector-side event, not a record
  expect_invalid(schema, lifecycle, "/body/event");
  json gap = valid_log_record();
  gap["kind"] = "gap";
  gap["body"] = {{"reason", "spool_full"}, {"source", "x"}, {"lost_bytes", -5}};
  expect_invalid(schema, gap, "/body/lost_bytes");
}

// ---- instance.schema.json --------------------------------------------------------------------

json valid_instance() {
  return json::parse(R"({
    "instance": "i-abc", "image": "ami-1", "hostnames": ["web-1"],
    "boot_ids": ["8c1f1f3e-6c4b-4a59-9d1e-2f6f3b1c0a11"],
    "first_seen": "2026-11-26T06:00:00.000000000Z", "last_seen": "2026-11-26T06:35:14.123456789Z",
    "last_heartbeat": "2026-11-26T06:35:10.000000000Z", "state": "terminated",
    "end": {"kind": "goodbye", "time": "2026-11-26T06:35:14.123456789Z", "reason": "sigterm",
            "termination_notice": true},
    "records": 10423, "gaps": 1, "legal_hold": false
  })");
}

TEST(InstanceSchema, AcceptsRunningTerminatedAndSilent) {
  const json schema = load_schema("instance.schema.json");
  expect_valid(schema, valid_instance());
  json running = valid_instance();
  running["state"] = "running";
  running["end"] = nullptr;
  running["last_heartbeat"] = nullptr;
  running["hostnames"] = json::array();
  expect_valid(schema, running);
  json silent = valid_instance();
  silent["state"] = "silent";
  silent["end"] = {{"kind", "silent"},
                   {"time", "2026-11-26T06:40:00.000000000Z"},
                   {"reason", nullptr},
                   {"termination_notice", false}};
  expect_valid(schema, silent);
}

TEST(InstanceSchema, RejectsWrongShapes) {
  const json schema = load_schema("instance.schema.json");
  json j = valid_instance();
  j.erase("legal_hold");
  expect_invalid(schema, j, "\"legal_hold\"");
  j = valid_instance();
  j["state"] = "stopped";
  expect_invalid(schema, j, "/state");
  j = valid_instance();
  j["end"]["kind"] = "crash";
  expect_invalid(schema, j, "/end/kind");
  j = valid_instance();
  j["end"].erase("termination_notice");
  expect_invalid(schema, j, "\"termination_notice\"");
  j = valid_instance();
  j["records"] = -1;
  expect_invalid(schema, j, "/records");
  j = valid_instance();
  j["hostnames"] = "web-1";
  expect_invalid(schema, j, "/hostnames");
  j = valid_instance();
  j["boot_ids"] = json::array({1});
  expect_invalid(schema, j, "/boot_ids/0");
  j = valid_instance();
  j["first_seen"] = "yesterday";
  expect_invalid(schema, j, "/first_seen");
  j = valid_instance();
  j["legal_hold"] = "no";
  expect_invalid(schema, j, "/legal_hold");
  j = valid_instance();
  j["instance"] = "";
  expect_invalid(schema, j, "/instance");
}

// ---- lifecycle_event.schema.json -----------------------------------------------------------

json valid_event() {
  return json::parse(R"({
    "instance": "i-abc", "event": "goodbye", "time": "2026-11-26T06:35:14.123456789Z",
    "time_ns": 1795674914123456789, "boot_id": "b-1", "hostname": "web-1",
    "reason": "sigterm", "detail": {"after_termination_notice": true}
  })");
}

TEST(LifecycleEventSchema, AcceptsEveryEvent) {
  const json schema = load_schema("lifecycle_event.schema.json");
  for (const char* e : {"hello", "termination_notice", "goodbye", "went_silent", "reconnected"}) {
    json j = valid_event();
    j["event"] = e;
    expect_valid(schema, j);
  }
  json j = valid_event();
  j["boot_id"] = nullptr;
  j["hostname"] = nullptr;
  j["reason"] = nullptr;
  j["detail"] = json::object();
  expect_valid(schema, j);
}

TEST(LifecycleEventSchema, RejectsWrongShapes) {
  const json schema = load_schema("lifecycle_event.schema.json");
  json j = valid_event();
  j["event"] = "heartbeat";  // heartbeats are not timeline events
  expect_invalid(schema, j, "/event");
  j = valid_event();
  j.erase("detail");
  expect_invalid(schema, j, "\"detail\"");
  j = valid_event();
  j["detail"] = nullptr;
  expect_invalid(schema, j, "/detail");
  j = valid_event();
  j["time"] = "2026-11-26 06:35:14.123456789Z";
  expect_invalid(schema, j, "/time");
  j = valid_event();
  j["extra"] = 1;
  expect_invalid(schema, j, "unexpected property \"extra\"");
}

}  // namespace
}  // namespace blackbox
