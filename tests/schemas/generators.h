// Random value generators for the schemas property tests, and a hand encoder of the batch
// layout written from PROTOCOL.md (not from batch.cc) so that tests can build batches whose
// records lie.
//
// Every test that draws random values creates one SeededRng: it prints its seed, and a failing
// assertion shows it (SCOPED_TRACE). Re-run with BLACKBOX_TEST_SEED=<seed> to reproduce.
#pragma once

#include "schemas/batch.h"
#include "schemas/bytes.h"
#include "schemas/crc32c.h"
#include "schemas/hash_chain.h"
#include "schemas/record.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace blackbox::testing {

class SeededRng {
 public:
  SeededRng() : seed_(initial_seed()), engine_(seed_) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::cout << "[   SEED   ] " << (info ? info->name() : "?") << " BLACKBOX_TEST_SEED=" << seed_
              << std::endl;
  }
  std::uint64_t seed() const { return seed_; }
  std::string trace() const { return "BLACKBOX_TEST_SEED=" + std::to_string(seed_); }

  std::uint64_t u64() { return engine_(); }
  // Uniform in [lo, hi].
  std::uint64_t range(std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(engine_);
  }
  bool coin(int one_in = 2) { return range(0, static_cast<std::uint64_t>(one_in) - 1) == 0; }

  // An integer biased towards the edges of its type (0, max, min, small values).
  template <class T>
  T edgy() {
    switch (range(0, 5)) {
      case 0:
        return 0;
      case 1:
        return std::numeric_limits<T>::max();
      case 2:
        return std::numeric_limits<T>::min();
      case 3:
        return static_cast<T>(range(0, 300));
      default:
        return static_cast<T>(u64());
    }
  }

  // Bytes that stress a byte-exact codec: NUL, CR, LF, invalid UTF-8, valid multi-byte UTF-8,
  // printable ASCII. Length in [0, max_len], often 0.
  std::string nasty_bytes(std::size_t max_len) {
    std::string s;
    if (coin(8)) return s;
    const std::size_t n = range(0, max_len);
    s.reserve(n);
    while (s.size() < n) {
      switch (range(0, 9)) {
        case 0:
          s.push_back('\0');
          break;
        case 1:
          s.push_back('\r');
          break;
        case 2:
          s.push_back(static_cast<char>(range(0x80, 0xff)));
          break;  // stray byte
        case 3:
          s += "\xc3\xa9";
          break;  // é
        case 4:
          s += "\xf0\x9f\x92\xa5";
          break;  // U+1F4A5
        case 5:
          s += "\xed\xa0\x80";
          break;  // a surrogate
        case 6:
          s.push_back(static_cast<char>(range(0, 255)));
          break;
        default:
          s.push_back(static_cast<char>(range(0x20, 0x7e)));
          break;
      }
    }
    s.resize(n);
    return s;
  }

  std::string printable(std::size_t min_len, std::size_t max_len) {
    std::string s(range(min_len, max_len), ' ');
    for (char& c : s) c = static_cast<char>(range(0x21, 0x7e));
    return s;
  }

  ChainHash hash() {
    ChainHash h;
    for (auto& b : h) b = static_cast<std::uint8_t>(range(0, 255));
    return h;
  }

 private:
  static std::uint64_t initial_seed() {
    if (const char* env = std::getenv("BLACKBOX_TEST_SEED")) return std::strtoull(env, nullptr, 10);
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) | rd();
  }
  std::uint64_t seed_;
  std::mt19937_64 engine_;
};

// A record that owns its bytes; view() gives the RecordData to encode.
struct OwnedRecord {
  RecordKind kind = RecordKind::kLog;
  Severity severity = Severity::kUnknown;
  std::uint8_t flags = 0;
  std::int64_t event_time_ns = 0;
  std::int64_t read_time_ns = 0;
  std::string source;
  std::string line;
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<Field> field_views;  // filled by view()

  RecordData view() {
    field_views.clear();
    for (const auto& [k, v] : fields) field_views.push_back({k, v});
    RecordData d;
    d.kind = kind;
    d.severity = severity;
    d.flags = flags;
    d.event_time_ns = event_time_ns;
    d.read_time_ns = read_time_ns;
    d.source = source;
    d.line = line;
    d.fields = field_views;
    return d;
  }
};

