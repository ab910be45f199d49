// The query API (collector/http/api.h) over a real store filled through the collector's write
// path: filters, pagination, context, tail, --last, follow, timeline and errors, as JSON.
// The engine alone (no HTTP, typed results): tests/collector/query/.
#include "collector/http/api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "schemas/http_target.h"
#include "schemas/time_text.h"
#include "tests/collector/query/sample_instance.h"
#include "tests/support/json_schema_check.h"

namespace blackbox::collector::http {
namespace {

using nlohmann::json;
using testing::TestRecord;

using testing::kS;
using testing::kT0;
using testing::log_record;

// A clock whose every reading is 1 ms later than the last: lets a test hit the time budget.
class TickingClock final : public Clock {
 public:
  std::int64_t wall_ns() const override { return now_ += 1'000'000; }
  std::int64_t steady_ns() const override { return now_ += 1'000'000; }

 private:
  mutable std::int64_t now_ = kT0;
};

struct Answer {
  unsigned status;
  json body;
};

Answer get(const Api& api, const std::string& path, const QueryParams& params = {}) {
  auto r = api.handle("GET", make_http_target(path, params));
  return {r.status, json::parse(r.body, nullptr, false)};
}

class ApiTest : public ::testing::Test {
 protected:
  static constexpr int kRecords = 120;

  void SetUp() override {
    fx_ = std::make_unique<testing::StoreFixture>("api");
    testing::add_sample_instance(*fx_, kRecords);
    TestRecord hello;
    hello.kind = RecordKind::kLifecycle;
    hello.source = "agent";
    hello.time_ns = kT0;
    hello.line = R"({"event":"hello"})";
    fx_->add_batch("i-1", 2, {hello});
    fx_->hello("i-2", "ami-2", "boot-9", "web-2");
    fx_->goodbye("i-2", "sigterm", true);
    api_ = std::make_unique<Api>(fx_->store(), fx_->metrics(), options_, fx_->clock());
  }

  // Every page of a records query, following next_cursor.
  std::vector<json> pages(const QueryParams& params, const Api* api = nullptr) {
    std::vector<json> out;
    std::string cursor;
    for (int guard = 0; guard < 10'000; ++guard) {
      QueryParams p = params;
      if (!cursor.empty()) p.emplace_back("cursor", cursor);
      auto a = get(api ? *api : *api_, "/v1/instances/i-1/records", p);
      EXPECT_EQ(a.status, 200u) << a.body.dump();
      if (a.status != 200) break;
      out.push_back(a.body);
      if (!a.body["next_cursor"].is_string()) break;
      cursor = a.body["next_cursor"];
    }
    return out;
  }

  // (seq, context) of every record of `pages`, in order.
  static std::vector<std::pair<std::uint64_t, bool>> flatten(const std::vector<json>& pages) {
    std::vector<std::pair<std::uint64_t, bool>> out;
    for (const auto& p : pages)
      for (std::size_t i = 0; i < p["records"].size(); ++i)
        out.emplace_back(p["records"][i]["seq"].get<std::uint64_t>(),
                         p.contains("context") && p["context"][i].get<bool>());
    return out;
  }

