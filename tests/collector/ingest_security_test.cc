// describe_ingest_security (issue 12 item 3): nothing listens beyond loopback unauthenticated
// unless --insecure; the start line names the effective TLS and auth modes.
#include "collector/ingest_security.h"

#include <gtest/gtest.h>

namespace blackbox::collector {
namespace {

Config on(const std::string& listen) {
  Config c;
  c.collector.listen = listen;
  return c;
}

TEST(IngestSecurity, DefaultIsLoopbackAndAllowed) {
  const Config c;
  EXPECT_EQ(c.collector.listen, "127.0.0.1:7700");
  const auto s = describe_ingest_security(c, false);
  EXPECT_TRUE(s.allowed);
  EXPECT_TRUE(s.loopback);
  EXPECT_EQ(s.summary,
            "ingest 127.0.0.1:7700: plaintext (no TLS), no authentication (loopback only)");
  EXPECT_TRUE(describe_ingest_security(on("[::1]:7700"), false).loopback);
  EXPECT_TRUE(describe_ingest_security(on("localhost:7700"), false).loopback);
  EXPECT_TRUE(describe_ingest_security(on("127.0.0.2:7700"), false).allowed);
}

TEST(IngestSecurity, NonLoopbackUnauthenticatedNeedsTheInsecureFlag) {
  for (const char* addr : {"0.0.0.0:7700", "10.1.2.3:7700", "[::]:7700", "collector:7700"}) {
    const auto s = describe_ingest_security(on(addr), false);
    EXPECT_FALSE(s.allowed) << addr;
    EXPECT_NE(s.refusal.find(std::string(addr) + " is not a loopback address"), std::string::npos)
        << s.refusal;
    EXPECT_NE(s.refusal.find("--insecure"), std::string::npos);
    EXPECT_TRUE(describe_ingest_security(on(addr), true).allowed) << addr;
  }
  EXPECT_NE(describe_ingest_security(on("0.0.0.0:7700"), true).summary.find("NO AUTHENTICATION"),
            std::string::npos);
}

TEST(IngestSecurity, AnyAuthenticationModeAllowsNonLoopback) {
  Config token = on("0.0.0.0:7700");
  token.collector.auth_secret_file = "/etc/blackbox/fleet.secret";
  auto s = describe_ingest_security(token, false);
  EXPECT_TRUE(s.allowed);
  EXPECT_EQ(s.summary, "ingest 0.0.0.0:7700: plaintext (no TLS), token auth");

  Config tls_only = on("0.0.0.0:7700");
  tls_only.tls.cert_file = "c.pem";
  tls_only.tls.key_file = "k.pem";
  EXPECT_FALSE(describe_ingest_security(tls_only, false).allowed);  // TLS alone: no client auth

  Config mtls = tls_only;
  mtls.tls.client_ca_file = "ca.pem";
  mtls.collector.auth_secret = "x";
  s = describe_ingest_security(mtls, false);
  EXPECT_TRUE(s.allowed);
  EXPECT_EQ(s.summary,
            "ingest 0.0.0.0:7700: TLS 1.3, mTLS (identity from URI SAN blackbox://instance/), "
            "token auth");
  mtls.tls.min_version = "1.2";
  mtls.tls.identity = "cn";
  EXPECT_NE(describe_ingest_security(mtls, false).summary.find("TLS 1.2+, mTLS (identity from CN)"),
            std::string::npos);
}

TEST(IngestSecurity, TlsKeysAreValidated) {
  Config c;
  c.tls.key_file = "k.pem";
  c.tls.min_version = "1.1";
  c.tls.identity = "serial";
  const auto p = validate(c);
  auto has = [&](const std::string& text) {
    for (const auto& s : p)
      if (s.find(text) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has("tls.cert_file and tls.key_file go together"));
  EXPECT_TRUE(has("tls.min_version"));
  EXPECT_TRUE(has("tls.identity"));
}

}  // namespace
}  // namespace blackbox::collector
