// The codec's hot paths in bytes/s of raw log lines (200-byte lines; SetBytesProcessed counts
// line bytes only, so figures compare directly with "MB/s of logs"):
//   encode: records into a BatchBuilder; seal without / with zstd level 1
//   decode: decode_batch (header, CRCs, SHA-256 chain hash, records) uncompressed / zstd, with
//           CRC only (batches verified when stored), and
//           the record walk alone; CRC32C (both paths) and SHA-256 by themselves; BATCH frames.
// Run: BUILD/bench/codec_bench [--benchmark_filter=Decode]
#include "schemas/batch.h"
#include "schemas/crc32c.h"
#include "schemas/frame.h"
#include "schemas/hash_chain.h"
#include "schemas/zstd_codec.h"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

namespace blackbox {
namespace {

constexpr std::size_t kLineBytes = 200;

// Deterministic log-like lines: a syslog-style prefix and varied text (so that zstd sees
// realistic redundancy, not a run of one byte).
std::vector<std::string> make_lines(std::size_t n) {
  std::uint64_t state = 42;
  auto next = [&state] {  // SplitMix64
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  static const char* const kWords[] = {"GET",
                                       "POST",
                                       "/api/v1/items",
                                       "status=200",
                                       "status=404",
                                       "user=alice",
                                       "user=bob",
                                       "dur_ms=",
                                       "cache=miss",
                                       "cache=hit",
                                       "upstream=10.0.3.7:8080",
                                       "error:",
                                       "connection reset by peer",
                                       "retrying"};
  std::vector<std::string> lines;
  lines.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::string s = "Nov 26 06:35:" + std::to_string(10 + i % 50) + " web-1 app[" +
                    std::to_string(1000 + next() % 9000) + "]:";
    while (s.size() < kLineBytes) {
      s += ' ';
      s += kWords[next() % std::size(kWords)];
      if (next() % 3 == 0) s += std::to_string(next() % 100000);
    }
    s.resize(kLineBytes);
    lines.push_back(std::move(s));
  }
  return lines;
}

RecordData record_for(const std::string& line, std::int64_t t) {
  RecordData r;
  r.severity = Severity::kInfo;
  r.event_time_ns = t;
  r.read_time_ns = t + 1000;
  r.source = "/var/log/app.log";
  r.line = line;
  return r;
}

void add_all(BatchBuilder& b, const std::vector<std::string>& lines) {
  std::int64_t t = 1'700'000'000'000'000'000;
  for (const auto& l : lines) b.add(record_for(l, t++));
}

std::string sealed_batch(std::size_t n, bool compressed) {
  const auto lines = make_lines(n);
  BatchBuilder b;
  add_all(b, lines);
  ZstdCompressor zc(1);
  std::string out;
  if (!b.seal(1, 0, kZeroHash, compressed ? &zc : nullptr, out)) std::abort();
  return out;
}

void set_counters(benchmark::State& state, std::size_t lines) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * lines * kLineBytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines));
}

// ---- Encode ---------------------------------------------------------------------------------

void BM_EncodeRecords(benchmark::State& state) {
  const auto lines = make_lines(static_cast<std::size_t>(state.range(0)));
  BatchBuilder b;
  for (auto _ : state) {
    add_all(b, lines);
    benchmark::DoNotOptimize(b.raw_bytes());
    b.clear();
  }
  set_counters(state, lines.size());
}

void BM_SealNone(benchmark::State& state) {
  const auto lines = make_lines(static_cast<std::size_t>(state.range(0)));
  BatchBuilder b;
  std::string out;
  for (auto _ : state) {
    add_all(b, lines);
    out.clear();
    auto h = b.seal(1, 0, kZeroHash, nullptr, out);
    benchmark::DoNotOptimize(h);
  }
  set_counters(state, lines.size());
}

void BM_SealZstd1(benchmark::State& state) {
  const auto lines = make_lines(static_cast<std::size_t>(state.range(0)));
  BatchBuilder b;
  ZstdCompressor zc(1);
  std::string out;
  for (auto _ : state) {
    add_all(b, lines);
    out.clear();
    auto h = b.seal(1, 0, kZeroHash, &zc, out);
    benchmark::DoNotOptimize(h);
  }
  set_counters(state, lines.size());
  state.counters["ratio"] =
      static_cast<double>(lines.size() * kLineBytes) / static_cast<double>(out.size());
}

