// Access control of the query API end to end with real processes (issue 12 item 4): the
// blackbox-collector binary serving HTTPS with bearer tokens (CA and server certificate made
// by the `openssl` command at run time), a HELLO over real TCP, and the `blackbox` CLI with
// BLACKBOX_TOKEN, --token-file and --ca-file: refusals (401, 403) with their exit codes,
// messages and log lines; hold and release of a running collector's instance, persisted across
// a restart; the start refusals (non-loopback API without tokens, a world-readable tokens file).
#include <gtest/gtest.h>
#include <re2/re2.h>
#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>

#include "query/client/http_client.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_agent.h"

namespace blackbox::testing {
namespace {

using collector::testing::test_hello;
using collector::testing::TestConnection;
using nlohmann::json;

constexpr const char* kReadToken = "e2e-read-token-0123456789abcdef";
constexpr const char* kAdminToken = "e2e-admin-token-0123456789abcdef";

class ApiAuthE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    // A test CA and a server certificate for 127.0.0.1, made now (never committed).
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:P-256", "-nodes", "-keyout", dir_ + "/ca.key", "-out",
              dir_ + "/ca.pem", "-days", "2", "-subj", "/CN=blackbox test CA"},
             {"/usr/bin/openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-keyout", dir_ + "/server.key", "-out", dir_ + "/server.csr", "-subj",
              "/CN=127.0.0.1"},
             {"/usr/bin/openssl", "x509", "-req", "-in", dir_ + "/server.csr", "-CA",
              dir_ + "/ca.pem", "-CAkey", dir_ + "/ca.key", "-CAcreateserial", "-out",
              dir_ + "/server.pem", "-days", "2", "-extfile", dir_ + "/san.ext"}}) {
      if (argv[1] == "x509") std::ofstream(dir_ + "/san.ext") << "subjectAltName=IP:127.0.0.1\n";
      auto r = run(argv, dir_);
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    ASSERT_EQ(::chmod((dir_ + "/server.key").c_str(), 0600), 0);
    write_private(dir_ + "/tokens", std::string("# ROLE NAME TOKEN\nread alice ") + kReadToken +
                                        "\nadmin ops " + kAdminToken + "\n");
    write_private(dir_ + "/admin.token", std::string(kAdminToken) + "\n");
    std::ofstream(dir_ + "/collector.toml")
        << "[api]\ntokens_file = \"" << dir_ << "/tokens\"\ncert_file = \"" << dir_
        << "/server.pem\"\nkey_file = \"" << dir_ << "/server.key\"\n";
  }
  void TearDown() override { collector_.reset(); }

  static void write_private(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  }

  // Starts the collector (HTTPS + tokens) and waits for both listeners' ports in its log.
  void start_collector() {
    const std::size_t from = file_size(dir_ + "/collector.err");
    collector_ = std::make_unique<ChildProcess>(
        ChildOptions{{BLACKBOX_COLLECTOR_BIN, "--config", dir_ + "/collector.toml", "--data-dir",
                      dir_ + "/data", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0"},
                     dir_ + "/collector.err",
                     "",
                     {}});
    ASSERT_TRUE(collector_->wait_output(
        [&](const std::string& log) {
          return RE2::PartialMatch(log, R"(listening on 127\.0\.0\.1:(\d+))", &agent_port_) &&
                 RE2::PartialMatch(log, R"(http on 127\.0\.0\.1:(\d+) \(https\))", &http_port_);
        },
        std::chrono::seconds(120), from))
        << read_file(dir_ + "/collector.err");
    server_ = "https://127.0.0.1:" + std::to_string(http_port_);
  }
  void stop_collector() {
    collector_->signal(SIGTERM);
    ASSERT_EQ(collector_->wait_exit(std::chrono::seconds(120)), 0);
    collector_.reset();
  }

  RunResult cli(std::vector<std::string> args, const std::vector<std::string>& env = {},
                bool ca = true) {
    std::vector<std::string> argv = {BLACKBOX_CLI_BIN, "--server", server_, "--no-pager"};
    if (ca) {
      argv.push_back("--ca-file");
      argv.push_back(dir_ + "/ca.pem");
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, dir_, env);
  }
  bool log_has(const std::string& text) {
    return collector_->wait_output(
        [&](const std::string& log) { return log.find(text) != std::string::npos; },
        std::chrono::seconds(120));
  }

  TempDir tmp_{"bb-api-auth"};
  std::string dir_;
  std::unique_ptr<ChildProcess> collector_;
  int agent_port_ = 0;
  int http_port_ = 0;
  std::string server_;
};

