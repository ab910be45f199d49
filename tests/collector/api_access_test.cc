// Access control and admin actions of the query API (issue 12 item 4): a real collector with
// RocksDB in a temp dir, its real HTTP API on 127.0.0.1:0, real agents' HELLOs over TCP, a
// tokens file written by the test (mode 600; one test makes it world-readable).
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "collector/http/access.h"
#include "tests/collector/http_collector.h"
#include "tests/collector/test_agent.h"

namespace blackbox::collector::testing {
namespace {

using nlohmann::json;

constexpr const char* kReadToken = "read-token-0123456789abcdef";
constexpr const char* kAdminToken = "admin-token-0123456789abcdef";

class AccessTest : public HttpCollectorTest {
 protected:
  void SetUp() override {
    tokens_ = dir_.sub("tokens");
    std::ofstream(tokens_) << "# role name token\nread alice " << kReadToken << "\n\nadmin ops "
                           << kAdminToken << "\n";
    ASSERT_EQ(::chmod(tokens_.c_str(), 0600), 0);
  }
  void start_with_tokens() {
    start([this](Config& c) { c.api.tokens_file = tokens_; });
  }
  // Stops the collector and its API (as TearDown does) and starts both again on the same
  // data dir.
  void restart() {
    collector_->stop();
    http_.reset();
    collector_.reset();
    start_with_tokens();
  }

  blackbox::query::HttpResponse call(const std::string& method, const std::string& target,
                                     const std::string& token) {
    blackbox::query::HttpClientOptions o;
    o.bearer_token = token;
    blackbox::query::HttpClient client({"127.0.0.1", http_->port(), ""}, o);
    auto res = client.request(method, target, std::chrono::seconds(60));
    EXPECT_TRUE(res) << res.error().message();
    return res ? *res : blackbox::query::HttpResponse{};
  }
  json call_json(const std::string& method, const std::string& target, const std::string& token,
                 unsigned want_status) {
    auto r = call(method, target, token);
    EXPECT_EQ(r.status, want_status) << method << " " << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }
  double metric(const std::string& series) {
    auto r = call("GET", "/metrics", kReadToken);
    const auto at = r.body.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(r.body.substr(at + series.size() + 2));
  }
  TestConnection hello(const std::string& instance) {
    TestConnection c;
    EXPECT_TRUE(c.connect(port()));
    EXPECT_TRUE(c.hello(test_hello(instance)));
    return c;
  }
  // The admin audit events of `instance` (from its instance JSON).
  std::vector<json> audits(const std::string& instance) {
    json doc = call_json("GET", "/v1/instances/" + instance, kReadToken, 200);
    std::vector<json> out;
    for (const auto& e : doc["lifecycle"])
      if (e["event"] == "admin") out.push_back(e);
    return out;
  }

