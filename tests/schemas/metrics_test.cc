#include "schemas/metrics.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace blackbox {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(Metrics, RendersPrometheusTextFormat) {
  Metrics m;
  auto& frames = m.counter("blackbox_frames_total", "Frames received.");
  frames += 3;
  m.gauge("blackbox_spool_bytes", "Bytes in the spool.", [] { return 1536.0; });
  EXPECT_EQ(m.render(),
            "# HELP blackbox_frames_total Frames received.\n"
            "# TYPE blackbox_frames_total counter\n"
            "blackbox_frames_total 3\n"
            "# HELP blackbox_spool_bytes Bytes in the spool.\n"
            "# TYPE blackbox_spool_bytes gauge\n"
            "blackbox_spool_bytes 1536\n");
}

TEST(Metrics, LabelledSeriesShareOneHelpAndType) {
  Metrics m;
  m.counter(R"(blackbox_rejects_total{reason="crc"})", "Rejected frames.") += 2;
  m.counter(R"(blackbox_rejects_total{reason="magic"})", "Rejected frames.") += 1;
  EXPECT_EQ(m.render(),
            "# HELP blackbox_rejects_total Rejected frames.\n"
            "# TYPE blackbox_rejects_total counter\n"
            "blackbox_rejects_total{reason=\"crc\"} 2\n"
            "blackbox_rejects_total{reason=\"magic\"} 1\n");
}

TEST(Metrics, SameNameGivesTheSameCounter) {
  Metrics m;
  auto& a = m.counter("x_total", "x");
  auto& b = m.counter("x_total", "x");
  EXPECT_EQ(&a, &b);
  a += 5;
  EXPECT_NE(m.render().find("x_total 5\n"), std::string::npos);
}

// Text format 0.0.4: "All lines for a given metric must be provided as one single group".
// Series of one family registered apart (as components do, module by module) must still be
// rendered together, after a single HELP/TYPE pair.
TEST(Metrics, RenderKeepsEachFamilyContiguous) {
  Metrics m;
  m.counter(R"(a_total{k="1"})", "A.");
  m.counter("b_total", "B.");
  m.counter(R"(a_total{k="2"})", "A.");
  const auto lines = lines_of(m.render());
  std::vector<std::string> families;
  for (const auto& l : lines) {
    if (l.rfind('#', 0) == 0) continue;
    std::string family = l.substr(0, l.find_first_of("{ "));
    if (families.empty() || families.back() != family) families.push_back(family);
  }
  EXPECT_EQ(families, (std::vector<std::string>{"a_total", "b_total"})) << m.render();
}

TEST(Metrics, CountersAreSafeAcrossThreads) {
  Metrics m;
  auto& c = m.counter("n_total", "n");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) c.fetch_add(1, std::memory_order_relaxed);
    });
  for (auto& t : threads) t.join();
  EXPECT_NE(m.render().find("n_total 40000\n"), std::string::npos);
}

}  // namespace
}  // namespace blackbox
