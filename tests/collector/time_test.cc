// Issue 11 items 3 and 7: the collector's clock decides retention and windows, never the time a
// line claims; a batch whose records lie outside its header's time range is accepted
// (PROTOCOL.md §3) and indexed by the records' times. Real collector on loopback, real RocksDB
// in a temp dir, the real HTTP query API; retention is driven by an injected clock and
// Store::compact_all(), never by sleeping.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "schemas/batch.h"
#include "schemas/http_target.h"
#include "schemas/streams.h"
#include "schemas/zstd_codec.h"
#include "tests/collector/http_collector.h"
#include "tests/collector/test_agent.h"

namespace blackbox::collector::testing {
namespace {

using nlohmann::json;

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kDay = 86'400 * kSecond;
constexpr std::int64_t kNow = 1'795'000'000 * kSecond;   // 2026-11-18: the collector's "now"
constexpr std::int64_t k1970 = 1 * kSecond;              // 1970-01-01T00:00:01Z
constexpr std::int64_t k2100 = 4'102'444'800 * kSecond;  // 2100-01-01T00:00:00Z

struct Line {
  std::int64_t event_ns;  // what the line claims
  std::int64_t read_ns;   // when the agent read it
  std::string text;
};

// One chained agent stream whose records carry the times the test gives them.
class TimedStream {
 public:
  std::string next_batch(const std::vector<Line>& lines) {
    BatchBuilder b;
    for (const auto& l : lines) {
      RecordData r;
      r.severity = Severity::kInfo;
      r.event_time_ns = l.event_ns;
      r.read_time_ns = l.read_ns;
      r.source = "/var/log/app.log";
      r.line = l.text;
      b.add(r);
    }
    std::string out;
    auto h = b.seal(kStreamLogs, next_seq_, head_, &zstd_, out);
    EXPECT_TRUE(h);
    if (h) {
      next_seq_ = h->end_seq();
      head_ = h->hash;
    }
    return out;
  }
  std::uint64_t next_seq() const { return next_seq_; }