  std::string tokens_;
};

TEST(TokenTable, ParsesRolesNamesAndCommentsAndNamesEachBadLine) {
  std::string why;
  auto t = http::TokenTable::parse(
      "# comment\nread alice 0123456789abcdef0123\n  \nadmin ops Zm9vYmFyYmF6cXV4MTIzNA==\n", "f",
      why);
  ASSERT_TRUE(t) << why;
  EXPECT_EQ(t->size(), 2u);
  EXPECT_EQ(t->count(http::Role::kAdmin), 1u);
  ASSERT_NE(t->find("0123456789abcdef0123"), nullptr);
  EXPECT_EQ(t->find("0123456789abcdef0123")->name, "alice");
  EXPECT_EQ(t->find("Zm9vYmFyYmF6cXV4MTIzNA==")->role, http::Role::kAdmin);
  EXPECT_EQ(t->find("0123456789abcdef012"), nullptr);  // a prefix is not the token
  EXPECT_EQ(t->find(""), nullptr);

  auto bad = http::TokenTable::parse(
      "write bob 0123456789abcdef0123\nread carol short\nread alice 0123456789abcdef0123\n"
      "read alice 1123456789abcdef0123\nread dave\n",
      "f", why);
  EXPECT_FALSE(bad);
  EXPECT_NE(why.find("f:1: role 'write' is not read or admin"), std::string::npos) << why;
  EXPECT_NE(why.find("f:2: the token of 'carol' must be at least 16"), std::string::npos) << why;
  EXPECT_NE(why.find("f:4: name 'alice' is used twice"), std::string::npos) << why;
  EXPECT_NE(why.find("f:5: expected ROLE NAME TOKEN"), std::string::npos) << why;
}

TEST(TokenTable, AuthorizeDecidesByHeaderAndRole) {
  std::string why;
  auto t = http::TokenTable::parse(
      std::string("read alice ") + kReadToken + "\nadmin ops " + kAdminToken + "\n", "f", why);
  ASSERT_TRUE(t) << why;
  using http::Denial;
  using http::Role;
  EXPECT_EQ(http::authorize(nullptr, "", Role::kAdmin).denial, Denial::kNone);
  EXPECT_EQ(http::authorize(&*t, "", Role::kNone).denial, Denial::kNone);
  EXPECT_EQ(http::authorize(&*t, "", Role::kRead).denial, Denial::kMissingToken);
  EXPECT_EQ(http::authorize(&*t, "Basic YWxpY2U6eA==", Role::kRead).denial, Denial::kMissingToken);
  EXPECT_EQ(http::authorize(&*t, "Bearer nope-nope-nope-nope", Role::kRead).denial,
            Denial::kBadToken);
  EXPECT_EQ(http::authorize(&*t, std::string("bearer ") + kReadToken, Role::kRead).denial,
            Denial::kNone);
  auto f = http::authorize(&*t, std::string("Bearer ") + kReadToken, Role::kAdmin);
  EXPECT_EQ(f.denial, Denial::kForbidden);
  EXPECT_EQ(f.entry->name, "alice");
  EXPECT_EQ(http::authorize(&*t, std::string("Bearer ") + kAdminToken, Role::kRead).denial,
            Denial::kNone);
}

TEST_F(AccessTest, WorldReadableTokensFileIsRefusedWithTheChmodToRun) {
  ASSERT_EQ(::chmod(tokens_.c_str(), 0644), 0);
  std::string why;
  EXPECT_FALSE(http::TokenTable::load(tokens_, why));
  EXPECT_NE(why.find("chmod 600 " + tokens_), std::string::npos) << why;
  Config c = test_config(dir_.sub("db"));
  c.api.tokens_file = tokens_;
  const auto problems = http::http_problems(c, {});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("chmod 600"), std::string::npos) << problems[0];
}

TEST_F(AccessTest, NonLoopbackApiWithoutTokensIsRefusedUnlessInsecure) {
  Config c = test_config(dir_.sub("db"));
  c.collector.http = "127.0.0.1:0";
  EXPECT_TRUE(http::http_problems(c, {}).empty());
  c.collector.http = "[::1]:0";
  EXPECT_TRUE(http::http_problems(c, {}).empty());
  c.collector.http = "0.0.0.0:8787";
  auto problems = http::http_problems(c, {});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("not a loopback address, and api.tokens_file is not set"),
            std::string::npos)
      << problems[0];
  EXPECT_NE(problems[0].find("--insecure"), std::string::npos);
  EXPECT_TRUE(http::http_problems(c, {.insecure = true}).empty());
  c.api.tokens_file = tokens_;
  EXPECT_TRUE(http::http_problems(c, {}).empty());
}

