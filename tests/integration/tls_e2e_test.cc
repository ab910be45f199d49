// TLS on the ingest port, end to end with the real processes (issue 12 items 1 and 3): the real
// blackbox-collector and blackbox-agent on 127.0.0.1, certificates made at run time by
// tests/support/test_pki (the openssl command), `openssl s_client` for what the agent cannot
// do on purpose (TLS 1.2 only, reading the served certificate). Waits are on log lines and
// metrics (hang guards only).
#include <gtest/gtest.h>
#include <re2/re2.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "query/client/http_client.h"
#include "schemas/http_target.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace blackbox::testing {
namespace {

namespace fs = std::filesystem;
constexpr std::chrono::seconds kDeadline{120};
constexpr int kLines = 200;

void write_file(const std::string& path, const std::string& text, mode_t mode = 0600) {
  std::ofstream(path, std::ios::trunc) << text;
  ::chmod(path.c_str(), mode);
}

class TlsE2E : public ::testing::Test {
 protected:
  TlsE2E() : tmp_("bb-tls"), dir_(tmp_.path()), pki_(dir_), other_(dir_, "other-ca") {
    fs::create_directories(dir_ + "/logs");
    std::string lines;
    for (int i = 0; i < kLines; ++i) lines += "tls line " + std::to_string(i) + "\n";
    write_file(dir_ + "/logs/app.log", lines, 0644);
    server_ = pki_.server("server");
  }
  ~TlsE2E() override {
    for (auto& a : agents_) a.reset();
    collector_.reset();
  }

  std::string tls_section(const std::string& extra = "") const {
    return "[tls]\ncert_file = \"" + server_.cert + "\"\nkey_file = \"" + server_.key + "\"\n" +
           extra;
  }

  // Starts the collector with `toml` as its config; true once it listens (port_ set).
  bool start_collector(const std::string& toml, std::vector<std::string> extra = {},
                       const std::string& listen = "127.0.0.1:0") {
    const std::string config = dir_ + "/collector.toml";
    write_file(config, toml);
    col_log_ = dir_ + "/collector" + std::to_string(++collectors_) + ".log";
    std::vector<std::string> argv{BLACKBOX_COLLECTOR_BIN, "--config", config, "--data-dir",
                                  dir_ + "/data",         "--listen", listen, "--http",
                                  "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    collector_ = std::make_unique<ChildProcess>(argv, col_log_);
    int port = 0, http = 0;
    const bool up = collector_->wait_output(
        [&](const std::string& out) {
          return RE2::PartialMatch(out, R"(listening on [0-9.]+:(\d+))", &port) &&
                 RE2::PartialMatch(out, R"(http on 127\.0\.0\.1:(\d+))", &http);
        },
        kDeadline);
    port_ = static_cast<std::uint16_t>(port);
    http_port_ = static_cast<std::uint16_t>(http);
    return up;
  }
  std::string collector_log() const { return read_file(col_log_); }
  bool collector_says(const std::string& text) {
    return collector_->wait_output(
        [&](const std::string& out) { return out.find(text) != std::string::npos; }, kDeadline);
  }

  // Starts an agent writing as `instance` with `ship` appended to its [ship] section.
  ChildProcess& start_agent(const std::string& instance, const std::string& ship) {
    const std::string n = std::to_string(agents_.size());
    const std::string config = dir_ + "/agent" + n + ".toml";
    write_file(config, "[ship]\nbackoff_max = \"200ms\"\n" + ship);
    agents_.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{BLACKBOX_AGENT_BIN, "--config", config, "--collector",
                                 "127.0.0.1:" + std::to_string(port_), "--instance-id", instance,
                                 "--state-dir", dir_ + "/state" + n, "--file", dir_ + "/logs/*.log",
                                 "--read-from", "beginning", "--metrics-listen", ""},
        dir_ + "/agent" + n + ".log"));
    return *agents_.back();
  }
  static bool says(ChildProcess& p, const std::string& text) {
    return p.wait_output(
        [&](const std::string& out) { return out.find(text) != std::string::npos; }, kDeadline);
  }

  std::string ca_line(const std::string& ca) const { return "tls_ca_file = \"" + ca + "\"\n"; }
  std::string client_line(const TestCert& c) const {
    return "tls_cert_file = \"" + c.cert + "\"\ntls_key_file = \"" + c.key + "\"\n";
  }