inline OwnedRecord random_record(SeededRng& rng, std::size_t max_line = 300) {
  OwnedRecord r;
  r.kind = static_cast<RecordKind>(rng.range(1, 4));
  r.severity = rng.coin(4) ? Severity::kUnknown : static_cast<Severity>(rng.range(0, 7));
  r.flags = static_cast<std::uint8_t>(rng.range(0, record_flags::kKnownMask));
  r.event_time_ns = rng.edgy<std::int64_t>();
  r.read_time_ns = rng.edgy<std::int64_t>();
  static const char* const kSources[] = {"/var/log/app.log", "syslog", "journald", "agent", ""};
  r.source = rng.coin(5) ? rng.nasty_bytes(64) : kSources[rng.range(0, 4)];
  switch (r.kind) {
    case RecordKind::kLog:
      r.line = rng.nasty_bytes(max_line);
      break;
    case RecordKind::kLifecycle:
      r.line = R"({"event":"heartbeat","reason":")" + rng.printable(0, 20) + "\"}";
      break;
    case RecordKind::kGap:
      r.line = R"({"reason":"line_too_long","source":"/var/log/a","lost_bytes":)" +
               std::to_string(rng.range(0, 1u << 30)) + R"(,"from_offset":0})";
      break;
    case RecordKind::kSnapshot:
      r.line = R"({"packages":[")" + rng.printable(0, max_line) + R"("]})";
      break;
  }
  const std::size_t nfields = rng.coin(2) ? 0 : rng.range(1, 6);
  for (std::size_t i = 0; i < nfields; ++i)
    r.fields.emplace_back(rng.nasty_bytes(16), rng.nasty_bytes(40));
  return r;
}

// Asserts that a decoded record equals the one encoded (seq checked by the caller).
inline void expect_record_eq(const OwnedRecord& want, const RecordView& got) {
  EXPECT_EQ(want.kind, got.kind);
  EXPECT_EQ(want.severity, got.severity);
  EXPECT_EQ(want.flags, got.flags);
  EXPECT_EQ(want.event_time_ns, got.event_time_ns);
  EXPECT_EQ(want.read_time_ns, got.read_time_ns);
  EXPECT_EQ(want.source, got.source);
  EXPECT_EQ(want.line, got.line);
  ASSERT_EQ(want.fields.size(), got.field_count);
  std::vector<Field> fs;
  got.fields(fs);
  ASSERT_EQ(want.fields.size(), fs.size());
  for (std::size_t i = 0; i < fs.size(); ++i) {
    EXPECT_EQ(want.fields[i].first, fs[i].key);
    EXPECT_EQ(want.fields[i].second, fs[i].value);
  }
}

// ---- A batch encoder written from the spec (PROTOCOL.md §3), independent of batch.cc ---------

struct SpecBatch {
  std::uint8_t magic_ok = 1;
  std::uint8_t version = kBatchVersion;
  std::uint8_t compression = 0;
  std::uint16_t flags = 0;
  std::uint32_t stream = 1;
  std::uint32_t record_count = 1;
  std::uint64_t first_seq = 0;
  std::int64_t min_time_ns = 0;
  std::int64_t max_time_ns = 0;
  std::uint32_t raw_size = 0;
  ChainHash prev_hash{};
};

// Header (with correct CRCs and chain hash) followed by `payload` (already compressed when
// `compression` is 1). raw_size is taken from `b`; stored size and CRCs are computed.
inline std::string spec_encode_batch(const SpecBatch& b, std::string_view payload) {
  std::string h;
  bytes::put_le(h, b.magic_ok ? kBatchMagic : 0x12345678u);
  bytes::put_u8(h, b.version);
  bytes::put_u8(h, b.compression);
  bytes::put_le(h, b.flags);
  bytes::put_le(h, b.stream);
  bytes::put_le(h, b.record_count);
  bytes::put_le(h, b.first_seq);
  bytes::put_le(h, b.min_time_ns);
  bytes::put_le(h, b.max_time_ns);
  bytes::put_le(h, b.raw_size);
  bytes::put_le(h, static_cast<std::uint32_t>(payload.size()));
  bytes::put_le(h, crc32c::value(payload));
  const ChainHash hash = chain_hash(b.prev_hash, h, payload);
  h.append(reinterpret_cast<const char*>(b.prev_hash.data()), 32);
  h.append(reinterpret_cast<const char*>(hash.data()), 32);
  bytes::put_le(h, crc32c::value(h));
  h.append(payload);
  return h;
}

// Recomputes the header CRC (bytes [116,120)) after a test edited header bytes.
inline void refresh_header_crc(std::string& batch) {
  bytes::store_le(batch.data() + 116, crc32c::value(std::string_view(batch).substr(0, 116)));
}

// A record body encoded by hand, field by field, so tests can make each length lie.
struct SpecRecord {
  std::uint8_t kind = 1, severity = 6, flags = 0;
  std::int64_t event_time_ns = 1, read_time_ns = 2;
  std::string source = "src";
  std::string line = "line";
  std::vector<std::pair<std::string, std::string>> fields;
};

// The record body (everything after record_len).
inline std::string spec_record_body(const SpecRecord& r) {
  std::string b;
  bytes::put_u8(b, r.kind);
  bytes::put_u8(b, r.severity);
  bytes::put_u8(b, r.flags);
  bytes::put_le(b, r.event_time_ns);
  bytes::put_le(b, r.read_time_ns);
  bytes::put_string(b, r.source);
  bytes::put_string(b, r.line);
  bytes::put_varint(b, r.fields.size());
  for (const auto& [k, v] : r.fields) {
    bytes::put_string(b, k);
    bytes::put_string(b, v);
  }
  return b;
}

inline std::string spec_record(const SpecRecord& r) {
  std::string body = spec_record_body(r);
  std::string out;
  bytes::put_varint(out, body.size());
  return out + body;
}

}  // namespace blackbox::testing
