// End-to-end agent benchmark (issue 3): a file of N lines of ~200 bytes already on disk →
// the real blackbox-agent (default compression and fsync policy) → a sink that acknowledges
// at once (the agent tests' TestPeer, headers checked, no decompression). Reports lines/s and
// MB/s end to end, the agent's CPU seconds per GB of lines, and its peak RSS.
//   agent_e2e_bench [--lines N] [--json-percent P] [--fsync always|interval|never]
//                   [--batch-bytes N] [--dir DIR] [--agent PATH]
//                   [--steady-lines-per-sec R --steady-seconds S]
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_peer.h"

using namespace blackbox::agent::testing;  // TestPeer
using namespace blackbox::testing;         // ChildProcess, TempDir, poll_until
using namespace std::chrono_literals;

namespace {

const char* kLevels[] = {"INFO", "INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"};
const char* kPaths[] = {"/api/v1/items",  "/api/v1/users",  "/healthz",
                        "/api/v2/orders", "/static/app.js", "/api/v1/search"};
const char* kMethods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};

// A realistic application line of ~200 bytes: timestamp, level, a few templates with
// varying numbers and ids (so that it compresses like real logs, not like a constant).
std::string make_line(std::mt19937_64& rng, std::uint64_t i, bool json) {
  char buf[512];
  const auto us = 1714564800'000000ull + i * 137;
  const unsigned sec = static_cast<unsigned>((us / 1000000) % 86400);
  const char* level = kLevels[rng() % 7];
  const char* path = kPaths[rng() % 6];
  const char* method = kMethods[rng() % 6];
  int n;
  if (json) {
    n = std::snprintf(
        buf, sizeof buf,
        "{\"ts\":\"2024-05-01T%02u:%02u:%02u.%06lluZ\",\"level\":\"%s\",\"msg\":"
        "\"request done\",\"method\":\"%s\",\"path\":\"%s/%llu\",\"status\":%d,"
        "\"duration_ms\":%.2f,\"user\":\"u-%llu\",\"trace\":\"%016llx\"}",
        sec / 3600, sec / 60 % 60, sec % 60, static_cast<unsigned long long>(us % 1000000), level,
        method, path, static_cast<unsigned long long>(rng() % 100000), rng() % 10 == 0 ? 500 : 200,
        static_cast<double>(rng() % 100000) / 100, static_cast<unsigned long long>(rng() % 50000),
        static_cast<unsigned long long>(rng()));
  } else {
    n = std::snprintf(
        buf, sizeof buf,
        "2024-05-01T%02u:%02u:%02u.%06lluZ %-5s [worker-%llu] http request "
        "method=%s path=%s/%llu status=%d duration_ms=%.2f user=u-%llu "
        "trace=%016llx bytes=%llu",
        sec / 3600, sec / 60 % 60, sec % 60, static_cast<unsigned long long>(us % 1000000), level,
        static_cast<unsigned long long>(rng() % 16), method, path,
        static_cast<unsigned long long>(rng() % 100000), rng() % 10 == 0 ? 500 : 200,
        static_cast<double>(rng() % 100000) / 100, static_cast<unsigned long long>(rng() % 50000),
        static_cast<unsigned long long>(rng()), static_cast<unsigned long long>(rng() % 100000));
  }
  std::string s(buf, static_cast<std::size_t>(n));
  s.resize(199, ' ');
  return s;
}

