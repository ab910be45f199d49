// The verify endpoints (issue 12 item 5) over a real store: the report as JSON, the verdict in
// "status", parameter errors as 400 and an unknown instance as 404.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "collector/http/api.h"
#include "schemas/http_target.h"
#include "tests/support/store_fixture.h"

namespace blackbox::collector::http {
namespace {

using nlohmann::json;

TEST(VerifyApi, ReportsIntactAndTheVerdictOfEveryInstance) {
  testing::StoreFixture fx("verify-api");
  fx.hello("i-1");
  for (int b = 0; b < 3; ++b) {
    testing::TestRecord r;
    r.time_ns = 1'700'000'000'000'000'000 + b;
    r.line = "line " + std::to_string(b);
    fx.add_batch("i-1", 1, {r, r});
  }
  Api api(fx.store(), fx.metrics(), ApiOptions{}, fx.clock());
  auto r = api.handle("GET", "/v1/instances/i-1/verify");
  ASSERT_EQ(r.status, 200u) << r.body;
  json doc = json::parse(r.body);
  EXPECT_EQ(doc["status"], "intact");
  const json& i = doc["instances"][0];
  EXPECT_EQ(i["instance"], "i-1");
  EXPECT_EQ(i["key"]["note"], "heads not checked: no enrolled key");
  EXPECT_EQ(i["streams"][0]["intact"], json::parse(R"([{"from_seq":0,"to_seq":6}])"));
  EXPECT_EQ(i["streams"][0]["name"], "logs");
  EXPECT_TRUE(i["breaks"].empty());

  r = api.handle("GET", "/v1/verify?all=1");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(json::parse(r.body)["instances"].size(), 1u);

  EXPECT_EQ(api.handle("GET", "/v1/verify").status, 400u);  // all=1 is required
  EXPECT_EQ(api.handle("GET", "/v1/instances/i-1/verify?since=yesterday").status, 400u);
  EXPECT_EQ(api.handle("GET", "/v1/instances/i-1/verify?key=nope").status, 400u);
  EXPECT_EQ(api.handle("GET", "/v1/instances/i-1/verify?colour=1").status, 400u);
  r = api.handle("GET", "/v1/instances/i-none/verify");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "not_found");
  EXPECT_EQ(api.handle("GET", "/v1/instances/i-1/verify?since=0&until=" + std::to_string(INT64_MAX))
                .status,
            200u);
}

}  // namespace
}  // namespace blackbox::collector::http
