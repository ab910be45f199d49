// query_bench: how fast the post-mortem questions are answered (issue 5).
//
// Builds a store through the collector's own write path (BatchIndexer + IngestWriter, fsync
// off) with BLACKBOX_BENCH_INSTANCES instances (default 20) of BLACKBOX_BENCH_RECORDS records
// each (default 100,000 = issue 5's 10,000,000 / 100), one record per second of life, batches
// of 500 records, ~150-byte lines (plain text, JSON lines, warnings, errors, a crash at the
// end). Serves it with the real HttpServer on 127.0.0.1:0 and measures:
//   LastTenMinutes     `logs I --last 10m` through the CLI's HTTP client, p50/p99 (random I)
//   LastTenMinutesCli  the same with the real `blackbox` process, output to /dev/null
//   GrepInstance       `logs I --grep 'connection reset by peer'` over I's whole life, p50/p99
//                      and MB/s of raw lines
//   GrepCli            the same with the real `blackbox` process (-o cat > /dev/null)
//   GrepEngine         the same grep through the query engine alone (collector/query/, typed
//                      records, no HTTP or JSON), with the API's default scan helper
//   GnuGrepCount / RipgrepCount   `grep -c` / `rg -c` on the same raw lines (a file), MB/s
//   ...Rare            the same four for a pattern only the crash at the end of a life holds
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "collector/http/http_server.h"
#include "collector/query/records_query.h"
#include "query/client/http_client.h"
#include "schemas/http_target.h"
#include "schemas/streams.h"
#include "schemas/time_text.h"
#include "tests/support/child_process.h"
#include "tests/support/store_fixture.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace blackbox;
using nlohmann::json;
constexpr std::int64_t kS = 1'000'000'000;
// In ~0.5% of lines, so in ~92% of the 500-record batches: the index can skip almost nothing
// and the grep is bound by decompression (the worst case for a compressed store).
constexpr const char* kPattern = "connection reset by peer";
// Only in the crash at the end of each life: the word filter skips every other batch.
constexpr const char* kRarePattern = "java.lang.OutOfMemoryError: Java heap space";

std::size_t env_size(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  return v ? static_cast<std::size_t>(std::strtoull(v, nullptr, 10)) : fallback;
}

struct World {
  std::unique_ptr<testing::StoreFixture> fx;
  std::unique_ptr<collector::http::HttpServer> server;
  SystemClock clock;
  std::size_t instances = 0;
  std::size_t records = 0;
  testing::TempDir lines_dir{"bbq-bench-lines"};
  std::string grep_file;         // instance 0's raw lines, in lines_dir
  std::uint64_t grep_bytes = 0;  // their size (newlines included)
  std::uint64_t total_raw_bytes = 0;
  double build_seconds = 0;