std::string arg(int argc, char** argv, const char* name, const char* def) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return def;
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t lines = std::stoull(arg(argc, argv, "--lines", "2000000"));
  const int json_percent = std::stoi(arg(argc, argv, "--json-percent", "0"));
  const std::string fsync = arg(argc, argv, "--fsync", "always");
  const std::string batch_bytes = arg(argc, argv, "--batch-bytes", "");
  const std::string binary = arg(argc, argv, "--agent", BLACKBOX_AGENT_BIN);
  const int steady_rate = std::stoi(arg(argc, argv, "--steady-lines-per-sec", "0"));
  const int steady_seconds = std::stoi(arg(argc, argv, "--steady-seconds", "20"));
  TempDir tmp;
  const std::string dir = arg(argc, argv, "--dir", tmp.path().c_str());
  const std::string log = dir + "/app.log";

  std::mt19937_64 rng(1);
  std::uint64_t file_bytes = 0;
  if (steady_rate == 0) {
    std::ofstream out(log, std::ios::binary);
    std::string chunk;
    for (std::uint64_t i = 0; i < lines; ++i) {
      chunk += make_line(rng, i, static_cast<int>(rng() % 100) < json_percent);
      chunk += '\n';
      if (chunk.size() > (1 << 20)) {
        out << chunk;
        file_bytes += chunk.size();
        chunk.clear();
      }
    }
    out << chunk;
    file_bytes += chunk.size();
  }

  TestPeer sink(TestPeerOptions{.decode = false, .ack = true, .port = 0});
  {
    std::ofstream cfg(dir + "/agent.toml");
    cfg << "[agent]\ninstance_id = \"i-bench\"\nstate_dir = \"" << dir << "/state\"\n"
        << "metrics_listen = \"\"\n[files]\npaths = [\"" << log << "\"]\n"
        << "[spool]\nfsync = \"" << fsync << "\"\n"
        << (batch_bytes.empty() ? "" : "batch_bytes = \"" + batch_bytes + "B\"\n")
        << "[ship]\ncollectors = [\"" << sink.address() << "\"]\n";
  }
  ChildProcess agent(binary, {"--config", dir + "/agent.toml"}, dir + "/agent.out");

  if (steady_rate > 0) {
    // Steady state: append `steady_rate` lines/s for `steady_seconds`, then read the CPU.
    std::ofstream out(log, std::ios::binary | std::ios::app);
    poll_until([&] { return sink.stats().hellos > 0; }, 10s);
    const double cpu0 = agent.cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    std::uint64_t i = 0;
    for (int tick = 0; tick < steady_seconds * 100; ++tick) {
      for (int k = 0; k < steady_rate / 100; ++k) out << make_line(rng, i++, false) << '\n';
      out.flush();
      std::this_thread::sleep_until(t0 + (tick + 1) * 10ms);  // the writer's pace
    }
    poll_until([&] { return sink.stats().acked_records >= i; }, 30s);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = agent.cpu_seconds() - cpu0;
    std::printf(
        "steady %d lines/s for %.1f s: agent CPU %.3f s = %.2f%% of one core, peak RSS "
        "%.1f MB\n",
        steady_rate, secs, cpu, 100.0 * cpu / secs,
        static_cast<double>(agent.peak_rss_bytes()) / 1e6);
    agent.signal(SIGTERM);
    agent.wait_exit(30s);
    return 0;
  }

  const auto t0 = std::chrono::steady_clock::now();
  const bool done =
      sink.wait_until([&](const PeerStats& s) { return s.acked_records >= lines + 1; }, 600s);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = agent.cpu_seconds();
  const double rss = static_cast<double>(agent.peak_rss_bytes());
  agent.signal(SIGTERM);
  agent.wait_exit(30s);
  if (!done) {
    std::fprintf(stderr, "sink got only %llu of %llu records; agent log: %s/agent.out\n",
                 static_cast<unsigned long long>(sink.stats().acked_records),
                 static_cast<unsigned long long>(lines), dir.c_str());
    return 1;
  }
  const double mb = static_cast<double>(file_bytes) / 1e6;
  std::printf(
      "agent e2e: %llu lines (%.0f MB, %d%% JSON, fsync %s) in %.3f s: %.0f lines/s, "
      "%.1f MB/s; agent CPU %.2f s = %.2f CPU-s/GB; peak RSS %.1f MB; %llu batches\n",
      static_cast<unsigned long long>(lines), mb, json_percent, fsync.c_str(), secs,
      static_cast<double>(lines) / secs, mb / secs, cpu, cpu / (mb / 1000), rss / 1e6,
      static_cast<unsigned long long>(sink.stats().batches));
  return 0;
}