const std::string kReadEnv = std::string("BLACKBOX_TOKEN=") + kReadToken;

TEST_F(ApiAuthE2E, HttpsTokensHoldAndReleaseThroughTheCli) {
  start_collector();
  TestConnection agent;  // a running instance
  ASSERT_TRUE(agent.connect(static_cast<std::uint16_t>(agent_port_)));
  ASSERT_TRUE(agent.hello(test_hello("i-e2e")));

  // No token: a clear message and exit code 7, logged by the collector.
  auto none = cli({"instances"});
  EXPECT_EQ(none.exit_code, 7) << none.out << none.err;
  EXPECT_NE(none.err.find("needs a bearer token: set BLACKBOX_TOKEN or pass --token-file"),
            std::string::npos)
      << none.err;
  EXPECT_TRUE(log_has("refused GET /v1/instances from 127.0.0.1: no bearer token (401)"));
  auto wrong = cli({"instances"}, {"BLACKBOX_TOKEN=not-the-token-at-all-000"});
  EXPECT_EQ(wrong.exit_code, 7) << wrong.err;
  EXPECT_NE(wrong.err.find("does not accept this token"), std::string::npos) << wrong.err;

  // A read token: queries work over HTTPS; an admin action is 403, exit 8, logged by name.
  auto list = cli({"instances"}, {kReadEnv});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("i-e2e"), std::string::npos) << list.out;
  auto forbidden = cli({"hold", "i-e2e"}, {kReadEnv});
  EXPECT_EQ(forbidden.exit_code, 8) << forbidden.err;
  EXPECT_NE(forbidden.err.find("permission denied: token 'alice' has role read"), std::string::npos)
      << forbidden.err;
  EXPECT_TRUE(
      log_has("refused POST /v1/instances/i-e2e/hold from 127.0.0.1: token 'alice' has "
              "role read, needs admin (403)"));
  EXPECT_EQ(read_file(dir_ + "/collector.err").find(kReadToken), std::string::npos)
      << "a token was logged";

  // Without the CA the certificate is not trusted.
  auto untrusted = cli({"instances"}, {kReadEnv}, /*ca=*/false);
  EXPECT_EQ(untrusted.exit_code, 3) << untrusted.err;
  EXPECT_NE(untrusted.err.find("certificate verify failed"), std::string::npos) << untrusted.err;
  auto via_env = cli({"instances"}, {kReadEnv, "BLACKBOX_CA_FILE=" + dir_ + "/ca.pem"}, false);
  EXPECT_EQ(via_env.exit_code, 0) << via_env.err;

  // The admin token from a private file: unknown id refused unless forced; hold the live one.
  const std::string token_file = dir_ + "/admin.token";
  auto unknown = cli({"hold", "i-nobody", "--token-file", token_file});
  EXPECT_EQ(unknown.exit_code, 4) << unknown.err;
  EXPECT_NE(unknown.err.find("no instance i-nobody: pass force to hold it anyway"),
            std::string::npos)
      << unknown.err;
  auto forced = cli({"hold", "i-nobody", "--force", "--token-file", token_file});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  auto held = cli({"hold", "i-e2e", "--token-file", token_file});
  EXPECT_EQ(held.exit_code, 0) << held.err;
  EXPECT_NE(held.out.find("held i-e2e"), std::string::npos) << held.out;
  auto table = cli({"instances"}, {kReadEnv});
  EXPECT_NE(table.out.find("legal hold"), std::string::npos) << table.out;

  // The hold is stored: a restarted collector still has it.
  agent.close();
  stop_collector();
  start_collector();
  auto after = cli({"instances", "-o", "json"}, {kReadEnv});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  json arr = json::parse(after.out);
  ASSERT_EQ(arr.size(), 1u);
  EXPECT_EQ(arr[0]["legal_hold"], true);

  auto released = cli({"release", "i-e2e"}, {std::string("BLACKBOX_TOKEN=") + kAdminToken});
  EXPECT_EQ(released.exit_code, 0) << released.err;
  arr = json::parse(cli({"instances", "-o", "json"}, {kReadEnv}).out);
  EXPECT_EQ(arr[0]["legal_hold"], false);

  // The audit records name the token, never hold it.
  query::HttpClientOptions o;
  o.bearer_token = kReadToken;
  o.ca_file = dir_ + "/ca.pem";
  query::HttpClient http({"127.0.0.1", static_cast<std::uint16_t>(http_port_), "", true}, o);
  auto doc = http.get("/v1/instances/i-e2e");
  ASSERT_TRUE(doc) << http.tls_error();
  auto events = json::parse(doc->body, nullptr, false);
  std::vector<std::string> actions;
  for (const auto& e : events.value("lifecycle", json::array()))
    if (e["event"] == "admin") {
      actions.push_back(e["reason"]);
      EXPECT_EQ(e["detail"]["actor"], "ops");
    }
  EXPECT_EQ(actions, (std::vector<std::string>{"legal_hold", "release"})) << events.dump();

  // A token file others can read is refused with the chmod that fixes it.
  ASSERT_EQ(::chmod(token_file.c_str(), 0644), 0);
  auto open_file = cli({"instances", "--token-file", token_file});
  EXPECT_EQ(open_file.exit_code, 2) << open_file.err;
  EXPECT_NE(open_file.err.find("chmod 600 " + token_file), std::string::npos) << open_file.err;
}