  ApiOptions options_;
  std::unique_ptr<testing::StoreFixture> fx_;
  std::unique_ptr<Api> api_;
};

TEST_F(ApiTest, ListsInstancesWithFilters) {
  auto all = get(*api_, "/v1/instances");
  ASSERT_EQ(all.status, 200u);
  ASSERT_EQ(all.body["instances"].size(), 2u);
  const json schema =
      testing::load_json_file(std::string(BLACKBOX_SOURCE_DIR) + "/schemas/instance.schema.json");
  for (const auto& i : all.body["instances"]) {
    auto errors = testing::validate(schema, i);
    EXPECT_TRUE(errors.empty()) << testing::join(errors) << i.dump();
  }
  EXPECT_EQ(all.body["instances"][1]["end"]["kind"], "goodbye");
  EXPECT_EQ(all.body["instances"][1]["end"]["reason"], "sigterm");
  EXPECT_EQ(all.body["instances"][1]["end"]["termination_notice"], true);

  auto terminated = get(*api_, "/v1/instances", {{"state", "terminated"}});
  ASSERT_EQ(terminated.body["instances"].size(), 1u);
  EXPECT_EQ(terminated.body["instances"][0]["instance"], "i-2");
  auto image = get(*api_, "/v1/instances", {{"image", "ami-1"}});
  ASSERT_EQ(image.body["instances"].size(), 1u);
  EXPECT_EQ(image.body["instances"][0]["instance"], "i-1");

  auto first = get(*api_, "/v1/instances", {{"limit", "1"}});
  ASSERT_EQ(first.body["instances"].size(), 1u);
  ASSERT_TRUE(first.body["next_cursor"].is_string());
  auto second =
      get(*api_, "/v1/instances", {{"limit", "1"}, {"cursor", first.body["next_cursor"]}});
  ASSERT_EQ(second.body["instances"].size(), 1u);
  EXPECT_EQ(second.body["instances"][0]["instance"], "i-2");
  EXPECT_TRUE(second.body["next_cursor"].is_null());
}

TEST_F(ApiTest, OneInstanceWithLifecycle) {
  auto a = get(*api_, "/v1/instances/i-2");
  ASSERT_EQ(a.status, 200u);
  EXPECT_EQ(a.body["instance"]["instance"], "i-2");
  const json schema = testing::load_json_file(std::string(BLACKBOX_SOURCE_DIR) +
                                              "/schemas/lifecycle_event.schema.json");
  ASSERT_GE(a.body["lifecycle"].size(), 2u);
  for (const auto& e : a.body["lifecycle"]) {
    auto errors = testing::validate(schema, e);
    EXPECT_TRUE(errors.empty()) << testing::join(errors) << e.dump();
  }
  EXPECT_EQ(a.body["lifecycle"][0]["event"], "hello");
  EXPECT_EQ(a.body["lifecycle"].back()["event"], "goodbye");
  EXPECT_TRUE(a.body["gaps"].is_array());
}

TEST_F(ApiTest, AllRecordsInOrderAndValid) {
  auto p = pages({});
  ASSERT_EQ(p.size(), 1u);
  auto seqs = flatten(p);
  ASSERT_EQ(seqs.size(), static_cast<std::size_t>(kRecords));
  const json schema =
      testing::load_json_file(std::string(BLACKBOX_SOURCE_DIR) + "/schemas/record.schema.json");
  for (int i = 0; i < kRecords; ++i) {
    EXPECT_EQ(seqs[i].first, static_cast<std::uint64_t>(i));
    const json& r = p[0]["records"][i];
    EXPECT_EQ(r["message"], log_record(i).line);
    EXPECT_EQ(r["time_ns"], log_record(i).time_ns);
    auto errors = testing::validate(schema, r);
    ASSERT_TRUE(errors.empty()) << testing::join(errors);
  }
  EXPECT_TRUE(p[0]["follow_cursor"].is_string());
}

TEST_F(ApiTest, FiltersSelectExactlyTheMatchingRecords) {
  struct Case {
    QueryParams params;
    std::function<bool(int)> expect;
  };
  const std::vector<Case> cases = {
      {{{"grep", "ERROR disk"}}, [](int i) { return i % 10 == 7; }},
      {{{"grep", "error"}, {"ignore_case", "1"}}, [](int i) { return i % 10 == 7; }},
      {{{"grep", "^line 1[0-9] "}}, [](int i) { return i >= 10 && i < 20; }},
      {{{"priority", "err"}}, [](int i) { return i % 10 == 7 || i % 25 == 0; }},
      {{{"priority", "crit"}}, [](int i) { return i % 25 == 0 && i % 10 != 7; }},
      {{{"source", "/var/log/db.log"}}, [](int i) { return i % 3 == 0; }},
      {{{"where", "user=bob"}}, [](int i) { return i % 8 == 0; }},
      {{{"where", "user=alice"}, {"where", "n=4"}}, [](int i) { return i == 4; }},
      {{{"since", format_rfc3339_ns(kT0 + 100 * kS)}}, [](int i) { return i >= 100; }},
      {{{"until", std::to_string(kT0 + 5 * kS)}}, [](int i) { return i < 5; }},
      {{{"last", "10s"}}, [](int i) { return i >= kRecords - 10; }},
      {{{"grep", "ok"},
        {"source", "/var/log/app.log"},
        {"since", format_rfc3339_ns(kT0 + 50 * kS)}},
       [](int i) { return i % 10 != 7 && i % 3 != 0 && i >= 50; }},
  };
  for (const auto& c : cases) {
    std::vector<std::uint64_t> want;
    for (int i = 0; i < kRecords; ++i)
      if (c.expect(i)) want.push_back(static_cast<std::uint64_t>(i));
    std::vector<std::uint64_t> got;
    for (const auto& [seq, ctx] : flatten(pages(c.params))) got.push_back(seq);
    EXPECT_EQ(got, want) << json(c.params).dump();
  }
}

TEST_F(ApiTest, LastIsRelativeToTheInstancesLastRecordNotNow) {
  fx_->clock().advance(std::chrono::hours(24 * 30));  // a month later
  auto p = pages({{"last", "10s"}});
  ASSERT_EQ(p.size(), 1u);
  // The anchor is the last *read* time (issue 11 item 3); the fixture's agent reads each record
  // 1000 ns after the time it claims.
  EXPECT_EQ(p[0]["anchor_ns"], kT0 + (kRecords - 1) * kS + 1000);
  EXPECT_EQ(p[0]["records"].size(), 10u);
  EXPECT_EQ(p[0]["records"][0]["seq"], kRecords - 10);
}

TEST_F(ApiTest, PagesConcatenateToTheWholeAnswer) {
  for (const QueryParams& base :
       std::vector<QueryParams>{{},
                                {{"grep", "ERROR"}},
                                {{"grep", "ERROR"}, {"before", "2"}, {"after", "3"}},
                                {{"grep", "line [0-9]*[05] "}, {"before", "1"}, {"after", "1"}},
                                {{"priority", "err"}, {"after", "4"}},
                                {{"where", "user=bob"}, {"before", "5"}}}) {
    const auto whole = flatten(pages(base));
    for (const char* limit : {"1", "2", "3", "7", "50"}) {
      QueryParams p = base;
      p.emplace_back("limit", limit);
      const auto paged = pages(p);
      EXPECT_EQ(flatten(paged), whole) << json(p).dump();
    }
  }
}

TEST_F(ApiTest, ContextStaysWithinTheSameSource) {
  auto p = pages({{"grep", "line 17 "}, {"before", "2"}, {"after", "2"}});
  ASSERT_EQ(p.size(), 1u);
  // 17 is from app.log (17 % 3 != 0): its neighbours in app.log are 14, 16 | 19, 20.
  std::vector<std::pair<std::uint64_t, bool>> want = {
      {14, true}, {16, true}, {17, false}, {19, true}, {20, true}};
  EXPECT_EQ(flatten(p), want);
  EXPECT_EQ(p[0]["group_start"][0], true);
  EXPECT_EQ(p[0]["group_start"][1], false);
}

TEST_F(ApiTest, TimeBudgetPaginatesInsteadOfFailing) {
  TickingClock ticking;
  ApiOptions small = options_;
  small.page.budget = std::chrono::milliseconds(1);
  Api slow(fx_->store(), fx_->metrics(), small, ticking);
  // A plain scan, a grep on the parallel path, a grep with context on the serial one.
  for (const QueryParams& params :
       std::vector<QueryParams>{{}, {{"grep", "ok"}}, {{"grep", "ERROR"}, {"before", "1"}}}) {
    const auto whole = flatten(pages(params));
    const auto paged = pages(params, &slow);
    EXPECT_GE(paged.size(), 2u) << json(params).dump();
    EXPECT_EQ(flatten(paged), whole) << json(params).dump();
  }
}

TEST_F(ApiTest, TailReturnsTheLastMatches) {
  auto a = get(*api_, "/v1/instances/i-1/records", {{"grep", "ERROR"}, {"tail", "3"}});
  ASSERT_EQ(a.status, 200u);
  EXPECT_EQ(flatten({a.body}),
            (std::vector<std::pair<std::uint64_t, bool>>{{97, false}, {107, false}, {117, false}}));
  auto ctx = get(*api_, "/v1/instances/i-1/records",
                 {{"grep", "ERROR"}, {"tail", "1"}, {"before", "1"}, {"after", "5"}});
  // 117 is from db.log (117 % 3 == 0): its db.log neighbours are 114 and none after.
  EXPECT_EQ(flatten({ctx.body}),
            (std::vector<std::pair<std::uint64_t, bool>>{{114, true}, {117, false}}));
  auto none = get(*api_, "/v1/instances/i-1/records", {{"grep", "nothing"}, {"tail", "3"}});
  EXPECT_TRUE(none.body["records"].empty());
}

TEST_F(ApiTest, FollowSeesOnlyNewRecords) {
  auto first = get(*api_, "/v1/instances/i-1/records", {{"tail", "1"}});
  const std::string cursor = first.body["follow_cursor"];
  auto nothing = api_->handle(
      "GET", make_http_target("/v1/instances/i-1/follow", {{"cursor", cursor}, {"wait", "5s"}}));
  EXPECT_TRUE(nothing.poll_again);
  EXPECT_EQ(nothing.poll_wait, std::chrono::seconds(5));
  fx_->add_batch("i-1", 1, {log_record(kRecords), log_record(kRecords + 1)});
  auto more = get(*api_, "/v1/instances/i-1/follow", {{"cursor", cursor}, {"grep", "ok"}});
  ASSERT_EQ(more.status, 200u) << more.body.dump();
  ASSERT_EQ(more.body["records"].size(), 2u);
  EXPECT_EQ(more.body["records"][0]["seq"], kRecords);
  auto after =
      get(*api_, "/v1/instances/i-1/follow", {{"cursor", more.body["cursor"]}, {"wait", "0s"}});
  EXPECT_TRUE(after.body["records"].empty());
}

TEST_F(ApiTest, TimelineCountsErrorsPerMinute) {
  auto a = get(*api_, "/v1/instances/i-1/timeline");
  ASSERT_EQ(a.status, 200u) << a.body.dump();
  std::uint64_t total = 0;
  for (const auto& b : a.body["bursts"]) total += b["count"].get<std::uint64_t>();
  int want = 0;
  for (int i = 0; i < kRecords; ++i) want += (i % 10 == 7 || i % 25 == 0);
  EXPECT_EQ(total, static_cast<std::uint64_t>(want));
  EXPECT_EQ(a.body["bursts"][0]["worst"], "crit");  // record 0
  EXPECT_EQ(a.body["events"][0]["event"], "hello");
  EXPECT_EQ(a.body["records"]["count"], kRecords + 1);
}

TEST_F(ApiTest, ErrorsSayWhatIsWrong) {
  struct Case {
    std::string path;
    QueryParams params;
    unsigned status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"/v1/instances/nope/records", {}, 404, "not_found"},
      {"/v1/instances/nope", {}, 404, "not_found"},
      {"/v1/instances/nope/timeline", {}, 404, "not_found"},
      {"/v1/instances/i-1/records", {{"grep", "(oops"}}, 400, "bad_regex"},
      {"/v1/instances/i-1/records", {{"since", "yesterday"}}, 400, "bad_time"},
      {"/v1/instances/i-1/records", {{"last", "ten minutes"}}, 400, "bad_parameter"},
      {"/v1/instances/i-1/records", {{"grp", "x"}}, 400, "bad_parameter"},
      {"/v1/instances/i-1/records", {{"cursor", "garbage"}}, 400, "bad_cursor"},
      {"/v1/instances/i-1/records", {{"limit", "-1"}}, 400, "bad_parameter"},
      {"/v1/instances/i-1/records", {{"priority", "loud"}}, 400, "bad_parameter"},
      {"/v1/instances/i-1/records", {{"last", "1m"}, {"since", "0"}}, 400, "bad_parameter"},
      {"/v1/instances/i-1/follow", {}, 400, "bad_parameter"},
      {"/v1/instances", {{"state", "dead"}}, 400, "bad_parameter"},
      {"/v2/whatever", {}, 404, "not_found"},
  };
  for (const auto& c : cases) {
    auto a = get(*api_, c.path, c.params);
    EXPECT_EQ(a.status, c.status) << c.path << " " << json(c.params).dump();
    EXPECT_EQ(a.body["error"]["code"], c.code) << a.body.dump();
    EXPECT_FALSE(a.body["error"]["message"].get<std::string>().empty());
  }
  auto post = api_->handle("POST", "/v1/instances");
  EXPECT_EQ(post.status, 405u);
}

TEST_F(ApiTest, MetricsArePrometheusText) {
  get(*api_, "/v1/instances");
  auto r = api_->handle("GET", "/metrics");
  EXPECT_EQ(r.status, 200u);
  EXPECT_NE(r.content_type.find("text/plain"), std::string::npos);
  EXPECT_NE(r.body.find("blackbox_query_requests_total"), std::string::npos);
}

}  // namespace
}  // namespace blackbox::collector::http