  // The collector's records_stored_total (-1 when /metrics cannot be read).
  double stored() const {
    auto addr = parse_server_url("http://127.0.0.1:" + std::to_string(http_port_));
    if (!addr) return -1;
    query::HttpClient client(*addr);
    auto r = client.get("/metrics");
    if (!r) return -1;
    double v = -1;
    RE2::PartialMatch(r->body, R"((?m)^blackbox_collector_records_stored_total (\d+))", &v);
    return v;
  }
  bool stored_at_least(double n) const {
    return poll_until([&] { return stored() >= n; }, kDeadline);
  }

  // `openssl s_client` against the collector: its exit code and output (served certificate).
  RunResult s_client(const std::vector<std::string>& extra, const std::string& pipe = "") const {
    std::string cmd = "/usr/bin/openssl s_client -connect 127.0.0.1:" + std::to_string(port_) +
                      " -CAfile " + pki_.ca_file() + " -verify_return_error";
    for (const auto& e : extra) cmd += " " + e;
    return run({"/bin/sh", "-c", cmd + " </dev/null" + pipe}, dir_);
  }
  std::string served_serial() const {
    RunResult r = s_client({"2>/dev/null"}, " | /usr/bin/openssl x509 -noout -serial");
    while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
    return r.out;
  }

  TempDir tmp_;
  std::string dir_;
  TestPki pki_;
  TestPki other_;
  TestCert server_;
  std::unique_ptr<ChildProcess> collector_;
  std::vector<std::unique_ptr<ChildProcess>> agents_;
  std::string col_log_;
  int collectors_ = 0;
  std::uint16_t port_ = 0, http_port_ = 0;
};

TEST_F(TlsE2E, AgentShipsOverTlsAndTheCollectorSaysSo) {
  ASSERT_TRUE(start_collector(tls_section())) << collector_log();
  EXPECT_NE(collector_log().find("ingest 127.0.0.1:0: TLS 1.3"), std::string::npos);
  auto& agent = start_agent("i-tls", "tls = true\n" + ca_line(pki_.ca_file()));
  ASSERT_TRUE(says(agent, "ship: connected to")) << read_file(agent.out_path());
  EXPECT_TRUE(stored_at_least(kLines)) << stored();
}

TEST_F(TlsE2E, AgentRefusesACollectorItCannotVerify) {
  ASSERT_TRUE(start_collector(tls_section())) << collector_log();
  auto& wrong_ca = start_agent("i-v", "tls = true\n" + ca_line(other_.ca_file()));
  EXPECT_TRUE(says(wrong_ca,
                   "the collector's certificate was refused: unable to get local "
                   "issuer certificate"))
      << read_file(wrong_ca.out_path());
  wrong_ca.kill9();
  auto& wrong_name = start_agent("i-v", "tls = true\n" + ca_line(pki_.ca_file()) +
                                            "tls_server_name = \"collector.example\"\n");
  EXPECT_TRUE(says(wrong_name, "the collector's certificate was refused: hostname mismatch"))
      << read_file(wrong_name.out_path());
  EXPECT_EQ(stored(), 0);
}