TEST_F(AccessTest, NoTokenWrongTokenAndReadTokenOnAdminAreRefusedAndCounted) {
  start_with_tokens();
  auto none = call("GET", "/v1/instances", "");
  EXPECT_EQ(none.status, 401u) << none.body;
  EXPECT_NE(none.body.find("needs a bearer token"), std::string::npos) << none.body;
  auto wrong = call("GET", "/v1/instances", "not-a-token-of-this-collector");
  EXPECT_EQ(wrong.status, 401u) << wrong.body;
  EXPECT_EQ(call("GET", "/metrics", "").status, 401u);
  EXPECT_EQ(call("GET", "/v1/instances/i-1/records", "").status, 401u);
  auto forbidden = call("POST", "/v1/instances/i-1/hold?force=1", kReadToken);
  EXPECT_EQ(forbidden.status, 403u) << forbidden.body;
  EXPECT_NE(forbidden.body.find("token 'alice' has role read"), std::string::npos);
  EXPECT_NE(forbidden.body.find("needs role admin"), std::string::npos);
  EXPECT_FALSE(store().legal_hold("i-1"));
  // The health probe needs no token; queries take a read or an admin token.
  EXPECT_EQ(call("GET", "/v1/health", "").status, 200u);
  EXPECT_EQ(call("GET", "/v1/instances", kReadToken).status, 200u);
  EXPECT_EQ(call("GET", "/v1/instances", kAdminToken).status, 200u);
  EXPECT_EQ(metric("blackbox_query_auth_denied_total{reason=\"missing_token\"}"), 3.0);
  EXPECT_EQ(metric("blackbox_query_auth_denied_total{reason=\"bad_token\"}"), 1.0);
  EXPECT_EQ(metric("blackbox_query_auth_denied_total{reason=\"forbidden\"}"), 1.0);
}

TEST_F(AccessTest, The401AnswerCarriesWwwAuthenticateBearer) {
  start_with_tokens();
  // A raw exchange: the header is what a generic HTTP client goes by.
  TestConnection c;
  ASSERT_TRUE(c.connect(http_->port()));
  ASSERT_TRUE(c.send_raw("GET /v1/instances HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string answer;
  char buf[4096];
  for (;;) {  // until the server closes (Connection: close); the poll is a hang guard
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, 60'000) <= 0) break;
    const auto n = ::read(c.fd(), buf, sizeof buf);
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_NE(answer.find("HTTP/1.1 401"), std::string::npos) << answer;
  EXPECT_NE(answer.find("WWW-Authenticate: Bearer realm=\"blackbox\""), std::string::npos)
      << answer;
}

TEST_F(AccessTest, AdminHoldsAndReleasesARunningInstanceWithAuditAndItSurvivesARestart) {
  start_with_tokens();
  auto agent = hello("i-live");
  json held = call_json("POST", "/v1/instances/i-live/hold", kAdminToken, 200);
  EXPECT_EQ(held["legal_hold"], true);
  EXPECT_EQ(held["changed"], true);
  EXPECT_TRUE(store().legal_hold("i-live"));
  json doc = call_json("GET", "/v1/instances/i-live", kReadToken, 200);
  EXPECT_EQ(doc["instance"]["legal_hold"], true);
  json list = call_json("GET", "/v1/instances", kReadToken, 200);
  ASSERT_EQ(list["instances"].size(), 1u);
  EXPECT_EQ(list["instances"][0]["legal_hold"], true);

  auto a = audits("i-live");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]["reason"], "legal_hold");
  EXPECT_EQ(a[0]["detail"]["actor"], "ops");
  EXPECT_EQ(a[0]["detail"]["peer"], "127.0.0.1");
  EXPECT_EQ(a[0]["detail"]["forced"], false);

  restart();
  EXPECT_TRUE(store().legal_hold("i-live"));
  doc = call_json("GET", "/v1/instances/i-live", kReadToken, 200);
  EXPECT_EQ(doc["instance"]["legal_hold"], true);

  json released = call_json("DELETE", "/v1/instances/i-live/hold", kAdminToken, 200);
  EXPECT_EQ(released["legal_hold"], false);
  EXPECT_FALSE(store().legal_hold("i-live"));
  a = audits("i-live");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1]["reason"], "release");
  EXPECT_EQ(a[1]["detail"]["actor"], "ops");
}

