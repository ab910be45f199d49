// Issue 11 item 2: a damaged block hides only what it holds. Many batches are written through
// the collector's write path and compacted into a table file; one byte inside a data block of
// the batches' table file is flipped on disk; the query API must then return every other
// batch's records, name the skipped ones (stream, sequence range) in "unreadable", log and
// count them, and the timeline must go on past them too.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "collector/http/api.h"
#include "schemas/http_target.h"
#include "tests/support/store_fixture.h"
#include "tests/support/store_tamper.h"

namespace blackbox::collector::http {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::flip_byte;
using testing::largest_sst;

constexpr int kBatches = 300;
constexpr int kPerBatch = 50;
constexpr std::int64_t kT0 = 1'700'000'000'000'000'000;
constexpr int kMaxFlips = 8;  // bound on the search for a byte inside a data block

json get(const Api& api, const std::string& path, const QueryParams& params = {}) {
  auto r = api.handle("GET", make_http_target(path, params));
  EXPECT_EQ(r.status, 200u) << r.body;
  return json::parse(r.body, nullptr, false);
}

// Every record seq an unfiltered read of stream 1 returns (all pages), and the unreadable
// ranges named along the way.
struct ReadAll {
  std::set<std::uint64_t> seqs;
  std::vector<json> unreadable;
};
ReadAll read_all(const Api& api) {
  ReadAll out;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    QueryParams p{{"limit", "10000"}};
    if (!cursor.empty()) p.emplace_back("cursor", cursor);
    json doc = get(api, "/v1/instances/i-1/records", p);
    for (const auto& r : doc["records"]) out.seqs.insert(r["seq"].get<std::uint64_t>());
    if (doc.contains("unreadable"))
      for (const auto& u : doc["unreadable"]) out.unreadable.push_back(u);
    if (!doc["next_cursor"].is_string()) break;
    cursor = doc["next_cursor"].get<std::string>();
  }
  return out;
}

TEST(UnreadableBatches, FlippedByteInOneBlockSkipsOnlyItsBatchesAndNamesThem) {
  testing::StoreFixture fx("unreadable");
  fx.hello("i-1");
  for (int b = 0; b < kBatches; ++b) {
    std::vector<testing::TestRecord> records;
    for (int i = 0; i < kPerBatch; ++i) {
      testing::TestRecord r;
      const int seq = b * kPerBatch + i;
      r.time_ns = kT0 + seq * 1'000'000LL;
      r.severity = static_cast<Severity>(seq % 8);
      r.line = "seq=" + std::to_string(seq) + " request id=" + std::to_string(seq * 7919 % 100003) +
               " took " + std::to_string(seq % 997) + "ms path=/api/v" + std::to_string(seq % 13);
      records.push_back(std::move(r));
    }
    fx.add_batch("i-1", 1, records);
  }
  ASSERT_TRUE(fx.store().compact_all());
  const std::string sst = largest_sst(fx.db_path());
  ASSERT_FALSE(sst.empty());
  const auto size = fs::file_size(sst);

  ReadAll got;
  std::unique_ptr<Api> api;
  for (int flip = 1; flip <= kMaxFlips && got.unreadable.empty(); ++flip) {
    // Data blocks fill the file up to its index and footer at the end.
    api.reset();
    fx.close();
    flip_byte(sst, size * static_cast<std::uintmax_t>(flip) / (kMaxFlips + 2));
    fx.open();
    api = std::make_unique<Api>(fx.store(), fx.metrics(), ApiOptions{}, fx.clock());
    got = read_all(*api);
  }
  ASSERT_FALSE(got.unreadable.empty()) << "no flipped byte made a block unreadable";

  // Every record is either returned or inside a named range, never both; the ranges are
  // whole batches and only a few of them.
  std::set<std::uint64_t> missing;
  for (const auto& u : got.unreadable) {
    EXPECT_EQ(u["stream"], 1);
    const auto first = u["first_seq"].get<std::uint64_t>();
    const auto end = u["end_seq"].get<std::uint64_t>();
    EXPECT_EQ(first % kPerBatch, 0u);
    EXPECT_EQ(end, first + kPerBatch);
    EXPECT_FALSE(u["error"].get<std::string>().empty());
    for (auto s = first; s < end; ++s) missing.insert(s);
  }
  for (auto s : missing) EXPECT_FALSE(got.seqs.contains(s)) << "seq " << s << " both";
  EXPECT_EQ(got.seqs.size() + missing.size(), static_cast<std::size_t>(kBatches * kPerBatch));
  EXPECT_LT(got.unreadable.size(), static_cast<std::size_t>(kBatches / 2));
  // Records after the damaged block are there (the old code stopped at it).
  EXPECT_TRUE(got.seqs.contains(kBatches * kPerBatch - 1));
  std::printf("[ damaged  ] %zu of %d batches unreadable, %zu of %d records returned\n",
              got.unreadable.size(), kBatches, got.seqs.size(), kBatches * kPerBatch);

  // Logged and counted once each, however often they are met.
  (void)read_all(*api);
  EXPECT_NE(fx.metrics().render().find("blackbox_collector_unreadable_batches_total " +
                                       std::to_string(got.unreadable.size())),
            std::string::npos)
      << fx.metrics().render();

  // The timeline goes on past them and names them as well.
  json t = get(*api, "/v1/instances/i-1/timeline");
  ASSERT_TRUE(t.contains("unreadable"));
  EXPECT_EQ(t["unreadable"].size(), got.unreadable.size());
  api.reset();
  fx.close();
}

}  // namespace
}  // namespace blackbox::collector::http
