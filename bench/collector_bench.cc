// Ingest throughput of blackbox-collector: 8 simulated agents, each with its own connection,
// send pre-cut batches of ~200-byte log records (zstd, as an agent spools them) with a window
// of 64 batches, and count a batch done when its ACK arrives — which the collector sends only
// after the group-committed, fsynced RocksDB write. Reported: records/s, MB/s of raw lines,
// p50/p99 ACK latency, process CPU per record (collector + agents), peak RSS; and, in the same
// run, the raw RocksDB ceiling: the same batch bytes written by 8 threads in a bare WriteBatch
// loop with the same sync policy (one batch per synced write, RocksDB's own group commit), as a
// ratio.
//
//   build-collector/bench/collector_bench [--benchmark_filter=...]
//   env BENCH_RECORDS_PER_AGENT=400000 BENCH_INDEX_WORDS=1 BENCH_SYNC=1 to change the run.
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include "collector/collector.h"
#include "collector/ingest/batch_indexer.h"
#include "schemas/streams.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_agent.h"

namespace {

using namespace blackbox;
using namespace blackbox::collector;
using SteadyClock = std::chrono::steady_clock;

constexpr int kAgents = 8;
constexpr std::uint32_t kRecordsPerBatch = 2000;
constexpr std::size_t kLineBytes = 200;
constexpr std::size_t kWindow = 64;

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

struct SplitMix {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

// Access-log-like lines of exactly kLineBytes with realistic entropy.
std::string make_line(SplitMix& rng, std::uint64_t seq) {
  static const char* kPaths[] = {"/api/v1/items",  "/api/v1/users", "/login",
                                 "/static/app.js", "/healthz",      "/api/v2/orders"};
  static const char* kAgentsUa[] = {"Mozilla/5.0 (X11; Linux x86_64)", "curl/7.88.1",
                                    "Go-http-client/1.1", "python-requests/2.28"};
  const auto r = rng.next();
  std::string s =
      std::to_string(10 + r % 200) + "." + std::to_string((r >> 8) % 256) + "." +
      std::to_string((r >> 16) % 256) + "." + std::to_string((r >> 24) % 256) +
      " - - [26/Nov/2026:06:" + std::to_string(10 + seq % 50) + ":" +
      std::to_string(10 + (seq / 50) % 50) + " +0000] \"GET " + kPaths[(r >> 32) % 6] + "/" +
      std::to_string((r >> 20) % 100000) + " HTTP/1.1\" " + ((r >> 40) % 10 ? "200 " : "503 ") +
      std::to_string((r >> 44) % 20000) + " \"-\" \"" + kAgentsUa[(r >> 50) % 4] + "\" rt=0." +
      std::to_string((r >> 54) % 1000) + " req=" + std::to_string(rng.next() % 1'000'000'000);
  while (s.size() < kLineBytes) s.push_back(' ');
  s.resize(kLineBytes);
  return s;
}

struct AgentWork {
  std::vector<std::string> batches;
  std::vector<std::uint64_t> last_seq;  // per batch
  std::uint64_t records = 0;
};

std::vector<AgentWork> make_workload(std::uint64_t records_per_agent) {
  std::vector<AgentWork> out(kAgents);
  std::vector<std::thread> threads;
  for (int a = 0; a < kAgents; ++a) {
    threads.emplace_back([&, a] {
      SplitMix rng{42 + static_cast<std::uint64_t>(a)};
      ZstdCompressor z(1);
      ChainHash head{};
      std::uint64_t seq = 0;
      std::vector<std::string> lines;
      while (seq < records_per_agent) {
        BatchBuilder b;
        const auto n = static_cast<std::uint32_t>(
            std::min<std::uint64_t>(kRecordsPerBatch, records_per_agent - seq));
        lines.clear();
        for (std::uint32_t i = 0; i < n; ++i) lines.push_back(make_line(rng, seq + i));
        for (std::uint32_t i = 0; i < n; ++i) {
          RecordData r;
          r.severity = Severity::kInfo;
          r.event_time_ns = 1'764'000'000'000'000'000 + static_cast<std::int64_t>(seq + i) * 1000;
          r.read_time_ns = r.event_time_ns;
          r.source = "/var/log/nginx/access.log";
          r.line = lines[i];
          b.add(r);
        }
        std::string bytes;
        auto h = b.seal(kStreamLogs, seq, head, &z, bytes);
        if (!h) std::abort();
        head = h->hash;
        seq += n;
        out[a].batches.push_back(std::move(bytes));
        out[a].last_seq.push_back(seq - 1);
      }
      out[a].records = seq;
    });
  }
  for (auto& t : threads) t.join();
  return out;
}

std::size_t vm_hwm_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}
void reset_hwm() { std::ofstream("/proc/self/clear_refs") << "5"; }

// CPU time (user + system) of the whole process so far: collector and simulated agents.
double process_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// One agent: sends its batches with a window, records per-batch ACK latency.
void run_agent(std::uint16_t port, int index, const AgentWork& work,
               std::vector<double>& latencies_ms, std::atomic<bool>& failed) {
  using namespace collector::testing;
  TestConnection c;
  if (!c.connect(port) || !c.hello(test_hello("bench-" + std::to_string(index)))) {
    failed = true;
    return;
  }
  const std::size_t n = work.batches.size();
  std::vector<SteadyClock::time_point> sent(n);
  std::mutex mu;
  std::condition_variable cv;
  std::size_t acked = 0;  // batches [0, acked) acknowledged
  std::thread reader([&] {
    while (true) {
      {
        std::lock_guard lock(mu);
        if (acked == n) return;
      }
      auto f = c.read_frame(std::chrono::seconds(60));
      if (!f || f->type != FrameType::kAck) {
        failed = true;
        std::lock_guard lock(mu);
        acked = n;
        cv.notify_all();
        return;
      }
      auto a = as_ack(*f);
      const auto now = SteadyClock::now();
      std::lock_guard lock(mu);
      for (const auto& e : a->entries) {
        while (acked < n && work.last_seq[acked] <= e.highest_seq) {
          latencies_ms.push_back(
              std::chrono::duration<double, std::milli>(now - sent[acked]).count());
          ++acked;
        }
      }
      cv.notify_all();
    }
  });
  for (std::size_t i = 0; i < n && !failed; ++i) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return i - acked < kWindow || failed; });
      sent[i] = SteadyClock::now();
    }
    if (!c.send_frame(FrameType::kBatch, work.batches[i])) failed = true;
  }
  reader.join();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// The same batch bytes, 8 threads, one Put per synced write: RocksDB's own ceiling.
