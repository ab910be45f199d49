// Issue 11 item 5 on the agent port: the real blackbox-collector started under
// `prlimit --nofile=1024:1024` (the common ulimit, nothing to raise it to) and 1,100 connections
// that send nothing. Before, accept ran out of descriptors, RocksDB could not open a file and
// the collector exited. Now its connection cap fits under the limit with a reserve for RocksDB
// and the HTTP API: the excess is answered ERROR busy (counted), the collector stays up, a real
// agent still ships once the idle ones time out, and a query still answers. Counts are bounded;
// waits are hang guards, never paces.
#include <gtest/gtest.h>
#include <poll.h>
#include <re2/re2.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "query/client/http_client.h"
#include "schemas/http_target.h"
#include "tests/collector/fixture.h"
#include "tests/support/child_process.h"
#include "tests/support/test_agent.h"

namespace blackbox::collector::testing {
namespace {

using blackbox::testing::ChildOptions;
using blackbox::testing::ChildProcess;
using blackbox::testing::read_file;

constexpr int kIdle = 1100;

TEST(Crowd, ElevenHundredIdleConnectionsUnderUlimit1024AreRefusedBusyNotFatal) {
  TempDir dir("crowd");
  const std::string log = dir.sub("collector.log");
  ChildProcess collector(ChildOptions{
      {"/usr/bin/prlimit", "--nofile=1024:1024", "--", BLACKBOX_COLLECTOR_BINARY, "--data-dir",
       dir.sub("db"), "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "info"},
      log,
      "",
      {}});
  int port = 0, http_port = 0, cap = 0;
  ASSERT_TRUE(collector.wait_output(
      [&](const std::string& out) {
        return RE2::PartialMatch(out, "listening on 127\\.0\\.0\\.1:(\\d+)", &port) &&
               RE2::PartialMatch(out, "http on 127\\.0\\.0\\.1:(\\d+)", &http_port) &&
               RE2::PartialMatch(out, "at most (\\d+) agent connections", &cap);
      },
      120s))
      << read_file(log);
  EXPECT_NE(read_file(log).find("open-file limit 1024 (soft was 1024, hard 1024)"),
            std::string::npos)
      << read_file(log);
  ASSERT_GT(cap, 0);
  ASSERT_LT(cap, kIdle);

  std::vector<TestConnection> idle(kIdle);
  for (auto& c : idle) ASSERT_TRUE(c.connect(static_cast<std::uint16_t>(port)));
  // Every connection gets an answer: ERROR busy at once for those over the cap, ERROR timeout
  // (no HELLO within hello_timeout) for the ones taken.
  std::vector<pollfd> fds;
  for (auto& c : idle) fds.push_back(pollfd{c.fd(), POLLIN, 0});
  std::vector<bool> answered(kIdle, false);
  int busy = 0, timeout = 0, other = 0;
  ASSERT_TRUE(eventually([&] {
    if (::poll(fds.data(), fds.size(), 100) < 0) return false;
    for (int i = 0; i < kIdle; ++i) {
      if (answered[i] || fds[i].revents == 0) continue;
      answered[i] = true;
      fds[i].fd = -1;  // poll ignores it from now on
      auto f = idle[i].read_frame(10s);
      auto e = f ? as_error(*f) : std::nullopt;
      (e && e->code == Errc::kBusy ? busy : e && e->code == Errc::kTimeout ? timeout : other)++;
    }
    return busy + timeout + other == kIdle;
  })) << busy
      << " busy, " << timeout << " timeout, " << other << " other\n"
      << read_file(log);
  EXPECT_GE(busy, 1);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(busy + timeout, kIdle);
  ASSERT_TRUE(collector.running()) << read_file(log);
  idle.clear();

  // A real agent ships, and the query API answers with its lines.
  const std::string lines = dir.sub("app.log");
  {
    std::ofstream out(lines);
    for (int i = 0; i < 50; ++i) out << "crowd line " << i << "\n";
  }
  ChildProcess agent(ChildOptions{
      {BLACKBOX_AGENT_BINARY, "--collector", "127.0.0.1:" + std::to_string(port), "--instance-id",
       "i-crowd", "--state-dir", dir.sub("agent"), "--file", lines, "--read-from", "beginning",
       "--metrics-listen", "127.0.0.1:0", "--log-level", "info"},
      dir.sub("agent.log"),
      "",
      {}});
  blackbox::query::HttpClient http(
      HttpServerAddress{"127.0.0.1", static_cast<std::uint16_t>(http_port), ""});
  int found = 0;
  ASSERT_TRUE(eventually([&] {
    auto r = http.get(make_http_target("/v1/instances/i-crowd/records",
                                       {{"grep", "crowd line"}, {"limit", "100"}}));
    if (!r || r->status != 200) return false;
    auto body = nlohmann::json::parse(r->body, nullptr, false);
    found = body.is_object() ? static_cast<int>(body["records"].size()) : 0;
    return found == 50;
  })) << found
      << " of 50 lines\n"
      << read_file(dir.sub("agent.log")) << read_file(log);
  auto metrics = http.get("/metrics");
  ASSERT_TRUE(metrics && metrics->status == 200);
  double counted = 0;
  EXPECT_TRUE(RE2::PartialMatch(
      metrics->body, "blackbox_collector_rejects_total\\{reason=\"busy\"\\} (\\d+)", &counted));
  EXPECT_GE(counted, busy);
  EXPECT_TRUE(collector.running());
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait_exit(120s), 0) << read_file(dir.sub("agent.log"));
  collector.signal(SIGTERM);
  EXPECT_EQ(collector.wait_exit(120s), 0) << read_file(log);
}

}  // namespace
}  // namespace blackbox::collector::testing