  World() {
    instances = env_size("BLACKBOX_BENCH_INSTANCES", 100);
    records = env_size("BLACKBOX_BENCH_RECORDS", 100'000);
    const auto t0 = std::chrono::steady_clock::now();
    fx = std::make_unique<testing::StoreFixture>("bench");
    std::mt19937_64 rng(20261126);
    const std::int64_t life_end = 1'795'674'914 * kS;
    const char* users[] = {"alice", "bob", "carol", "dave", "svc-batch"};
    grep_file = lines_dir.sub("lines");
    std::ofstream raw(grep_file, std::ios::binary);
    for (std::size_t inst = 0; inst < instances; ++inst) {
      const std::string id = "i-bench-" + std::to_string(inst);
      fx->hello(id, "ami-bench");
      const std::int64_t start = life_end - static_cast<std::int64_t>(records) * kS;
      std::vector<testing::TestRecord> batch;
      for (std::size_t i = 0; i < records; ++i) {
        testing::TestRecord r;
        r.time_ns = start + static_cast<std::int64_t>(i) * kS +
                    static_cast<std::int64_t>(rng() % 1000) * 1'000'000;
        const std::string when = format_rfc3339_ns(r.time_ns).substr(0, 23) + "Z";
        const unsigned roll = rng() % 1000;
        const bool crash = i + 300 >= records;
        char buf[256];
        if (crash && roll < 300) {
          r.severity = Severity::kErr;
          std::snprintf(
              buf, sizeof buf,
              "%s ERROR [worker-%u] java.lang.OutOfMemoryError: Java heap space (alloc %u bytes)",
              when.c_str(), static_cast<unsigned>(rng() % 16),
              static_cast<unsigned>(rng() % 100000));
          r.line = buf;
        } else if (roll < 5) {
          r.severity = Severity::kErr;
          std::snprintf(buf, sizeof buf,
                        "%s ERROR [worker-%u] %s while talking to db-%u (attempt %u)", when.c_str(),
                        static_cast<unsigned>(rng() % 16), kPattern,
                        static_cast<unsigned>(rng() % 4), static_cast<unsigned>(rng() % 5));
          r.line = buf;
        } else if (roll < 45) {
          r.severity = Severity::kWarning;
          std::snprintf(buf, sizeof buf, "%s WARN [worker-%u] slow query on orders: %u ms, rows=%u",
                        when.c_str(), static_cast<unsigned>(rng() % 16),
                        static_cast<unsigned>(500 + rng() % 5000),
                        static_cast<unsigned>(rng() % 10000));
          r.line = buf;
        } else if (roll < 300) {
          r.severity = Severity::kInfo;
          r.flags = record_flags::kJson;
          const char* user = users[rng() % 5];
          const unsigned keys = static_cast<unsigned>(rng() % 5000);
          std::snprintf(
              buf, sizeof buf,
              R"({"time":"%s","level":"info","msg":"cache refresh done","keys":%u,"user":"%s","region":"eu-west-1"})",
              when.c_str(), keys, user);
          r.line = buf;
          r.fields = {{"msg", "\"cache refresh done\""},
                      {"keys", std::to_string(keys)},
                      {"user", std::string("\"") + user + "\""},
                      {"region", "\"eu-west-1\""}};
        } else {
          r.severity = Severity::kInfo;
          std::snprintf(buf, sizeof buf,
                        "%s INFO [worker-%u] GET /api/orders/%u 200 %ums user=%s trace=%016llx",
                        when.c_str(), static_cast<unsigned>(rng() % 16),
                        static_cast<unsigned>(rng() % 1000000), static_cast<unsigned>(rng() % 300),
                        users[rng() % 5], static_cast<unsigned long long>(rng()));
          r.line = buf;
        }
        total_raw_bytes += r.line.size() + 1;
        if (inst == 0) {
          raw << r.line << '\n';
          grep_bytes += r.line.size() + 1;
        }
        batch.push_back(std::move(r));
        if (batch.size() == 500 || i + 1 == records) {
          fx->add_batch(id, kStreamLogs, batch);
          batch.clear();
        }
      }
    }
    raw.close();
    collector::http::HttpServerOptions o;
    o.port = 0;
    o.api.scan_helpers = static_cast<unsigned>(env_size("BLACKBOX_BENCH_SCAN_HELPERS", 1));
    auto s = collector::http::HttpServer::start(o, fx->store(), fx->metrics(), clock);
    if (!s) throw std::runtime_error("http server: " + s.error().message());
    server = std::move(*s);
    build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr,
                 "query_bench: store of %zu instances x %zu records (%.1f MB of raw lines) built "
                 "in %.1f s; grep file %.1f MB\n",
                 instances, records, total_raw_bytes / 1e6, build_seconds, grep_bytes / 1e6);
  }

  std::string server_url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
};

World& world() {
  static World w;
  return w;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(q * (v.size() - 1) + 0.5));
  return v[i];
}

// All pages of one records query through the CLI's HTTP client; returns records received and
// adds the server's own time (stats.elapsed_ms) to `server_seconds`.
std::size_t fetch_all(query::HttpClient& http, const std::string& instance, QueryParams params,
                      double* server_seconds = nullptr) {
  std::size_t n = 0;
  std::string cursor;
  for (;;) {
    QueryParams p = params;
    if (!cursor.empty()) p.emplace_back("cursor", cursor);
    auto r = http.get(make_http_target("/v1/instances/" + instance + "/records", p));
    if (!r || r->status != 200) throw std::runtime_error("query failed");
    json doc = json::parse(r->body);
    n += doc["records"].size();
    if (server_seconds) *server_seconds += doc["stats"]["elapsed_ms"].get<double>() / 1e3;
    if (!doc["next_cursor"].is_string()) return n;
    cursor = doc["next_cursor"];
  }
}

// `program` as a path: itself if it has a slash, else the first match on $PATH (the launcher
// takes paths, and the lookup must not be part of the timed run).
std::string on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "/usr/bin:/bin";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const std::filesystem::path candidate =
        std::filesystem::path(rest.substr(0, colon)) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  return program;
}

