// Store building blocks: key order, value codecs, the word filter, the memory budget.
#include <gtest/gtest.h>

#include <random>

#include "collector/server/auth.h"
#include "collector/server/memory_budget.h"
#include "collector/store/codec.h"
#include "collector/store/keys.h"

namespace blackbox::collector {
namespace {

TEST(Keys, TimeKeysSortInTimeOrderAcrossZero) {
  std::vector<std::int64_t> times = {kMinTime, -5'000, -1, 0, 1, 1'700'000'000'000'000'000,
                                     kMaxTime};
  for (std::size_t i = 1; i < times.size(); ++i) {
    EXPECT_LT(keys::time_index_key("i", times[i - 1], 1, 0),
              keys::time_index_key("i", times[i], 1, 0));
    EXPECT_LT(keys::fleet_time_key(times[i - 1], "zzz", 1, 0),
              keys::fleet_time_key(times[i], "a", 1, 0));
  }
}

TEST(Keys, InstancePrefixesDoNotCollide) {
  // "a" with a big sequence must sort before anything of "ab".
  EXPECT_LT(keys::batch_key("a", 0xffffffff, UINT64_MAX), keys::batch_key("ab", 0, 0));
  const auto key = keys::batch_key("i-123", 7, 1ull << 40);
  auto k = keys::parse_batch_key(key);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->instance, "i-123");
  EXPECT_EQ(k->stream, 7u);
  EXPECT_EQ(k->first_seq, 1ull << 40);
  EXPECT_LT(keys::batch_key("i", 1, 255), keys::batch_key("i", 1, 256));
}

TEST(Codec, IndexEntryRoundTrip) {
  std::mt19937_64 rng(42);
  SCOPED_TRACE("seed 42");
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
    e.ingest_seq = rng();
    e.ingest_time_ns = static_cast<std::int64_t>(rng());
    for (auto& c : e.severity_counts) c = static_cast<std::uint32_t>(rng() % 100000);
    e.kinds_mask = static_cast<std::uint8_t>(rng());
    for (std::uint64_t i = 0, k = rng() % 5; i < k; ++i)
      e.sources.push_back("/var/log/" + std::to_string(i));
    e.sources_truncated = rng() % 2;
    e.words = TokenFilter::with_capacity(rng() % 500);
    e.words.add_word("hello");
    std::string v;
    codec::encode_index_entry(v, e, true);
    auto d = codec::decode_index_entry(v);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->instance, e.instance);
    EXPECT_EQ(d->first_seq, e.first_seq);
    EXPECT_EQ(d->max_time_ns, e.max_time_ns);
    EXPECT_EQ(d->severity_counts, e.severity_counts);
    EXPECT_EQ(d->sources, e.sources);
    EXPECT_EQ(d->words.bits(), e.words.bits());
    codec::RetentionFields f;
    ASSERT_TRUE(codec::peek_retention_fields(v, f));
    EXPECT_EQ(f.instance, e.instance);
    EXPECT_EQ(f.max_time_ns, e.max_time_ns);
    // Truncations never decode.
    for (std::size_t cut = 0; cut < v.size(); cut += 1 + v.size() / 16)
      EXPECT_FALSE(codec::decode_index_entry(std::string_view(v).substr(0, cut)));
  }
}

TEST(Codec, InstanceAndEventRoundTrip) {
  InstanceInfo i;
  i.instance = "i-1";
  i.image = "ami-1";
  i.hostnames = {"a", "b"};
  i.boot_ids = {"x"};
  i.first_seen_ns = -5;
  i.state = InstanceState::kTerminated;
  i.end = InstanceEnd{EndKind::kGoodbye, 77, "sigterm", true};
  i.records = 12;
  auto d = codec::decode_instance(codec::encode_instance(i));
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, i);
  LifecycleEvent e{5, LifecycleKind::kWentSilent, "b", "h", "no heartbeat", R"({"x":1})"};
  auto de = codec::decode_event(codec::encode_event(e));
  ASSERT_TRUE(de);
  EXPECT_EQ(*de, e);
  EXPECT_FALSE(codec::decode_instance("not json"));
  EXPECT_FALSE(codec::decode_event("{}"));
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
