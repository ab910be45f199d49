// The HttpServer's /follow long poll over a real socket: a follow asked before the next commit
// comes back with that commit's records. When the request arrives first (the usual order),
// its empty answer waits for the ingest watcher; when it arrives after, it finds the records
// at once. Either way the answer holds them; a watcher that never woke would answer empty.
#include "collector/http/http_server.h"

#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>

#include "query/client/http_client.h"
#include "schemas/http_target.h"
#include "tests/collector/query/sample_instance.h"

namespace blackbox::collector::http {
namespace {

using nlohmann::json;

TEST(HttpServer, FollowLongPollWakesOnTheNextCommit) {
  testing::StoreFixture fx("http-follow");
  testing::add_sample_instance(fx, 10);
  HttpServerOptions options;
  options.port = 0;
  SystemClock clock;
  auto server = HttpServer::start(options, fx.store(), fx.metrics(), clock);
  ASSERT_TRUE(server);
  const HttpServerAddress address{"127.0.0.1", (*server)->port(), ""};
  const std::string cursor = "f1." + std::to_string(fx.store().last_ingest_seq());
  // The longest wait the API allows: a watcher that never woke would answer empty after it.
  auto waiting = std::async(std::launch::async, [&] {
    blackbox::query::HttpClient client(address);
    return client.get(
        make_http_target("/v1/instances/i-1/follow", {{"cursor", cursor}, {"wait", "60s"}}),
        std::chrono::minutes(2));
  });
  fx.add_batch("i-1", 1, {testing::log_record(10), testing::log_record(11)});
  auto res = waiting.get();
  ASSERT_TRUE(res) << res.error().message();
  ASSERT_EQ(res->status, 200u) << res->body;
  const json body = json::parse(res->body);
  ASSERT_EQ(body["records"].size(), 2u) << res->body;
  EXPECT_EQ(body["records"][0]["seq"], 10);
}

}  // namespace
}  // namespace blackbox::collector::http
