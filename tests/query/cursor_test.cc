// collector/http/cursor.h: the query API's opaque page cursors round-trip and reject garbage.
#include "collector/http/cursor.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace blackbox {
namespace {

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
