// Issue 11 item 5 on the query API: crowded sockets do not lock out queries. Real sockets on
// loopback; the crowd connects from other loopback addresses (127.0.0.2...) so that "another
// client" is another address, as it is in production. Every assertion is about what is
// answered (200, 503), never how fast: waits are hang guards only.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "collector/http/http_server.h"
#include "query/client/http_client.h"
#include "schemas/http_target.h"
#include "tests/collector/query/sample_instance.h"
#include "tests/support/child_process.h"

namespace blackbox::collector::http {
namespace {

using namespace std::chrono_literals;

// A blocking TCP connection to 127.0.0.1:port from `source` (a loopback address).
class RawClient {
 public:
  RawClient(const std::string& source, std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(RawClient&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  bool ok() const { return fd_ >= 0; }
  bool send(const std::string& s) {
    return ok() && ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }

 private:
  int fd_ = -1;
};

// "127.0.0.<2 + i / per>": `per` connections from each of the crowd's addresses.
std::string crowd_address(int i, int per) { return "127.0.0." + std::to_string(2 + i / per); }

struct Served {
  testing::StoreFixture fx{"http-crowd"};
  SystemClock clock;
  std::unique_ptr<HttpServer> server;

  explicit Served(const HttpServerOptions& o, int records = 100) {
    testing::add_sample_instance(fx, records);
    auto s = HttpServer::start(o, fx.store(), fx.metrics(), clock);
    EXPECT_TRUE(s);
    if (s) server = std::move(*s);
  }
  std::uint16_t port() const { return server->port(); }
  // A normal query from 127.0.0.1; the status, or 0 when it got no answer.
  unsigned normal_query() {
    blackbox::query::HttpClient client(HttpServerAddress{"127.0.0.1", port(), ""});
    auto r = client.get("/v1/instances", 120s);  // a hang guard, not a pace
    return r ? r->status : 0;
  }
  std::uint64_t counter(const std::string& name) { return fx.metrics().counter(name, "").load(); }
};

TEST(HttpCrowd, IdleAndSlowConnectionsAtTheCapDoNotLockOutAQuery) {
  HttpServerOptions o;
  o.port = 0;  // max_connections 256, 32 per client: the defaults
  Served s(o);
  std::vector<RawClient> crowd;
  for (int i = 0; i < 256; ++i) {
    crowd.emplace_back(crowd_address(i, 16), s.port());
    ASSERT_TRUE(crowd.back().ok());
    // Half send nothing, half a request header that never ends (slowloris).
    if (i % 2) {
      ASSERT_TRUE(crowd.back().send("GET /v1/instances HTTP/1.1\r\nHost: x\r\nX-A: "));
    }
  }
  ASSERT_TRUE(blackbox::testing::poll_until(
      [&] { return s.counter("blackbox_query_connections_accepted_total") >= 256; }, 120s));
  EXPECT_EQ(s.normal_query(), 200u);
  EXPECT_GE(s.counter("blackbox_query_connections_evicted_total"), 1u);
}

TEST(HttpCrowd, OneClientGetsAtMostItsShareOfConnections) {
  HttpServerOptions o;
  o.port = 0;
  o.max_connections_per_client = 8;
  Served s(o);
  std::vector<RawClient> crowd;
  for (int i = 0; i < 20; ++i) crowd.emplace_back("127.0.0.2", s.port());
  ASSERT_TRUE(blackbox::testing::poll_until(
      [&] {
        return s.counter("blackbox_query_connections_refused_total{reason=\"per_client\"}") >= 12;
      },
      120s));
  EXPECT_EQ(s.counter("blackbox_query_connections_refused_total{reason=\"per_client\"}"), 12u);
  EXPECT_EQ(s.normal_query(), 200u);  // another address is not affected
}

TEST(HttpCrowd, AGreedyClientQueuesBehindItselfNotInFrontOfOthers) {
  HttpServerOptions o;
  o.port = 0;
  o.max_pending_queries = 8;  // fewer than the greedy client's connections
  Served s(o, 20'000);
  // 32 connections from one address, each with 20 heavy queries pipelined: a regex search that
  // no index can skip, over 20,000 records.
  const std::string heavy =
      "GET " + make_http_target("/v1/instances/i-1/records", {{"grep", "line [0-9]*x.*z$"}}) +
      " HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string pipeline;
  for (int k = 0; k < 20; ++k) pipeline += heavy;
  std::vector<RawClient> greedy;
  for (int i = 0; i < 32; ++i) {
    greedy.emplace_back("127.0.0.2", s.port());
    ASSERT_TRUE(greedy.back().send(pipeline));
  }
  // Before the change, the greedy queries filled the pending count and this was a 503.
  EXPECT_EQ(s.normal_query(), 200u);
  EXPECT_EQ(s.counter("blackbox_query_busy_rejects_total"), 0u);
}

}  // namespace
}  // namespace blackbox::collector::http
