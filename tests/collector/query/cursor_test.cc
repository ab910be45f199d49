// The engine's resume positions (collector/query/cursor.h) as opaque text and back.
#include "collector/query/cursor.h"

#include <gtest/gtest.h>

namespace blackbox::collector::query {
namespace {

TEST(Cursor, RecordsCursorRoundTrips) {
  RecordsCursor c;
  c.since = -5;
  c.until = INT64_MAX;
  c.scan_from = {-100, 1, 10, 12};
  c.emit_from = {-100, 1, 10, 15};
  c.keys.push_back({1, source_hash("/var/log/a"), 12, 2});
  c.keys.push_back({2, 0xffffffffffffffffull, kNoSeq, 1});
  auto back = decode_records_cursor(encode_records_cursor(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, c);
  for (const char* bad : {"", "r1", "r2.0.0.0_0_0_0.0_0_0_0", "r1.0.0.0_0_0_5.0_0_0_1",
                          "r1.0.0.0_0_0_0.0_0_0_0.x", "f1.3"})
    EXPECT_FALSE(decode_records_cursor(bad)) << bad;
  EXPECT_EQ(*decode_follow_cursor(encode_follow_cursor(77)), 77u);
  EXPECT_EQ(*decode_instances_cursor(encode_instances_cursor("i-\x01z")), "i-\x01z");
}

}  // namespace
}  // namespace blackbox::collector::query
