// Store building blocks: the store's format seen through its public API (key order, value
// round trips), the word filter, the memory budget.
#include "collector/store/store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <functional>

#include <random>
#include <set>

#include "collector/server/auth.h"
#include "collector/server/memory_budget.h"
#include "collector/store/store_write_batch.h"
#include "tests/collector/fixture.h"
#include "tests/collector/raw_values.h"
#include "tests/collector/test_agent.h"

namespace blackbox::collector {
namespace {

using testing::StreamSource;
using testing::TempDir;

std::unique_ptr<Store> open_store(const TempDir& dir) {
  StoreOptions so;
  so.path = dir.sub("db");
  so.block_cache_bytes = 8u << 20;
  so.write_buffer_bytes = 4u << 20;
  auto s = Store::open(so);
  if (!s) throw std::runtime_error("store open: " + s.error().message());
  return std::move(*s);
}

BatchIndexEntry entry_at(std::string instance, std::uint32_t stream, std::uint64_t first_seq,
                         std::int64_t time_ns) {
  BatchIndexEntry e;
  e.instance = std::move(instance);
  e.stream = stream;
  e.first_seq = first_seq;
  e.record_count = 1;
  e.min_time_ns = e.max_time_ns = time_ns;
  return e;
}

InstanceInfo instance_named(const std::string& name) {
  InstanceInfo i;
  i.instance = name;
  return i;
}

TEST(StoreFormat, TimeOrderHoldsAcrossZero) {
  TempDir dir;
  auto store = open_store(dir);
  std::vector<std::int64_t> times = {kMinTime, -5'000, -1, 0, 1, 1'700'000'000'000'000'000,
                                     kMaxTime};
  auto wb = store->write_batch();
  wb.put_instance(instance_named("i"));
  // Stored in reverse; fleet entries alternate between instances that sort the other way.
  for (std::size_t i = times.size(); i-- > 0;) {
    auto e = entry_at("i", 1, i, times[i]);
    wb.put_batch(e, "b");
    auto f = entry_at(i % 2 ? "a" : "zzz", 1, i, times[i]);
    wb.put_batch(f, "b");
  }
  ASSERT_TRUE(store->commit(std::move(wb), CommitSync::kSync));
  std::vector<std::int64_t> seen;
  ASSERT_TRUE(store->scan_batches(BatchQuery{"i", std::nullopt, kMinTime, kMaxTime}, nullptr,
                                  [&](const StoredBatch& b) {
                                    seen.push_back(b.index.min_time_ns);
                                    return true;
                                  }));
  EXPECT_EQ(seen, times);
  std::vector<std::int64_t> fleet;
  ASSERT_TRUE(store->scan_fleet_index(kMinTime, kMaxTime, [&](const BatchIndexEntry& e) {
    if (e.instance != "i") fleet.push_back(e.min_time_ns);
    return true;
  }));
  EXPECT_EQ(fleet, times);
}

TEST(StoreFormat, InstancePrefixesDoNotCollide) {
  TempDir dir;
  auto store = open_store(dir);
  auto wb = store->write_batch();
  auto put = [&](const std::string& instance, std::uint32_t stream, std::uint64_t first_seq) {
    StreamSource src(stream);
    auto e = entry_at(instance, stream, first_seq, 0);
    wb.put_batch(e, src.make_batch(first_seq, 1, {}));
  };
  // "a" with a big stream and sequence must not run into anything of "ab".
  put("a", 0xffffffff, 1ull << 40);
  put("ab", 0, 0);
  put("i", 1, 256);
  put("i", 1, 255);
  ASSERT_TRUE(store->commit(std::move(wb), CommitSync::kSync));
  auto firsts = [&](const std::string& instance, std::uint32_t stream) {
    std::vector<std::uint64_t> out;
    EXPECT_TRUE(store->scan_stream(instance, stream, 0, [&](const StoredBatch& b) {
      EXPECT_EQ(b.index.instance, instance);
      out.push_back(b.index.first_seq);
      return true;
    }));
    return out;
  };
  EXPECT_EQ(firsts("a", 0xffffffff), std::vector<std::uint64_t>{1ull << 40});
  EXPECT_EQ(firsts("ab", 0), std::vector<std::uint64_t>{0});
  EXPECT_EQ(firsts("a", 0), std::vector<std::uint64_t>{});
  EXPECT_EQ(firsts("i", 1), (std::vector<std::uint64_t>{255, 256}));
  auto hash = store->stored_batch_hash("a", 0xffffffff, 1ull << 40);
  ASSERT_TRUE(hash);
  EXPECT_TRUE(*hash);
  hash = store->stored_batch_hash("a", 0xffffffff, 0);
  ASSERT_TRUE(hash);
  EXPECT_FALSE(*hash);
}

TEST(StoreFormat, IndexEntryRoundTrip) {
  TempDir dir;
  auto store = open_store(dir);
  std::mt19937_64 rng(42);
  SCOPED_TRACE("seed 42");
  std::map<std::tuple<std::string, std::uint32_t, std::uint64_t>, BatchIndexEntry> written;
  auto wb = store->write_batch();
  std::set<std::string> instances;
  for (int n = 0; n < 200; ++n) {
    BatchIndexEntry e;
    e.instance = "i-" + std::to_string(rng() % 1000);
    e.stream = static_cast<std::uint32_t>(rng());
    e.first_seq = rng();
    e.record_count = static_cast<std::uint32_t>(rng());
    e.min_time_ns = static_cast<std::int64_t>(rng());
    e.max_time_ns = static_cast<std::int64_t>(rng());
    e.raw_size = static_cast<std::uint32_t>(rng());
    e.stored_size = static_cast<std::uint32_t>(rng());
    e.ingest_time_ns = static_cast<std::int64_t>(rng());
    for (auto& c : e.severity_counts) c = static_cast<std::uint32_t>(rng() % 100000);
    e.kinds_mask = static_cast<std::uint8_t>(rng());
    for (std::uint64_t i = 0, k = rng() % 5; i < k; ++i)
      e.sources.push_back("/var/log/" + std::to_string(i));
    e.sources_truncated = rng() % 2;
    e.words = TokenFilter::with_capacity(rng() % 500);
    e.words.add_word("hello");
    if (instances.insert(e.instance).second) wb.put_instance(instance_named(e.instance));
    wb.put_batch(e, "b");
    written[{e.instance, e.stream, e.first_seq}] = e;
  }
  ASSERT_TRUE(store->commit(std::move(wb), CommitSync::kSync));
  auto check = [&](const BatchIndexEntry& d, bool with_words) {
    auto it = written.find({d.instance, d.stream, d.first_seq});
    ASSERT_NE(it, written.end());
    const BatchIndexEntry& e = it->second;
    EXPECT_EQ(d.instance, e.instance);
    EXPECT_EQ(d.first_seq, e.first_seq);
    EXPECT_EQ(d.max_time_ns, e.max_time_ns);
    EXPECT_EQ(d.ingest_seq, e.ingest_seq);
    EXPECT_EQ(d.severity_counts, e.severity_counts);
    EXPECT_EQ(d.sources, e.sources);
    if (with_words) {
      EXPECT_EQ(d.words.bits(), e.words.bits());
    }
  };
  std::size_t seen = 0;
  for (const auto& instance : instances) {
    ASSERT_TRUE(store->scan_batches(BatchQuery{instance, std::nullopt, kMinTime, kMaxTime}, nullptr,
                                    [&](const StoredBatch& b) {
                                      check(b.index, true);
                                      ++seen;
                                      return true;
                                    }));
  }
  EXPECT_EQ(seen, written.size());
  seen = 0;
  ASSERT_TRUE(store->scan_fleet_index(kMinTime, kMaxTime, [&](const BatchIndexEntry& d) {
    check(d, false);
    ++seen;
    return true;
  }));
  EXPECT_EQ(seen, written.size());
  EXPECT_EQ(store->last_ingest_seq(), written.size());
}

TEST(StoreFormat, InstanceAndEventRoundTrip) {
  TempDir dir;
  auto store = open_store(dir);
  InstanceInfo i;
  i.instance = "i-1";
  i.image = "ami-1";
  i.hostnames = {"a", "b"};
  i.boot_ids = {"x"};
  i.first_seen_ns = -5;
  i.state = InstanceState::kTerminated;
  i.end = InstanceEnd{EndKind::kGoodbye, 77, "sigterm", true};
  i.records = 12;
  LifecycleEvent e{5, LifecycleKind::kWentSilent, "b", "h", "no heartbeat", R"({"x":1})"};
  auto wb = store->write_batch();
  wb.put_instance(i);
  wb.put_lifecycle("i-1", e);
  ASSERT_TRUE(store->commit(std::move(wb), CommitSync::kSync));
  auto d = store->get_instance("i-1");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, i);
  auto de = store->lifecycle_events("i-1");
  ASSERT_TRUE(de);
  ASSERT_EQ(de->size(), 1u);
  EXPECT_EQ((*de)[0], e);
}

std::string stored_value(const std::string& path, const std::string& cf_name) {
  std::string out;
  damage_values(path, cf_name, [&](const std::string& v) {
    out = v;
    return v;
  });
  return out;
}

TEST(StoreFormat, DamagedValuesAreReportedCorruptNeverMisread) {
  TempDir dir;
  const std::string path = dir.sub("db");
  {
    auto store = open_store(dir);
    auto wb = store->write_batch();
    wb.put_instance(instance_named("i-1"));
    wb.put_lifecycle("i-1", LifecycleEvent{5, LifecycleKind::kHello, "b", "h", "", "{}"});
    auto e = entry_at("i-1", 1, 0, 1'000);
    e.sources = {"/var/log/a"};
    e.words = TokenFilter::with_capacity(4);
    e.words.add_word("hello");
    wb.put_batch(e, "batch-bytes");
    ASSERT_TRUE(store->commit(std::move(wb), CommitSync::kSync));
  }
  auto scan = [&](std::unique_ptr<Store>& s) {
    BatchQuery q;
    q.instance = "i-1";
    return s->scan_batches(q, nullptr, [](const StoredBatch&) { return true; });
  };
  // Every truncation of an index entry is refused, never read as a shorter entry.
  const std::string index_value = stored_value(path, "time_index");
  ASSERT_GT(index_value.size(), 8u);
  for (std::size_t cut = 0; cut < index_value.size(); ++cut) {
    damage_values(path, "time_index", [&](const std::string&) { return index_value.substr(0, cut); });
    auto store = open_store(dir);
    auto r = scan(store);
    ASSERT_FALSE(r) << "index entry cut to " << cut << " of " << index_value.size() << " bytes";
    EXPECT_EQ(r.error(), Errc::kCorrupt);
  }
  damage_values(path, "time_index", [&](const std::string&) { return index_value; });
  {
    auto store = open_store(dir);
    EXPECT_TRUE(scan(store));
  }
  // An instance record or lifecycle event that is not what the store wrote.
  damage_values(path, "instances", [](const std::string&) { return std::string("not json"); });
  damage_values(path, "lifecycle", [](const std::string&) { return std::string("{}"); });
  auto store = open_store(dir);
  auto info = store->get_instance("i-1");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error(), Errc::kCorrupt);
  auto events = store->lifecycle_events("i-1");
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error(), Errc::kCorrupt);
}