TEST_F(TlsE2E, Tls12RefusedByDefaultAcceptedWhenConfigured) {
  ASSERT_TRUE(start_collector(tls_section())) << collector_log();
  EXPECT_NE(s_client({"-tls1_2"}).exit_code, 0);
  EXPECT_EQ(s_client({"-tls1_3"}).exit_code, 0);
  collector_.reset();
  ASSERT_TRUE(start_collector(tls_section("min_version = \"1.2\"\n"))) << collector_log();
  EXPECT_NE(collector_log().find("TLS 1.2+"), std::string::npos);
  const RunResult r = s_client({"-tls1_2"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("TLSv1.2"), std::string::npos) << r.out;
}

TEST_F(TlsE2E, MtlsInstanceComesFromTheCertificate) {
  ASSERT_TRUE(start_collector(tls_section("client_ca_file = \"" + pki_.ca_file() + "\"\n")))
      << collector_log();
  EXPECT_NE(collector_log().find("mTLS (identity from URI SAN blackbox://instance/)"),
            std::string::npos);
  const TestCert a = pki_.issue("client-a", "agent a", "URI:blackbox://instance/i-a");

  // i-a's certificate, HELLO naming i-b: refused, nothing stored.
  auto& borrower = start_agent("i-b", "tls = true\n" + ca_line(pki_.ca_file()) + client_line(a));
  EXPECT_TRUE(says(borrower, "identity_mismatch")) << read_file(borrower.out_path());
  EXPECT_TRUE(says(borrower, "the client certificate is for instance i-a, not i-b"));
  EXPECT_EQ(stored(), 0);
  borrower.kill9();

  // i-a's certificate writing as i-a: stored.
  auto& owner = start_agent("i-a", "tls = true\n" + ca_line(pki_.ca_file()) + client_line(a));
  ASSERT_TRUE(says(owner, "ship: connected to")) << read_file(owner.out_path());
  EXPECT_TRUE(stored_at_least(kLines)) << stored();
}

TEST_F(TlsE2E, MtlsIdentityFromDnsSanOrCn) {
  ASSERT_TRUE(start_collector(
      tls_section("client_ca_file = \"" + pki_.ca_file() + "\"\nidentity = \"cn\"\n")))
      << collector_log();
  const TestCert cn = pki_.issue("client-cn", "i-cn", "DNS:i-dns");
  auto& dns_as_cn =
      start_agent("i-dns", "tls = true\n" + ca_line(pki_.ca_file()) + client_line(cn));
  EXPECT_TRUE(says(dns_as_cn, "the client certificate is for instance i-cn, not i-dns"))
      << read_file(dns_as_cn.out_path());
  dns_as_cn.kill9();
  auto& by_cn = start_agent("i-cn", "tls = true\n" + ca_line(pki_.ca_file()) + client_line(cn));
  ASSERT_TRUE(says(by_cn, "ship: connected to")) << read_file(by_cn.out_path());
  by_cn.kill9();

  collector_.reset();
  ASSERT_TRUE(start_collector(
      tls_section("client_ca_file = \"" + pki_.ca_file() + "\"\nidentity = \"dns_san\"\n")))
      << collector_log();
  auto& by_dns = start_agent("i-dns", "tls = true\n" + ca_line(pki_.ca_file()) + client_line(cn));
  ASSERT_TRUE(says(by_dns, "ship: connected to")) << read_file(by_dns.out_path());
}

TEST_F(TlsE2E, MtlsRefusesWrongCaExpiredAndMissingClientCertificates) {
  ASSERT_TRUE(start_collector(tls_section("client_ca_file = \"" + pki_.ca_file() + "\"\n")))
      << collector_log();
  const std::string trust = "tls = true\n" + ca_line(pki_.ca_file());
  struct Case {
    std::string ship, collector_says;
  };
  const TestCert stranger = other_.issue("stranger", "x", "URI:blackbox://instance/i-x");
  const TestCert expired = pki_.issue("expired", "x", "URI:blackbox://instance/i-x", -1);
  for (const Case& c : {Case{trust + client_line(stranger), "unable to get local issuer"},
                        Case{trust + client_line(expired), "certificate has expired"},
                        Case{trust, "peer did not return a certificate"}}) {
    auto& agent = start_agent("i-x", c.ship);
    EXPECT_TRUE(collector_says(c.collector_says)) << collector_log();
    EXPECT_TRUE(says(agent, "alert")) << read_file(agent.out_path());  // the TLS alert it got
    agent.kill9();
  }
  EXPECT_EQ(stored(), 0);
}

TEST_F(TlsE2E, PlaintextAgentOnTheTlsPortGetsAClearErrorOnBothSides) {
  ASSERT_TRUE(start_collector(tls_section())) << collector_log();
  auto& agent = start_agent("i-plain", "");
  EXPECT_TRUE(says(agent, "this collector requires TLS on this port: set ship.tls = true"))
      << read_file(agent.out_path());
  EXPECT_TRUE(collector_says("plaintext connection on the TLS port from 127.0.0.1:"));
  EXPECT_TRUE(collector_says("the agent needs ship.tls = true"));
  EXPECT_EQ(stored(), 0);
}

TEST_F(TlsE2E, TlsAgentOnAPlaintextPortSaysTheCollectorDoesNotSpeakTls) {
  ASSERT_TRUE(start_collector("")) << collector_log();
  auto& agent = start_agent("i-tls", "tls = true\n" + ca_line(pki_.ca_file()));
  EXPECT_TRUE(says(agent, "the collector does not speak TLS on this port"))
      << read_file(agent.out_path());
  EXPECT_EQ(stored(), 0);
}

TEST_F(TlsE2E, SighupServesTheNewCertificateAndKeepsTheOldOnABadOne) {
  ASSERT_TRUE(start_collector(tls_section())) << collector_log();
  const std::string first = served_serial();
  EXPECT_EQ(first, cert_serial(server_.cert));
  const TestCert next = pki_.server("server-next");
  fs::copy_file(next.cert, server_.cert, fs::copy_options::overwrite_existing);
  fs::copy_file(next.key, server_.key, fs::copy_options::overwrite_existing);
  collector_->signal(SIGHUP);
  ASSERT_TRUE(collector_says("reloaded; new connections use it")) << collector_log();
  EXPECT_EQ(served_serial(), cert_serial(next.cert));
  EXPECT_NE(served_serial(), first);

  write_file(server_.cert, "not a certificate\n", 0644);
  collector_->signal(SIGHUP);
  ASSERT_TRUE(collector_says("TLS reload failed, keeping the previous certificate"))
      << collector_log();
  EXPECT_EQ(served_serial(), cert_serial(next.cert));
}

TEST_F(TlsE2E, NonLoopbackWithoutAuthenticationNeedsInsecure) {
  ASSERT_FALSE(start_collector("", {}, "0.0.0.0:0"));
  EXPECT_EQ(collector_->wait_exit(kDeadline), 2);
  const std::string refusal = collector_log();
  EXPECT_NE(refusal.find("the ingest listener 0.0.0.0:0 is not a loopback address"),
            std::string::npos)
      << refusal;
  EXPECT_NE(refusal.find("pass --insecure"), std::string::npos);

  ASSERT_TRUE(start_collector("", {"--insecure"}, "0.0.0.0:0")) << collector_log();
  EXPECT_NE(collector_log().find("--insecure: ingest 0.0.0.0:0: plaintext (no TLS), NO "
                                 "AUTHENTICATION"),
            std::string::npos)
      << collector_log();
  collector_.reset();

  write_file(dir_ + "/fleet.secret", "s3cret\n");
  ASSERT_TRUE(start_collector("[collector]\nauth_secret_file = \"" + dir_ + "/fleet.secret\"\n", {},
                              "0.0.0.0:0"))
      << collector_log();
  EXPECT_NE(collector_log().find("plaintext (no TLS), token auth"), std::string::npos);
}

TEST_F(TlsE2E, SecretsOthersCanReadAreRefusedNamingTheChmod) {
  ::chmod(server_.key.c_str(), 0644);
  ASSERT_FALSE(start_collector(tls_section()));
  EXPECT_NE(collector_->wait_exit(kDeadline).value_or(0), 0);
  EXPECT_NE(collector_log().find("run: chmod 600 " + server_.key), std::string::npos)
      << collector_log();
  ::chmod(server_.key.c_str(), 0600);

  write_file(dir_ + "/fleet.secret", "s3cret\n", 0644);
  ASSERT_FALSE(start_collector("[collector]\nauth_secret_file = \"" + dir_ + "/fleet.secret\"\n"));
  EXPECT_NE(collector_->wait_exit(kDeadline).value_or(0), 0);
  EXPECT_NE(collector_log().find("run: chmod 600 " + dir_ + "/fleet.secret"), std::string::npos)
      << collector_log();

  const std::string inline_config = dir_ + "/inline.toml";
  write_file(inline_config, "[collector]\nauth_secret = \"s3cret\"\n", 0644);
  RunResult r = run({BLACKBOX_COLLECTOR_BIN, "--config", inline_config, "--data-dir",
                     dir_ + "/data", "--listen", "127.0.0.1:0", "--http", ""},
                    dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("move it to auth_secret_file, mode 600"), std::string::npos) << r.err;

  ASSERT_TRUE(start_collector(tls_section("client_ca_file = \"" + pki_.ca_file() + "\"\n")));
  const TestCert a = pki_.issue("client-a", "a", "URI:blackbox://instance/i-a");
  ::chmod(a.key.c_str(), 0640);
  auto& agent = start_agent("i-a", "tls = true\n" + ca_line(pki_.ca_file()) + client_line(a));
  EXPECT_TRUE(agent.wait_exit(kDeadline).has_value());
  EXPECT_NE(read_file(agent.out_path()).find("run: chmod 600 " + a.key), std::string::npos)
      << read_file(agent.out_path());
}

}  // namespace
}  // namespace blackbox::testing
