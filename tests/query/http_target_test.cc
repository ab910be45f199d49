#include "schemas/http_target.h"

#include <gtest/gtest.h>

#include "collector/http/cursor.h"

namespace blackbox {
namespace {

TEST(HttpTarget, RoundTripsAwkwardValues) {
  const QueryParams params = {
      {"grep", "a b&c=d?%"}, {"where", "k=v"}, {"where", "x=ü"}, {"grep", "job [0-9]+ r+"}};
  const std::string target =
      make_http_target("/v1/instances/" + encode_path_segment("i/1 x") + "/records", params);
  auto t = parse_http_target(target);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->segments, (std::vector<std::string>{"v1", "instances", "i/1 x", "records"}));
  EXPECT_EQ(t->params, params);
}

TEST(HttpTarget, ParsesServerUrls) {
  auto a = parse_server_url("http://127.0.0.1:8787");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8787);
  EXPECT_EQ(a->base_path, "");
  auto b = parse_server_url("localhost:9000/bb/");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "localhost");
  EXPECT_EQ(b->port, 9000);
  EXPECT_EQ(b->base_path, "/bb");
  EXPECT_EQ(parse_server_url("http://example.org")->port, 80);
  for (const char* bad : {"https://x:1", "ftp://x", "http://u:p@x:1", "http://x:1/?q", "http://"})
    EXPECT_FALSE(parse_server_url(bad)) << bad;
}

TEST(Cursor, RecordsCursorRoundTrips) {
  collector::http::RecordsCursor c;
  c.since = -5;
  c.until = INT64_MAX;
  c.scan_from = {-100, 1, 10, 12};
  c.emit_from = {-100, 1, 10, 15};
  c.keys.push_back({1, collector::http::source_hash("/var/log/a"), 12, 2});
  c.keys.push_back({2, 0xffffffffffffffffull, collector::http::kNoSeq, 1});
  auto back = collector::http::decode_records_cursor(collector::http::encode_records_cursor(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, c);
  for (const char* bad : {"", "r1", "r2.0.0.0_0_0_0.0_0_0_0", "r1.0.0.0_0_0_5.0_0_0_1",
                          "r1.0.0.0_0_0_0.0_0_0_0.x", "f1.3"})
    EXPECT_FALSE(collector::http::decode_records_cursor(bad)) << bad;
  EXPECT_EQ(*collector::http::decode_follow_cursor(collector::http::encode_follow_cursor(77)), 77u);
  EXPECT_EQ(*collector::http::decode_instances_cursor(
                collector::http::encode_instances_cursor("i-\x01z")),
            "i-\x01z");
}

}  // namespace
}  // namespace blackbox