TEST(TokenFilter, FindsItsWordsAndRejectsMostOthers) {
  auto f = TokenFilter::with_capacity(1000);
  std::vector<std::string> words;
  for (int i = 0; i < 1000; ++i) words.push_back("word" + std::to_string(i));
  for (const auto& w : words) f.add_word(w);
  for (const auto& w : words) EXPECT_TRUE(f.may_contain_word(w));
  EXPECT_TRUE(f.may_contain_word("WORD17"));  // case-insensitive
  int false_positives = 0;
  for (int i = 0; i < 1000; ++i)
    if (f.may_contain_word("other" + std::to_string(i))) ++false_positives;
  EXPECT_LT(false_positives, 50);
  EXPECT_TRUE(TokenFilter().may_contain_word("anything"));  // empty: no claim
}

TEST(TokenFilter, WordsForSubstringAreThoseBoundedInsideTheNeedle) {
  EXPECT_EQ(words_for_substring("connection refused"), std::vector<std::string>{});
  EXPECT_EQ(words_for_substring("error: Connection refused by peer"),
            (std::vector<std::string>{"connection", "refused", "by"}));
  std::vector<std::string> seen;
  for_each_word("a-b_c  D9", [&](std::string_view w) { seen.emplace_back(w); });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b_c", "D9"}));
}