// Runs a command with stdout to /dev/null (tests/support's one launcher); returns its wall time
// in seconds.
double time_process(std::vector<std::string> argv) {
  argv[0] = on_path(argv[0]);
  const auto t0 = std::chrono::steady_clock::now();
  testing::ChildProcess child(testing::ChildOptions{argv, "/dev/null", "/dev/null", {}});
  if (!child.wait_exit(std::chrono::minutes(10))) throw std::runtime_error("hung: " + argv[0]);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool have(const char* program) {
  return std::system((std::string("command -v ") + program + " >/dev/null 2>&1").c_str()) == 0;
}

void report(benchmark::State& state, const std::vector<double>& seconds, double bytes = 0) {
  state.counters["p50_ms"] = percentile(seconds, 0.5) * 1e3;
  state.counters["p99_ms"] = percentile(seconds, 0.99) * 1e3;
  if (bytes > 0) state.counters["MB/s"] = bytes / percentile(seconds, 0.5) / 1e6;
  state.counters["runs"] = static_cast<double>(seconds.size());
}

void LastTenMinutes(benchmark::State& state) {
  World& w = world();
  query::HttpClient http(*parse_server_url(w.server_url()));
  std::mt19937 rng(1);
  std::vector<double> t, server;
  std::size_t records = 0;
  for (auto _ : state) {
    for (int i = 0; i < 300; ++i) {
      const std::string id = "i-bench-" + std::to_string(rng() % w.instances);
      double s = 0;
      const auto t0 = std::chrono::steady_clock::now();
      records += fetch_all(http, id, {{"last", "10m"}}, &s);
      t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      server.push_back(s);
    }
  }
  report(state, t);
  state.counters["server_p50_ms"] = percentile(server, 0.5) * 1e3;
  state.counters["records_per_query"] = static_cast<double>(records) / t.size();
}

void LastTenMinutesCli(benchmark::State& state) {
  World& w = world();
  std::mt19937 rng(2);
  std::vector<double> t;
  for (auto _ : state) {
    for (int i = 0; i < 50; ++i) {
      t.push_back(
          time_process({BLACKBOX_CLI_BIN, "--server", w.server_url(), "--no-pager", "logs",
                        "i-bench-" + std::to_string(rng() % w.instances), "--last", "10m"}));
    }
  }
  report(state, t);
}

void grep_instance(benchmark::State& state, const char* pattern) {
  World& w = world();
  query::HttpClient http(*parse_server_url(w.server_url()));
  std::vector<double> t, server;
  std::size_t matches = 0;
  for (auto _ : state) {
    for (int i = 0; i < 20; ++i) {
      double s = 0;
      const auto t0 = std::chrono::steady_clock::now();
      matches = fetch_all(http, "i-bench-0", {{"grep", pattern}}, &s);
      t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      server.push_back(s);
    }
  }
  report(state, t, static_cast<double>(w.grep_bytes));
  state.counters["server_p50_ms"] = percentile(server, 0.5) * 1e3;
  state.counters["matches"] = static_cast<double>(matches);
}

void grep_engine(benchmark::State& state, const char* pattern) {
  World& w = world();
  collector::query::FilterSpec spec;
  spec.grep = pattern;
  std::string error;
  auto filter = collector::query::RecordFilter::compile(spec, error);
  if (!filter) {
    state.SkipWithError(error.c_str());
    return;
  }
  collector::query::ScanPool pool(
      static_cast<unsigned>(env_size("BLACKBOX_BENCH_SCAN_HELPERS", 1)));  // as the server
  const collector::query::PageLimits limits = collector::http::ApiOptions{}.page;
  std::vector<double> t;
  std::size_t matches = 0;
  for (auto _ : state) {
    for (int i = 0; i < 20; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      collector::query::RecordsRequest req;
      req.instance = "i-bench-0";
      matches = 0;
      for (;;) {
        collector::query::RecordsQuery q(w.fx->store(), **filter, Limits{}, limits, w.clock, &pool);
        auto page = q.page(req);
        if (!page) {
          state.SkipWithError(page.error().message().c_str());
          return;
        }
        matches += page->matches;
        if (!page->next) break;
        req.cursor = page->next;
      }
      t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  report(state, t, static_cast<double>(w.grep_bytes));
  state.counters["matches"] = static_cast<double>(matches);
}

void grep_cli(benchmark::State& state, const char* pattern) {
  World& w = world();
  std::vector<double> t;
  for (auto _ : state)
    for (int i = 0; i < 20; ++i)
      t.push_back(time_process({BLACKBOX_CLI_BIN, "--server", w.server_url(), "--no-pager", "logs",
                                "i-bench-0", "--grep", pattern, "-o", "cat"}));
  report(state, t, static_cast<double>(w.grep_bytes));
}

void count_with(benchmark::State& state, const char* program, const char* pattern) {
  World& w = world();
  if (!have(program)) {
    state.SkipWithError(
        (std::string(program) + " is not installed (apt-get install ripgrep)").c_str());
    return;
  }
  std::vector<double> t;
  for (auto _ : state)
    for (int i = 0; i < 20; ++i) t.push_back(time_process({program, "-c", pattern, w.grep_file}));
  report(state, t, static_cast<double>(w.grep_bytes));
}

void GrepInstance(benchmark::State& s) { grep_instance(s, kPattern); }
void GrepCli(benchmark::State& s) { grep_cli(s, kPattern); }
void GrepEngine(benchmark::State& s) { grep_engine(s, kPattern); }
void GnuGrepCount(benchmark::State& s) { count_with(s, "grep", kPattern); }
void RipgrepCount(benchmark::State& s) { count_with(s, "rg", kPattern); }
void GrepInstanceRare(benchmark::State& s) { grep_instance(s, kRarePattern); }
void GrepCliRare(benchmark::State& s) { grep_cli(s, kRarePattern); }
void GrepEngineRare(benchmark::State& s) { grep_engine(s, kRarePattern); }
void GnuGrepCountRare(benchmark::State& s) { count_with(s, "grep", kRarePattern); }
void RipgrepCountRare(benchmark::State& s) { count_with(s, "rg", kRarePattern); }

BENCHMARK(LastTenMinutes)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(LastTenMinutesCli)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(GrepInstance)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(GrepCli)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(GrepEngine)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(GnuGrepCount)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(RipgrepCount)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(GrepInstanceRare)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(GrepCliRare)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(GrepEngineRare)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(GnuGrepCountRare)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(RipgrepCountRare)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