 private:
  std::uint64_t next_seq_ = 0;
  ChainHash head_{};
  ZstdCompressor zstd_{1};
};

// Sends `batches` on a new connection as `instance` and waits for the ACK of the last one.
// Returns the highest acknowledged sequence (-1 if none, or an ERROR).
std::int64_t send_all(std::uint16_t port, const std::string& instance,
                      const std::vector<std::string>& batches, std::uint64_t want_highest,
                      std::optional<ErrorFrame>* error = nullptr) {
  TestConnection c;
  if (!c.connect(port) || !c.hello(test_hello(instance))) return -1;
  for (const auto& b : batches)
    if (!c.send_frame(FrameType::kBatch, b)) return -1;
  std::int64_t acked = -1;
  for (int i = 0; i < 1000 && acked < static_cast<std::int64_t>(want_highest); ++i) {
    auto f = c.read_frame(std::chrono::seconds(30));
    if (!f) break;
    if (auto a = as_ack(*f)) {
      for (const auto& e : a->entries)
        if (e.stream == kStreamLogs) acked = std::max<std::int64_t>(acked, e.highest_seq);
    } else {
      if (error) *error = as_error(*f);
      break;
    }
  }
  return acked;
}

// Records of one stored stream, by sequence, read the way verify and export read them.
std::vector<std::uint64_t> stored_seqs(Store& store, const std::string& instance) {
  std::vector<std::uint64_t> seqs;
  EXPECT_TRUE(store.scan_stream(instance, kStreamLogs, 0, [&](const StoredBatch& b) {
    for (auto s = b.index.first_seq; s < b.index.end_seq(); ++s) seqs.push_back(s);
    return true;
  }));
  return seqs;
}

// Index entries of one instance over all time (what queries scan).
std::size_t index_entries(Store& store, const std::string& instance) {
  std::size_t n = 0;
  BatchQuery q;
  q.instance = instance;
  EXPECT_TRUE(store.scan_batches(
      q, [&](const BatchIndexEntry&) { return ++n, false; },
      [](const StoredBatch&) { return true; }));
  return n;
}

class TimeTest : public HttpCollectorTest {
 protected:
  json get(const std::string& path, const std::vector<std::pair<std::string, std::string>>& q) {
    const std::string body = get_body(make_http_target(path, q));
    return body.empty() ? json() : json::parse(body);
  }
};

// Item 3: with retention = 1d, lines dated 1970, 2100 and today, all stored at kNow, all live
// until kNow + 1d and all go after it. The old rule (the batch's claimed max event time)
// deleted the 1970 lines at the first compaction and kept the 2100 ones for ever.
TEST_F(TimeTest, RetentionRunsByStoredTimeNotByTheTimeALineClaims) {
  start([](Config& c) { c.storage.retention_ms = 24ull * 3600 * 1000; });
  TimedStream s;
  std::vector<std::string> batches;
  batches.push_back(s.next_batch({{k1970, kNow, "epoch 0"}, {k1970, kNow, "epoch 1"}}));
  batches.push_back(s.next_batch({{k2100, kNow, "future 2"}, {k2100, kNow, "future 3"}}));
  batches.push_back(s.next_batch({{kNow, kNow, "today 4"}, {kNow, kNow, "today 5"}}));
  ASSERT_EQ(send_all(port(), "i-ret", batches, 5), 5);
  const std::vector<std::uint64_t> all{0, 1, 2, 3, 4, 5};

  ASSERT_TRUE(store().compact_all());
  EXPECT_EQ(stored_seqs(store(), "i-ret"), all) << "acknowledged records gone at once";
  EXPECT_EQ(index_entries(store(), "i-ret"), 3u);

  clock_.advance(kDay - kSecond);  // one second before stored time + retention
  ASSERT_TRUE(store().compact_all());
  EXPECT_EQ(stored_seqs(store(), "i-ret"), all) << "deleted before stored time + retention";
  EXPECT_EQ(index_entries(store(), "i-ret"), 3u);
  for (std::uint64_t first : {0, 2, 4}) EXPECT_TRUE(store().get_batch("i-ret", 1, first));

  clock_.advance(2 * kSecond);  // one second after it
  ASSERT_TRUE(store().compact_all());
  EXPECT_TRUE(stored_seqs(store(), "i-ret").empty()) << "a line dated 2100 must not live for ever";
  EXPECT_EQ(index_entries(store(), "i-ret"), 0u);
  // The instance record stays: the evidence that it existed and what it sent.
  auto info = store().get_instance("i-ret");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->records, 6u);
}

// Item 3: a line whose claimed time is further than time_skew (1d) from its read time is kept
// and shown with its claimed time, flagged time_skewed, and windowed by its read time; --last
// counts back from the last read time. The old anchor was the largest claimed time: one line
// dated 2100 made `last=10m` show only that line.
TEST_F(TimeTest, SkewedLinesAreFlaggedAndLastCountsBackFromTheLastReadTime) {
  start();
  TimedStream s;
  std::vector<std::string> batches;
  std::vector<Line> older;
  for (int i = 0; i < 5; ++i) {
    const std::int64_t t = kNow - 60 * kMinute + i * kMinute;
    older.push_back({t, t, "older " + std::to_string(i)});
  }
  batches.push_back(s.next_batch(older));
  std::vector<Line> recent;
  for (int i = 0; i < 3; ++i) {
    const std::int64_t t = kNow - 5 * kMinute + i * kMinute;
    recent.push_back({t, t, "recent " + std::to_string(i)});
  }
  batches.push_back(s.next_batch(recent));
  batches.push_back(s.next_batch({{k1970, kNow - 2 * kMinute, "claims 1970"}}));
  batches.push_back(s.next_batch({{k2100, kNow - kMinute, "claims 2100"}}));
  ASSERT_EQ(send_all(port(), "i-skew", batches, 9), 9);

  const json last = get("/v1/instances/i-skew/records", {{"last", "10m"}});
  EXPECT_EQ(last["anchor_ns"], kNow - kMinute) << last.dump();
  std::vector<std::string> lines;
  for (const auto& r : last["records"]) lines.push_back(r["message"]);
  EXPECT_EQ(lines, (std::vector<std::string>{"recent 0", "recent 1", "recent 2", "claims 1970",
                                             "claims 2100"}))
      << last.dump();

  // Every record is shown, in read order, each with the time it claims; only the skewed ones
  // are flagged.
  const json all = get("/v1/instances/i-skew/records", {});
  ASSERT_EQ(all["records"].size(), 10u) << all.dump();
  for (const auto& r : all["records"]) {
    const std::string msg = r["message"];
    const bool skewed = msg.rfind("claims", 0) == 0;
    EXPECT_EQ(r.value("time_skewed", false), skewed) << r.dump();
    if (msg == "claims 1970") {
      EXPECT_EQ(r["time_ns"], k1970);
    }
    if (msg == "claims 2100") {
      EXPECT_EQ(r["time_ns"], k2100);
    }
  }
  EXPECT_EQ(all["records"][8]["message"], "claims 1970");
  EXPECT_EQ(all["records"][9]["message"], "claims 2100");

  // A window by read time finds the skewed line there, and not at the time it claims.
  const json at_read =
      get("/v1/instances/i-skew/records", {{"since", std::to_string(kNow - kMinute)}});
  ASSERT_EQ(at_read["records"].size(), 1u) << at_read.dump();
  EXPECT_EQ(at_read["records"][0]["message"], "claims 2100");
  const json at_claim =
      get("/v1/instances/i-skew/records", {{"since", std::to_string(k2100 - kSecond)}});
  EXPECT_EQ(at_claim["records"].size(), 0u) << at_claim.dump();
}

// Item 7: PROTOCOL.md §3 — receivers do not reject a batch whose records fall outside its
// header's time range; the collector stores it and indexes it by the records' times. The old
// indexer refused it (malformed_record) for ever.
TEST_F(TimeTest, BatchWithRecordsOutsideItsHeaderRangeIsStoredAndIndexedByRecordTimes) {
  start();
  std::string raw;
  for (int i = 0; i < 2; ++i) {
    RecordData r;
    r.event_time_ns = r.read_time_ns = kNow + i * kSecond;
    r.source = "/var/log/third-party.log";
    r.line = i == 0 ? "first" : "second";
    append_record(raw, r);
  }
  CraftedBatch cb;
  cb.compression = Compression::kNone;
  cb.record_count = 2;
  cb.min_time_ns = cb.max_time_ns = 1'000;  // the header claims 1970
  cb.raw_size = static_cast<std::uint32_t>(raw.size());
  std::optional<ErrorFrame> error;
  EXPECT_EQ(send_all(port(), "i-range", {craft_batch(cb, raw)}, 1, &error), 1)
      << (error ? error->message : "no ACK");

  auto info = store().get_instance("i-range");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->records, 2u);
  EXPECT_EQ(info->min_event_ns, kNow);
  EXPECT_EQ(info->max_event_ns, kNow + kSecond);
  BatchQuery q;
  q.instance = "i-range";
  q.from_ns = kNow + kSecond;  // only a batch indexed by its records' times meets this
  q.to_ns = kNow + 2 * kSecond;
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  ASSERT_TRUE(store().scan_batches(q, nullptr, [&](const StoredBatch& b) {
    ranges.emplace_back(b.index.min_time_ns, b.index.max_time_ns);
    return true;
  }));
  EXPECT_EQ(ranges, (std::vector<std::pair<std::int64_t, std::int64_t>>{{kNow, kNow + kSecond}}));
  const json got = get("/v1/instances/i-range/records", {{"since", std::to_string(kNow)}});
  ASSERT_EQ(got["records"].size(), 2u) << got.dump();
  EXPECT_EQ(got["records"][1]["message"], "second");
}

}  // namespace
}  // namespace blackbox::collector::testing