// The ingest scanner (bit masks, masked loads) must find exactly the words, and compute
// exactly the hashes, of the plain byte loop: a missed or mis-hashed word is a false negative.
TEST(TokenFilter, IngestScannerMatchesThePlainWordLoop) {
  std::mt19937_64 rng(7);
  SCOPED_TRACE("seed 7");
  const std::string alphabet = "aZq_09 .-/=:\"\x80\xc3\xff";
  for (int iter = 0; iter < 3000; ++iter) {
    // Runs of word and other bytes, lengths 1..80, so words of every length (including
    // > 64) land at every offset around the 16- and 64-byte boundaries.
    std::string buf;
    const std::size_t len = rng() % 300;
    while (buf.size() < len + 40) {
      const std::size_t run = 1 + (rng() % 4 == 0 ? rng() % 80 : rng() % 12);
      for (std::size_t i = 0; i < run; ++i) buf.push_back(alphabet[rng() % alphabet.size()]);
    }
    // A view into the middle of a bigger buffer: the bytes around it must not leak in.
    const std::size_t from = rng() % 20;
    const std::string_view text = std::string_view(buf).substr(from, len);
    std::vector<std::uint64_t> expected;
    for_each_word(text, [&](std::string_view w) {
      if (w.size() >= 2 && w.size() <= 64) expected.push_back(TokenFilter::word_hash(w));
    });
    std::vector<std::uint64_t> got;
    TokenFilter::hash_words(text, got);
    ASSERT_EQ(got, expected) << "iteration " << iter;
    auto by_hash = TokenFilter::with_capacity(64);
    for (auto h : expected) by_hash.add_hash(h);
    auto by_text = TokenFilter::with_capacity(64);
    by_text.add_words(text);
    ASSERT_EQ(by_text.bits(), by_hash.bits()) << "iteration " << iter;
  }
}

