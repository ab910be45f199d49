// The stored time retention runs by (issue 11 item 3), at the store's level: a batch's value
// carries the time the collector stored it after the batch bytes, readers get the batch bytes
// exactly as the agent sent them, and a store written before that field existed (values without
// it) stays readable, its retention falling back to the event time. Real RocksDB in a temp dir;
// the old format is made with the raw RocksDB API, as an old collector left it on disk.
#include <gtest/gtest.h>

#include "collector/store/store.h"
#include "collector/store/store_write_batch.h"
#include "tests/collector/fixture.h"
#include "tests/collector/raw_values.h"
#include "tests/collector/test_agent.h"

namespace blackbox::collector::testing {
namespace {

constexpr std::int64_t kDayNs = 86'400'000'000'000;
constexpr std::int64_t kNow = 1'795'000'000'000'000'000;

std::unique_ptr<Store> open_store(const std::string& path, const Clock* clock) {
  StoreOptions so;
  so.path = path;
  so.block_cache_bytes = 8u << 20;
  so.write_buffer_bytes = 4u << 20;
  so.retention_ns = kDayNs;
  so.clock = clock;
  auto s = Store::open(so);
  EXPECT_TRUE(s) << s.error().message();
  return s ? std::move(*s) : nullptr;
}

// Stores `bytes` (a real batch of stream 1) for `instance`, stored at the clock's now.
void put(Store& store, const std::string& instance, const std::string& bytes,
         std::int64_t stored_ns) {
  auto h = parse_batch_header(bytes, Limits{});
  ASSERT_TRUE(h);
  BatchIndexEntry e;
  e.instance = instance;
  e.stream = h->stream;
  e.first_seq = h->first_seq;
  e.record_count = h->record_count;
  e.min_time_ns = h->min_time_ns;
  e.max_time_ns = h->max_time_ns;
  e.ingest_time_ns = stored_ns;
  InstanceInfo info;
  info.instance = instance;
  auto wb = store.write_batch();
  wb.put_instance(info);
  wb.put_batch(e, bytes);
  ASSERT_TRUE(store.commit(std::move(wb), CommitSync::kSync));
}

// Rewrites the `batches` values of the closed store at `path` as an old collector wrote them:
// the batch bytes alone, without the stored-time trailer.
void strip_stored_times(const std::string& path) {
  int rewritten = 0;
  damage_values(path, "batches", [&](const std::string& v) {
    // The new layout: the batch, then 12 bytes of trailer ("BBst", i64 stored time).
    EXPECT_GT(v.size(), 12u);
    if (v.size() <= 12) return v;
    const std::string batch = v.substr(0, v.size() - 12);
    EXPECT_TRUE(parse_batch_header(batch, Limits{})) << "no stored-time trailer";
    EXPECT_EQ(v.substr(v.size() - 12, 4), "BBst");
    ++rewritten;
    return batch;
  });
  EXPECT_EQ(rewritten, 2);
}

TEST(StoredTime, ReadersSeeTheBatchAsSentAndOldStoresStayReadable) {
  TempDir dir;
  const std::string path = dir.sub("db");
  ManualClock clock(kNow);
  // Both batches claim times two days old; both are stored now.
  StreamSource a(1, 100, kNow - 2 * kDayNs), b(1, 100, kNow - 2 * kDayNs);
  const std::string batch_a = a.next_batch(3), batch_b = b.next_batch(3);
  {
    auto store = open_store(path, &clock);
    ASSERT_TRUE(store);
    put(*store, "i-old", batch_a, kNow);
    put(*store, "i-new", batch_b, kNow);
    // Exactly the agent's bytes back, however the value is laid out.
    EXPECT_EQ(store->get_batch("i-old", 1, 0).value(), batch_a);
    auto hash = store->stored_batch_hash("i-old", 1, 0);
    ASSERT_TRUE(hash && *hash);
    EXPECT_EQ(**hash, a.head());
  }
  strip_stored_times(path);  // i-old and i-new now look like an old collector's batches
  {
    auto store = open_store(path, &clock);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->get_batch("i-old", 1, 0).value(), batch_a);
    std::string seen;
    ASSERT_TRUE(store->scan_stream("i-old", 1, 0, [&](const StoredBatch& s) {
      seen.assign(s.bytes);
      return true;
    }));
    EXPECT_EQ(seen, batch_a);
    // A new write of i-new lands in the new format again.
    put(*store, "i-new", batch_b, kNow);
    // Old values fall back to the event time they claim (two days old: gone at once); the
    // rewritten one lives until its stored time + retention.
    ASSERT_TRUE(store->compact_all());
    EXPECT_EQ(store->get_batch("i-old", 1, 0).error(), Errc::kNotFound);
    EXPECT_EQ(store->get_batch("i-new", 1, 0).value(), batch_b);
  }
}

}  // namespace
}  // namespace blackbox::collector::testing