TEST_F(ApiAuthE2E, StartIsRefusedForAnOpenApiOrAWorldReadableTokensFile) {
  const std::vector<std::string> base = {BLACKBOX_COLLECTOR_BIN, "--data-dir",
                                         dir_ + "/data",         "--listen",
                                         "127.0.0.1:0",          "--check-config"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = base;
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv, dir_);
  };
  auto open = with({"--http", "0.0.0.0:8787"});
  EXPECT_EQ(open.exit_code, 2) << open.out << open.err;
  EXPECT_NE(open.err.find("collector.http is 0.0.0.0:8787, not a loopback address, and "
                          "api.tokens_file is not set"),
            std::string::npos)
      << open.err;
  auto insecure = with({"--http", "0.0.0.0:8787", "--insecure"});
  EXPECT_EQ(insecure.exit_code, 0) << insecure.err;
  auto loopback = with({"--http", "127.0.0.1:8787"});
  EXPECT_EQ(loopback.exit_code, 0) << loopback.err;
  auto tokens = with({"--http", "0.0.0.0:8787", "--config", dir_ + "/collector.toml"});
  EXPECT_EQ(tokens.exit_code, 0) << tokens.err;

  ASSERT_EQ(::chmod((dir_ + "/tokens").c_str(), 0644), 0);
  auto readable = with({"--http", "127.0.0.1:8787", "--config", dir_ + "/collector.toml"});
  EXPECT_EQ(readable.exit_code, 2) << readable.err;
  EXPECT_NE(readable.err.find("run: chmod 600 " + dir_ + "/tokens"), std::string::npos)
      << readable.err;
}

}  // namespace
}  // namespace blackbox::testing