// ---- Decode ---------------------------------------------------------------------------------

void decode_loop(benchmark::State& state, bool compressed,
                 Verify verify = Verify::kCrcAndHash) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::string batch = sealed_batch(n, compressed);
  ZstdDecompressor zstd;
  std::string scratch;
  for (auto _ : state) {
    std::size_t bytes = 0;
    auto h = decode_batch(batch, Limits{}, zstd, scratch,
                          [&](const RecordView& r) { bytes += r.line.size(); }, verify);
    if (!h || bytes != n * kLineBytes) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(bytes);
  }
  set_counters(state, n);
}

void BM_DecodeUncompressed(benchmark::State& state) { decode_loop(state, false); }
void BM_DecodeZstd(benchmark::State& state) { decode_loop(state, true); }
// Reading batches that were verified when stored (the query path): CRC32C, no SHA-256.
void BM_DecodeUncompressedCrcOnly(benchmark::State& state) {
  decode_loop(state, false, Verify::kCrcOnly);
}

// The record walk alone (header parsed, integrity not checked): what decode costs beyond
// CRC32C and SHA-256.
void BM_DecodeRecordsOnly(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::string batch = sealed_batch(n, false);
  auto h = parse_batch_header(batch);
  if (!h) std::abort();
  const std::string_view raw = std::string_view(batch).substr(kBatchHeaderBytes);
  for (auto _ : state) {
    RecordReader reader(raw, h->first_seq, h->record_count);
    RecordView r;
    std::size_t bytes = 0;
    for (;;) {
      auto more = reader.next(r);
      if (!more || !*more) break;
      bytes += r.line.size();
    }
    benchmark::DoNotOptimize(bytes);
  }
  set_counters(state, n);
}

// A BATCH frame around a batch, then parse_frame (its CRC32C over the whole batch).
void BM_FrameBatchRoundTrip(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::string batch = sealed_batch(n, false);
  std::string wire;
  for (auto _ : state) {
    wire.clear();
    append_frame(wire, FrameType::kBatch, batch);
    FrameType type;
    std::size_t consumed = 0;
    auto p = parse_frame(wire, Limits{}, type, consumed);
    benchmark::DoNotOptimize(p);
  }
  set_counters(state, n);
}

// ---- Checksums and hashes (bytes hashed) ------------------------------------------------------

void BM_Crc32c(benchmark::State& state) {
  const std::string data = sealed_batch(4096, false);
  for (auto _ : state) benchmark::DoNotOptimize(crc32c::value(data));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}

void BM_Crc32cPortable(benchmark::State& state) {
  const std::string data = sealed_batch(4096, false);
  for (auto _ : state) benchmark::DoNotOptimize(crc32c::extend_portable_for_test(0, data));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}

void BM_Sha256(benchmark::State& state) {
  const std::string data = sealed_batch(4096, false);
  for (auto _ : state) benchmark::DoNotOptimize(chain_hash(kZeroHash, {}, data));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}

BENCHMARK(BM_EncodeRecords)->Arg(256)->Arg(4096);
BENCHMARK(BM_SealNone)->Arg(256)->Arg(4096);
BENCHMARK(BM_SealZstd1)->Arg(256)->Arg(4096);
BENCHMARK(BM_DecodeUncompressed)->Arg(256)->Arg(4096);
BENCHMARK(BM_DecodeUncompressedCrcOnly)->Arg(256)->Arg(4096);
BENCHMARK(BM_DecodeRecordsOnly)->Arg(4096);
BENCHMARK(BM_DecodeZstd)->Arg(256)->Arg(4096);
BENCHMARK(BM_FrameBatchRoundTrip)->Arg(4096);
BENCHMARK(BM_Crc32c);
BENCHMARK(BM_Crc32cPortable);
BENCHMARK(BM_Sha256);

}  // namespace
}  // namespace blackbox

BENCHMARK_MAIN();