double raw_rocksdb_records_per_s(const std::vector<AgentWork>& work, bool sync) {
  const blackbox::testing::TempDir tmp("bbbench");
  const std::string& dir = tmp.path();
  rocksdb::Options o;
  o.create_if_missing = true;
  o.compression = rocksdb::kNoCompression;
  o.write_buffer_size = 64u << 20;
  o.max_write_buffer_number = 4;
  o.max_background_jobs = 2;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(o, dir + "/db", &raw).ok()) std::abort();
  std::unique_ptr<rocksdb::DB> db(raw);
  std::uint64_t records = 0;
  for (const auto& w : work) records += w.records;
  const auto t0 = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int a = 0; a < kAgents; ++a) {
    threads.emplace_back([&, a] {
      rocksdb::WriteOptions wo;
      wo.sync = sync;
      for (std::size_t i = 0; i < work[a].batches.size(); ++i) {
        rocksdb::WriteBatch wb;
        wb.Put("bench-" + std::to_string(a) + "/" + std::to_string(i), work[a].batches[i]);
        if (!db->Write(wo, &wb).ok()) std::abort();
      }
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  db.reset();
  return static_cast<double>(records) / secs;
}

void BM_CollectorIngest8Agents(benchmark::State& state) {
  spdlog::set_level(spdlog::level::warn);
  const auto per_agent = env_u64("BENCH_RECORDS_PER_AGENT", 400'000);
  const bool sync = env_u64("BENCH_SYNC", 1) != 0;
  const bool words = env_u64("BENCH_INDEX_WORDS", 1) != 0;
  const auto work = make_workload(per_agent);
  std::uint64_t records = 0, stored_bytes = 0;
  for (const auto& w : work) {
    records += w.records;
    for (const auto& b : w.batches) stored_bytes += b.size();
  }
  for (auto _ : state) {
    const blackbox::testing::TempDir tmp("bbbench");
    const std::string& dir = tmp.path();
    Config config;
    config.collector.data_dir = dir + "/db";
    config.collector.listen = "127.0.0.1:0";
    config.collector.log_level = "warn";
    config.storage.sync_writes = sync;
    config.storage.index_words = words;
    reset_hwm();
    const auto rss_before = vm_hwm_bytes();
    auto c = Collector::open(config);
    if (!c) {
      state.SkipWithError("collector did not open");
      return;
    }
    auto port = (*c)->listen();
    std::thread io([&] { (*c)->run(); });
    std::vector<std::vector<double>> lat(kAgents);
    std::atomic<bool> failed{false};
    const double cpu0 = process_cpu_s();
    const auto t0 = SteadyClock::now();
    std::vector<std::thread> agents;
    for (int a = 0; a < kAgents; ++a)
      agents.emplace_back([&, a] { run_agent(*port, a, work[a], lat[a], failed); });
    for (auto& t : agents) t.join();
    const double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    const double cpu_s = process_cpu_s() - cpu0;
    const auto peak = vm_hwm_bytes();
    (*c)->stop();
    io.join();
    c->reset();
    if (failed) {
      state.SkipWithError("an agent failed (connection or ACK)");
      return;
    }
    std::vector<double> all;
    for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
    const double rps = static_cast<double>(records) / secs;
    const double ceiling = raw_rocksdb_records_per_s(work, sync);
    state.SetIterationTime(secs);
    state.counters["records_per_s"] = rps;
    state.counters["raw_MB_per_s"] = static_cast<double>(records * kLineBytes) / secs / 1e6;
    state.counters["stored_MB_per_s"] = static_cast<double>(stored_bytes) / secs / 1e6;
    state.counters["cpu_us_per_record"] = cpu_s * 1e6 / static_cast<double>(records);
    state.counters["ack_p50_ms"] = percentile(all, 0.50);
    state.counters["ack_p99_ms"] = percentile(all, 0.99);
    state.counters["peak_rss_MB"] = static_cast<double>(peak) / 1e6;
    state.counters["rss_growth_MB"] = static_cast<double>(peak - rss_before) / 1e6;
    state.counters["rocksdb_ceiling_records_per_s"] = ceiling;
    state.counters["ratio_to_ceiling"] = rps / ceiling;
    state.counters["records"] = static_cast<double>(records);
  }
}
BENCHMARK(BM_CollectorIngest8Agents)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// The CPU cost per batch that ingest adds on the I/O thread: verify + decompress + walk
// (+ word filter), for one 2000-record batch.
void BM_IndexBatch(benchmark::State& state) {
  const auto work = make_workload(kRecordsPerBatch);
  BatchIndexer ix(IndexerOptions{Limits{}, state.range(0) != 0});
  IndexedBatch out;
  for (auto _ : state) {
    std::string copy = work[0].batches[0];
    if (!ix.index("bench", std::move(copy), out)) state.SkipWithError("index failed");
    benchmark::DoNotOptimize(out.entry.words.bits().data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kRecordsPerBatch);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * kRecordsPerBatch *
                          static_cast<std::int64_t>(kLineBytes));
  state.counters["filter_bytes"] = static_cast<double>(out.entry.words.bits().size());
  state.counters["stored_bytes"] = static_cast<double>(work[0].batches[0].size());
}
BENCHMARK(BM_IndexBatch)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