TEST(MemoryBudget, WaitersAreWokenWhenBytesReturn) {
  MemoryBudget b(100);
  EXPECT_TRUE(b.acquire_or_wait(60, [] {}));
  int woken = 0;
  EXPECT_FALSE(b.acquire_or_wait(60, [&] { ++woken; }));
  EXPECT_EQ(b.used(), 60u);
  b.release(60);
  EXPECT_EQ(woken, 1);
  EXPECT_TRUE(b.acquire_or_wait(100, [] {}));
  b.release(100);
  EXPECT_EQ(b.used(), 0u);
}

TEST(Auth, TokenIsHmacOfTheInstance) {
  const auto t = hello_token("secret", "i-1");
  EXPECT_EQ(t.size(), 64u);
  EXPECT_TRUE(token_valid("secret", "i-1", t));
  EXPECT_FALSE(token_valid("secret", "i-2", t));
  EXPECT_FALSE(token_valid("other", "i-1", t));
  EXPECT_FALSE(token_valid("secret", "i-1", ""));
  EXPECT_TRUE(valid_instance_id("i-0abc"));
  EXPECT_FALSE(valid_instance_id(""));
  EXPECT_FALSE(valid_instance_id("has space"));
  EXPECT_FALSE(valid_instance_id(std::string(257, 'a')));
}

}  // namespace
}  // namespace blackbox::collector

namespace blackbox::collector {
namespace {

TEST(StoreEnrollment, KeysArePersistedListedAndForgotten) {
  testing::TempDir dir;
  Enrollment a{"i-a", {}, 1'000, "fleet", "127.0.0.1:4000"};
  a.public_key.fill(0xab);
  Enrollment b{"i-b", {}, 2'000, "", ""};
  b.public_key.fill(0x01);
  {
    auto store = open_store(dir);
    auto none = store->enrollment("i-a");
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
    ASSERT_TRUE(store->put_enrollment(b));
    ASSERT_TRUE(store->put_enrollment(a));
    ASSERT_TRUE(store->set_legal_hold("i-a", true));  // shares the meta family
  }
  auto store = open_store(dir);  // persisted
  auto got = store->enrollment("i-a");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, a);
  auto all = store->enrollments();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0], a);
  EXPECT_EQ((*all)[1], b);
  EXPECT_EQ(store->legal_holds(), std::vector<std::string>{"i-a"});
  ASSERT_TRUE(store->delete_enrollment("i-a"));
  auto gone = store->delete_enrollment("i-a");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error(), Errc::kNotFound);
  EXPECT_FALSE(*store->enrollment("i-a"));
  EXPECT_EQ(store->enrollments()->size(), 1u);
}

}  // namespace
}  // namespace blackbox::collector
