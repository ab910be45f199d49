#include "schemas/bytes.h"

#include "tests/schemas/generators.h"

#include <gtest/gtest.h>

#include <string>

namespace blackbox {
namespace {

using testing::SeededRng;

TEST(Bytes, FixedWidthByteOrder) {
  std::string le, be;
  bytes::put_le<std::uint32_t>(le, 0x01020304);
  bytes::put_be<std::uint32_t>(be, 0x01020304);
  EXPECT_EQ(le, "\x04\x03\x02\x01");
  EXPECT_EQ(be, "\x01\x02\x03\x04");
  EXPECT_EQ(bytes::load_le<std::uint32_t>(le.data()), 0x01020304u);
  EXPECT_EQ(bytes::load_be<std::uint32_t>(be.data()), 0x01020304u);
  std::string neg;
  bytes::put_le<std::int64_t>(neg, -2);
  EXPECT_EQ(neg, "\xfe\xff\xff\xff\xff\xff\xff\xff");
  EXPECT_EQ(bytes::load_le<std::int64_t>(neg.data()), -2);
}

TEST(Bytes, VarintRoundTripsAndKnownEncodings) {
  std::string s;
  bytes::put_varint(s, 300);
  EXPECT_EQ(s, "\xac\x02");
  s.clear();
  bytes::put_varint(s, UINT64_MAX);
  EXPECT_EQ(s, std::string(9, '\xff') + "\x01");
  SeededRng rng;
  SCOPED_TRACE(rng.trace());
  for (int i = 0; i < 10'000; ++i) {
    const std::uint64_t v = rng.u64() >> rng.range(0, 63);
    std::string enc;
    bytes::put_varint(enc, v);
    bytes::Reader r(enc);
    std::uint64_t back = 0;
    ASSERT_TRUE(r.varint(back));
    ASSERT_EQ(back, v);
    ASSERT_TRUE(r.empty());
  }
}

TEST(Bytes, VarintRejectsOverflowAndTruncation) {
  std::uint64_t v;
  const std::string two_to_64 = std::string(9, '\xff') + "\x02";
  bytes::Reader over(two_to_64);
  EXPECT_FALSE(over.varint(v));
  const std::string eleven_bytes = std::string(10, '\x80') + std::string(1, '\0');
  bytes::Reader eleven(eleven_bytes);
  EXPECT_FALSE(eleven.varint(v));
  bytes::Reader cut("\x80\x80");
  EXPECT_FALSE(cut.varint(v));
  bytes::Reader empty("");
  EXPECT_FALSE(empty.varint(v));
}

TEST(Bytes, ReaderChecksLengthsBeforeUse) {
  std::string s;
  bytes::put_string(s, "hello");
  bytes::Reader r(s);
  std::string_view out;
  EXPECT_FALSE(bytes::Reader(s).string(out, 4));  // over the caller's cap
  ASSERT_TRUE(r.string(out));
  EXPECT_EQ(out, "hello");
  std::string lie;
  bytes::put_varint(lie, UINT64_MAX);
  lie += "x";
  bytes::Reader l(lie);
  EXPECT_FALSE(l.string(out));
  bytes::Reader raw("abc");
  EXPECT_FALSE(raw.raw(4, out));
  EXPECT_TRUE(raw.raw(3, out));
  std::uint32_t u;
  EXPECT_FALSE(bytes::Reader("abc").le(u));
}

}  // namespace
}  // namespace blackbox
