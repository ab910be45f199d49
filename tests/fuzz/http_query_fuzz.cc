// Fuzz target for what turns an untrusted request into a query on the collector: the request
// target (schemas/http_target.h), the query API's parameters (collector/http/api.h: filters,
// regexes, priorities, times, durations, limits) and its pagination cursors
// (collector/query/cursor.h), plus the time specs of the `blackbox` CLI (query/time_spec.h).
// The input is one request target, answered by the real Api over a real store (RocksDB in a
// temp dir, filled once through the collector's write path with a small sample instance "i-1"),
// so a cursor or a filter that decodes is also run by the query engine. Checked:
//  - every answer is JSON with a 2xx or 4xx status (hostile input is never a 5xx), an error
//    answer names its code and says why;
//  - a records answer's next_cursor is accepted when passed back (the API's own cursors
//    always decode), and every cursor decoder round-trips what it accepts;
//  - a target that parses is rebuilt by make_http_target() into one that parses the same;
//  - RFC 3339 times and durations that parse come back from their formatted text.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "collector/http/api.h"
#include "collector/query/cursor.h"
#include "collector/query/record_filter.h"
#include "query/time_spec.h"
#include "schemas/http_target.h"
#include "schemas/time_text.h"
#include "tests/support/store_fixture.h"

namespace {

using namespace blackbox;
using nlohmann::json;

constexpr std::int64_t kS = 1'000'000'000;
constexpr std::int64_t kT0 = 1'795'674'900'000'000'000;  // 2026-11-26T06:35:00Z

struct World {
  World(const World&) = delete;
  // The ledger's info lines once per start, not once per replayed input.
  bool quiet = (spdlog::set_level(spdlog::level::warn), true);
  testing::StoreFixture fx{"fuzz"};
  std::unique_ptr<collector::http::Api> api;

  World() {
    fx.hello("i-1", "ami-1");
    for (int b = 0; b < 3; ++b) {
      std::vector<testing::TestRecord> batch;
      for (int i = b * 5; i < b * 5 + 5; ++i) {
        testing::TestRecord r;
        r.time_ns = kT0 + i * kS;
        r.source = i % 2 ? "/var/log/db.log" : "/var/log/app.log";
        r.severity = i % 3 ? Severity::kInfo : Severity::kErr;
        r.line = "line " + std::to_string(i) + (i % 3 ? " ok" : " ERROR disk full");
        if (i % 2 == 0) {
          r.flags = record_flags::kJson;
          r.fields = {{"user", "\"bob\""}, {"n", std::to_string(i)}};
        }
        batch.push_back(r);
      }
      fx.add_batch("i-1", 1, batch);
    }
    fx.hello("i-2", "ami-2", "boot-9", "web-2");
    fx.goodbye("i-2", "sigterm", true);
    collector::http::ApiOptions options;
    options.page.max_records = 50;
    options.scan_helpers = 0;  // one thread: a finding replays the same way
    api = std::make_unique<collector::http::Api>(fx.store(), fx.metrics(), options, fx.clock());
  }
};

World& world() {
  static World w;
  return w;
}

json answer(std::string_view target) {
  const auto r = world().api->handle("GET", target);
  if (r.status >= 500 || r.status < 200) std::abort();
  if (r.content_type != "application/json") return json();
  json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded()) std::abort();
  if (r.status >= 400 &&
      (!body["error"]["code"].is_string() || body["error"]["message"].get<std::string>().empty()))
    std::abort();
  return r.status == 200 ? body : json();
}

// A records answer's next_cursor, passed back with the same parameters, is accepted.
void follow_cursor(const HttpTarget& t, const json& body) {
  if (!body.is_object() || !body["next_cursor"].is_string()) return;
  const std::string next = body["next_cursor"];
  if (!collector::query::decode_records_cursor(next)) std::abort();
  QueryParams params;
  for (const auto& [k, v] : t.params)
    if (k != "cursor") params.emplace_back(k, v);
  params.emplace_back("cursor", next);
  std::string path;
  for (const auto& s : t.segments) path += "/" + encode_path_segment(s);
  const auto r = world().api->handle("GET", make_http_target(path, params));
  if (r.status != 200) std::abort();
}

void check_target(std::string_view in) {
  auto t = parse_http_target(in);
  if (!t) return;
  std::string path;
  for (const auto& s : t->segments) path += "/" + encode_path_segment(s);
  if (path.empty()) path = "/";
  auto again = parse_http_target(make_http_target(path, t->params));
  // Boost.URL reads a leading "/./" or "//" as a prefix, not as segments ("/./x" is {"x"}):
  // segments survive the trip unless the first is "." or empty.
  const bool prefix_like =
      !t->segments.empty() && (t->segments[0] == "." || t->segments[0].empty());
  if (!again || again->params != t->params || (!prefix_like && again->segments != t->segments))
    std::abort();
  const json body = answer(in);
  if (t->segments.size() == 4 && t->segments[3] == "records") follow_cursor(*t, body);
}

template <class T, class Enc, class Dec>
void round_trip(std::string_view in, Enc enc, Dec dec) {
  auto a = dec(in);
  if (!a) return;
  auto b = dec(enc(*a));
  if (!b || *b != *a) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_target(in);

  namespace q = collector::query;
  round_trip<q::RecordsCursor>(in, q::encode_records_cursor, q::decode_records_cursor);
  round_trip<std::uint64_t>(in, q::encode_follow_cursor, q::decode_follow_cursor);
  round_trip<std::string>(
      in, [](const std::string& s) { return q::encode_instances_cursor(s); },
      q::decode_instances_cursor);
  round_trip<std::int64_t>(in, format_rfc3339_ns, parse_rfc3339_ns);
  round_trip<std::int64_t>(in, format_duration, parse_duration_ns);
  int lo = -1, hi = -1;
  if (q::parse_priority_range(in, lo, hi) && (lo < 0 || lo > hi || hi > 7)) std::abort();
  (void)query::parse_user_time(in, {kT0, true});
  (void)query::parse_user_time(in, {kT0, false});
  return 0;
}
