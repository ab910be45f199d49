// schemas/http_target.h: the query API's request targets and server URLs, built and parsed.
#include "schemas/http_target.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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
  EXPECT_FALSE(b->https);
  auto s = parse_server_url("https://collector.example:8443");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->https);
  EXPECT_EQ(s->port, 8443);
  EXPECT_EQ(parse_server_url("https://example.org")->port, 443);
  for (const char* bad : {"ftp://x", "http://u:p@x:1", "http://x:1/?q", "http://"})
    EXPECT_FALSE(parse_server_url(bad)) << bad;
}

}  // namespace
}  // namespace blackbox
