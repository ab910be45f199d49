// Issue 11 item 8: silence can be alerted on. The collector's /metrics (served by the real HTTP
// query API) shows instances by state, stored sequence gaps and agent gap records by reason,
// and refused connections by reason — every series present from the start (at 0), so that an
// alert rule sees it — changing as instances go running → silent → running → terminated.
// Silence is driven by an injected clock, never by waiting for real time to pass.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <optional>

#include "schemas/batch.h"
#include "schemas/gap_body.h"
#include "schemas/streams.h"
#include "schemas/zstd_codec.h"
#include "tests/collector/http_collector.h"
#include "tests/collector/test_agent.h"

namespace blackbox::collector::testing {
namespace {

constexpr std::int64_t kMinuteNs = 60'000'000'000;

class SilenceMetricsTest : public HttpCollectorTest {
 protected:
  void SetUp() override {
    start([](Config& c) {
      c.lifecycle.silent_after_ms = 60'000;  // by the injected clock
      c.server.max_connections = 3;
    });
  }

  // The value of one series on GET /metrics; nullopt when it is absent.
  std::optional<double> metric(const std::string& series) {
    double v = 0;
    if (!RE2::PartialMatch(get_body("/metrics"),
                           "(?m)^" + RE2::QuoteMeta(series) + R"( ([0-9.e+-]+)$)", &v))
      return std::nullopt;
    return v;
  }
  bool metric_becomes(const std::string& series, double want) {
    return eventually([&] { return metric(series) == want; });
  }
  static std::string instances(const char* state) {
    return std::string("blackbox_collector_instances{state=\"") + state + "\"}";
  }
  bool states_are(double running, double silent, double terminated) {
    return eventually([&] {
      return metric(instances("running")) == running && metric(instances("silent")) == silent &&
             metric(instances("terminated")) == terminated;
    });
  }

  TestConnection hello(const std::string& instance) {
    TestConnection c;
    EXPECT_TRUE(c.connect(port()));
    EXPECT_TRUE(c.hello(test_hello(instance)));
    return c;
  }
  // Sends `frame` and reads until an ACK (batches) or GOODBYE (goodbye) answers it.
  static void send_answered(TestConnection& c, FrameType type, const std::string& payload,
                            FrameType answer) {
    ASSERT_TRUE(c.send_frame(type, payload));
    for (int i = 0; i < 10; ++i) {
      auto f = c.read_frame(std::chrono::seconds(30));
      ASSERT_TRUE(f) << "no answer";
      ASSERT_NE(f->type, FrameType::kError) << as_error(*f)->message;
      if (f->type == answer) return;
    }
    FAIL() << "no answer of the expected type";
  }
};

TEST_F(SilenceMetricsTest, GaugesFollowInstancesThroughSilenceAndTermination) {
  // Present from the start, at 0: an alert on them needs the series to exist.
  EXPECT_TRUE(states_are(0, 0, 0));
  EXPECT_EQ(metric("blackbox_collector_stored_gaps{reason=\"sequence\"}"), 0.0);
  EXPECT_EQ(metric("blackbox_collector_agent_gaps_total{reason=\"truncated\"}"), 0.0);
  EXPECT_EQ(metric("blackbox_collector_rejects_total{reason=\"busy\"}"), 0.0);

  {  // two instances run; one ends cleanly
    auto a = hello("i-a");
    auto b = hello("i-b");
    EXPECT_TRUE(states_are(2, 0, 0));
    send_answered(a, FrameType::kGoodbye, encode_goodbye(Goodbye{"sigterm", false}),
                  FrameType::kGoodbye);
    EXPECT_TRUE(states_are(1, 0, 1));

    // A gap the collector sees (a batch after a missing range) and one the agent reports.
    StreamSource src(kStreamLogs);
    send_answered(b, FrameType::kBatch, src.next_batch(10), FrameType::kAck);
    BatchHeader after_gap;
    send_answered(b, FrameType::kBatch, src.make_batch(20, 5, src.head(), &after_gap),
                  FrameType::kAck);
    GapBody gap(gap_reason::kTruncated, "/var/log/app.log");
    gap.lost_bytes = 4096;
    const std::string body = encode_gap_body(gap);
    BatchBuilder bb;
    RecordData r;
    r.kind = RecordKind::kGap;
    r.event_time_ns = r.read_time_ns = clock_.wall_ns();
    r.source = "/var/log/app.log";
    r.line = body;
    bb.add(r);
    std::string gap_batch;
    ZstdCompressor z(1);
    ASSERT_TRUE(bb.seal(kStreamLogs, 25, after_gap.hash, &z, gap_batch));
    send_answered(b, FrameType::kBatch, gap_batch, FrameType::kAck);
    EXPECT_TRUE(metric_becomes("blackbox_collector_stored_gaps{reason=\"sequence\"}", 1));
    EXPECT_TRUE(metric_becomes("blackbox_collector_agent_gaps_total{reason=\"truncated\"}", 1));
  }

  // No word from i-b for longer than silent_after (by the collector's clock): silent.
  clock_.advance(2 * kMinuteNs);
  EXPECT_TRUE(states_are(0, 1, 1));

  {  // i-b comes back, then ends cleanly
    auto b = hello("i-b");
    EXPECT_TRUE(states_are(1, 0, 1));
    send_answered(b, FrameType::kGoodbye, encode_goodbye(Goodbye{"sigterm", false}),
                  FrameType::kGoodbye);
    EXPECT_TRUE(states_are(0, 0, 2));
  }

  // A refused connection is counted by its reason.
  {
    std::vector<TestConnection> held;
    for (int i = 0; i < 3; ++i) held.push_back(hello("i-hold-" + std::to_string(i)));
    TestConnection extra;
    ASSERT_TRUE(extra.connect(port()));
    EXPECT_TRUE(extra.wait_closed(std::chrono::seconds(30)));
    EXPECT_TRUE(metric_becomes("blackbox_collector_rejects_total{reason=\"busy\"}", 1));
  }
}

}  // namespace
}  // namespace blackbox::collector::testing