TEST_F(AccessTest, HoldingAnUnknownInstanceIsAnErrorUnlessForced) {
  start_with_tokens();
  json err = call_json("POST", "/v1/instances/i-never/hold", kAdminToken, 404);
  EXPECT_EQ(err["error"]["message"], std::string("no instance i-never: pass force to hold it "
                                                 "anyway (the collector never heard from it; "
                                                 "check the id with `blackbox instances`)"));
  EXPECT_FALSE(store().legal_hold("i-never"));
  json forced = call_json("POST", "/v1/instances/i-never/hold?force=1", kAdminToken, 200);
  EXPECT_EQ(forced["forced"], true);
  EXPECT_TRUE(store().legal_hold("i-never"));
  json holds = call_json("GET", "/v1/holds", kReadToken, 200);
  EXPECT_EQ(holds["holds"], json::array({"i-never"}));
  auto events = store().lifecycle_events("i-never");
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kind, LifecycleKind::kAdmin);
  json detail = json::parse((*events)[0].detail_json);
  EXPECT_EQ(detail["forced"], true);
  EXPECT_EQ(detail["actor"], "ops");
  // Releasing what is neither known nor held: an error, no audit record.
  call_json("DELETE", "/v1/instances/i-nothing/hold", kAdminToken, 404);
  EXPECT_TRUE(store().lifecycle_events("i-nothing")->empty());
  // A parameter the endpoint does not take is an error, never ignored.
  call_json("POST", "/v1/instances/i-never/hold?froce=1", kAdminToken, 400);
}

TEST_F(AccessTest, ReenrollForgetsTheKeyListsEnrollmentsAndAudits) {
  start_with_tokens();
  auto agent = hello("i-rebuilt");
  Enrollment e;
  e.instance = "i-rebuilt";
  e.public_key = Ed25519Key::generate()->public_key();
  e.enrolled_ns = kStartNs;
  e.secret_name = "fleet";
  e.peer = "127.0.0.1:5555";
  ASSERT_TRUE(store().put_enrollment(e));
  json list = call_json("GET", "/v1/enrollments", kReadToken, 200);
  ASSERT_EQ(list["enrollments"].size(), 1u);
  EXPECT_EQ(list["enrollments"][0]["instance"], "i-rebuilt");
  EXPECT_EQ(list["enrollments"][0]["key"], ed25519_fingerprint(e.public_key));
  EXPECT_EQ(list["enrollments"][0]["secret_name"], "fleet");
  EXPECT_EQ(list["enrollments"][0]["peer"], "127.0.0.1:5555");

  call_json("POST", "/v1/instances/i-rebuilt/reenroll", kReadToken, 403);
  json r = call_json("POST", "/v1/instances/i-rebuilt/reenroll", kAdminToken, 200);
  EXPECT_EQ(r["previous_key"], ed25519_fingerprint(e.public_key));
  auto now = store().enrollment("i-rebuilt");
  ASSERT_TRUE(now);
  EXPECT_FALSE(now->has_value());
  auto a = audits("i-rebuilt");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]["reason"], "reenroll");
  EXPECT_EQ(a[0]["detail"]["actor"], "ops");
  call_json("POST", "/v1/instances/i-rebuilt/reenroll", kAdminToken, 404);
  EXPECT_EQ(audits("i-rebuilt").size(), 1u);
}

TEST_F(AccessTest, WithoutTokensTheLoopbackApiAnswersEveryone) {
  start();
  EXPECT_EQ(call("GET", "/v1/instances", "").status, 200u);
  auto agent = hello("i-open");
  json held = call_json("POST", "/v1/instances/i-open/hold", "", 200);
  auto a = audits("i-open");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(a[0]["detail"]["actor"].is_null());
}

}  // namespace
}  // namespace blackbox::collector::testing
