// Google Benchmark of the agent's hot path, stage by stage, for 200-byte lines: line
// splitting (FileTailer over a file in the page cache), record encoding (BatchCutter, plain
// and JSON lines), sealing (zstd level 1 + hash chain), spool appends. Bytes/s are bytes of
// log lines in, so the stages compare with each other and with the end-to-end figure.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <fstream>
#include <random>

#include "agent/agent_metrics.h"
#include "agent/inputs/file_tailer.h"
#include "agent/pipeline/batch_cutter.h"
#include "agent/pipeline/builder_pool.h"
#include "agent/pipeline/sealer.h"
#include "agent/spool/spool.h"
#include "schemas/metrics.h"
#include "tests/support/temp_dir.h"

using namespace blackbox;
using namespace blackbox::agent;

namespace {

std::string plain_line(std::mt19937_64& rng, int i) {
  char buf[256];
  int n = std::snprintf(
      buf, sizeof buf,
      "2024-05-01T12:%02d:%02d.%06dZ INFO  [worker-%d] http request method=GET "
      "path=/api/v1/items/%llu status=200 duration_ms=%.2f user=u-%llu "
      "trace=%016llx",
      i / 60 % 60, i % 60, i % 1000000, i % 16, static_cast<unsigned long long>(rng() % 100000),
      static_cast<double>(rng() % 10000) / 100, static_cast<unsigned long long>(rng() % 50000),
      static_cast<unsigned long long>(rng()));
  std::string s(buf, n);
  s.resize(199, ' ');
  return s;
}

std::string json_line(std::mt19937_64& rng, int i) {
  char buf[256];
  int n = std::snprintf(
      buf, sizeof buf,
      "{\"ts\":\"2024-05-01T12:%02d:%02d.%06dZ\",\"level\":\"info\",\"msg\":"
      "\"request done\",\"path\":\"/api/v1/items/%llu\",\"status\":200,"
      "\"duration_ms\":%.2f,\"user\":\"u-%llu\",\"trace\":\"%016llx\"}",
      i / 60 % 60, i % 60, i % 1000000, static_cast<unsigned long long>(rng() % 100000),
      static_cast<double>(rng() % 10000) / 100, static_cast<unsigned long long>(rng() % 50000),
      static_cast<unsigned long long>(rng()));
  return std::string(buf, n);
}

// Lines laid out as in the read buffer (padded for simdjson).
struct Lines {
  explicit Lines(bool json, int count = 20000) {
    std::mt19937_64 rng(1);
    for (int i = 0; i < count; ++i) {
      text += json ? json_line(rng, i) : plain_line(rng, i);
      ends.push_back(text.size());
      text += '\n';
    }
    text.append(64, '\0');
  }
  std::string text;
  std::vector<std::size_t> ends;
};

struct NullSink : LineSink {
  std::uint64_t lines = 0;
  void on_line(std::string_view, std::string_view, std::uint8_t, std::int64_t) override { ++lines; }
  void on_gap(std::string_view, std::string_view, std::int64_t) override {}
};

void BM_TailerSplit(benchmark::State& state) {
  blackbox::testing::TempDir dir;
  const std::string path = dir / "a.log";
  Lines lines(false, 100000);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(lines.text.data(), static_cast<std::streamsize>(lines.text.size() - 64));
  }
  NullSink sink;
  ReadBuffer buffer;
  for (auto _ : state) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    FileTailer t(path, std::move(fd), FileId{1, 1}, 0, false, TailerOptions{});
    for (int i = 0; i < 100000; ++i) {
      auto r = t.read(sink, buffer, 1 << 20, 0, 0);
      if (!r || r->eof) break;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * (lines.text.size() - 64)));
}
BENCHMARK(BM_TailerSplit)->Unit(benchmark::kMillisecond);

void BM_CutterEncode(benchmark::State& state) {
  const bool json = state.range(0) != 0;
  Lines lines(json);
  Metrics registry;
  AgentMetrics metrics(registry);
  BuilderPool pool;
  CutterOptions o;
  o.batch_bytes = 64u << 20;
  o.max_records = 1u << 20;
  BatchCutter cutter(o, pool, metrics);
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    std::size_t start = 0;
    for (std::size_t end : lines.ends) {
      cutter.on_line("/var/log/app/app.log",
                     std::string_view(lines.text.data() + start, end - start), 0, 1);
      bytes += end - start;
      start = end + 1;
    }
    pool.put(cutter.take());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_CutterEncode)->Arg(0)->Arg(1)->ArgName("json")->Unit(benchmark::kMillisecond);

void BM_Seal(benchmark::State& state) {
  Lines lines(false, 5000);  // ~1 MiB of lines: one default batch
  Sealer sealer(Checkpoint{}, 1);
  std::uint64_t bytes = 0;
  SealedEntry out;
  BatchBuilder builder;
  for (auto _ : state) {
    state.PauseTiming();
    std::size_t start = 0;
    for (std::size_t end : lines.ends) {
      RecordData r;
      r.source = "/var/log/app/app.log";
      r.line = std::string_view(lines.text.data() + start, end - start);
      builder.add(r);
      bytes += end - start;
      start = end + 1;
    }
    CutBatch in{1, std::make_unique<BatchBuilder>(std::move(builder)), std::string{}, 0};
    state.ResumeTiming();
    benchmark::DoNotOptimize(sealer.seal(in, out));
    builder = std::move(*in.builder);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["ratio"] =
      static_cast<double>(bytes / state.iterations()) / static_cast<double>(out.batch.size());
}
BENCHMARK(BM_Seal)->Unit(benchmark::kMillisecond);

void BM_SpoolAppend(benchmark::State& state) {
  blackbox::testing::TempDir dir;
  SpoolOptions o;
  o.dir = dir / "spool";
  o.fsync = state.range(0) ? FsyncPolicy::kAlways : FsyncPolicy::kNever;
  o.max_bytes = 1ull << 40;
  RecoveryReport report;
  auto spool = Spool::open(o, report);
  std::string batch(200 * 1024, 'x');  // a sealed 1 MiB batch is ~200 KiB
  std::string cp;
  encode_stream_states(cp, {});
  encode_file_positions(cp, {});
  std::uint64_t seq = 0;
  for (auto _ : state) {
    SpoolAppend a{batch, cp, 1, ++seq};
    benchmark::DoNotOptimize((*spool)->append(std::span<const SpoolAppend>(&a, 1)));
    if (seq % 64 == 0) (*spool)->ack(1, seq);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * batch.size()));
}
BENCHMARK(BM_SpoolAppend)->Arg(0)->Arg(1)->ArgName("fsync")->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
