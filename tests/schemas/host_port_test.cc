// The one HOST:PORT parser (schemas/host_port.h): names, IPv4, bracketed IPv6, port range.
#include "schemas/host_port.h"

#include <gtest/gtest.h>

namespace blackbox {
namespace {

TEST(HostPort, NamesAndAddresses) {
  auto a = parse_host_port("0.0.0.0:7700");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 7700);
  auto b = parse_host_port("collector.internal:65535");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "collector.internal");
  EXPECT_EQ(b->port, 65535);
}

TEST(HostPort, BracketedIpv6) {
  auto a = parse_host_port("[::1]:0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 0);
  auto b = parse_host_port("[2001:db8::7]:7700");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "2001:db8::7");
  EXPECT_EQ(format_host_port(*b), "[2001:db8::7]:7700");
  EXPECT_FALSE(parse_host_port("::1:7700"));  // IPv6 without brackets is ambiguous
  EXPECT_FALSE(parse_host_port("[::1"));
}

TEST(HostPort, MissingOrInvalidPort) {
  EXPECT_FALSE(parse_host_port("host:99999"));
  EXPECT_FALSE(parse_host_port("host:65536"));
  EXPECT_FALSE(parse_host_port("host"));
  EXPECT_FALSE(parse_host_port("host:"));
  EXPECT_FALSE(parse_host_port("host:http"));
  EXPECT_FALSE(parse_host_port("host:-1"));
  EXPECT_FALSE(parse_host_port("nohost"));
}

TEST(HostPort, MissingHostOrExtraParts) {
  EXPECT_FALSE(parse_host_port(":80"));
  EXPECT_FALSE(parse_host_port(""));
  EXPECT_FALSE(parse_host_port("user@host:80"));
  EXPECT_FALSE(parse_host_port("host:80/path"));
  EXPECT_FALSE(parse_host_port("http://host:80"));
}

TEST(HostPort, FormatReadsBack) {
  for (const char* s : {"127.0.0.1:9466", "[::1]:7700", "c1:7000"}) {
    auto a = parse_host_port(s);
    ASSERT_TRUE(a) << s;
    EXPECT_EQ(format_host_port(*a), s);
  }
}

}  // namespace
}  // namespace blackbox
