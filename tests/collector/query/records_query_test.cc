// The query engine (collector/query/records_query.h) called directly, with no HTTP: typed
// records, page cuts and cursors, the parallel grep, context, tail, follow waking on a commit,
// and the timeline. The same behaviours as JSON: tests/collector/http/api_test.cc.
#include "collector/query/records_query.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "collector/query/timeline.h"
#include "tests/collector/query/sample_instance.h"

namespace blackbox::collector::query {
namespace {


using testing::kS;
using testing::kT0;
using testing::log_record;

using Seqs = std::vector<std::pair<std::uint64_t, bool>>;  // (seq, context)

Seqs seqs_of(const std::vector<QueryRecord>& records) {
  Seqs out;
  for (const auto& r : records) out.emplace_back(r.seq, r.context);
  return out;
}

class RecordsQueryTest : public ::testing::Test {
 protected:
  static constexpr int kRecords = 120;

  void SetUp() override {
    fx_ = std::make_unique<testing::StoreFixture>("engine");
    testing::add_sample_instance(*fx_, kRecords);
  }

  std::unique_ptr<RecordFilter> filter(FilterSpec spec = {}) {
    std::string error;
    auto f = RecordFilter::compile(std::move(spec), error);
    EXPECT_TRUE(f) << error;
    return std::move(*f);
  }

  // Every page of `req`, following the cursors, at most `max_records` per page.
  std::vector<RecordsPage> pages(const RecordFilter& f, RecordsRequest req, std::size_t max_records,
                                 ScanPool* pool = nullptr) {
    PageLimits limits;
    limits.max_records = max_records;
    std::vector<RecordsPage> out;
    for (int guard = 0; guard < 10'000; ++guard) {
      RecordsQuery q(fx_->store(), f, Limits{}, limits, fx_->clock(), pool);
      auto page = q.page(req);
      EXPECT_TRUE(page) << page.error().message();
      if (!page) break;
      out.push_back(std::move(*page));
      if (!out.back().next) break;
      req.cursor = out.back().next;
    }
    return out;
  }

  static Seqs flatten(const std::vector<RecordsPage>& pages) {
    Seqs out;
    for (const auto& p : pages)
      for (const auto& s : seqs_of(p.records)) out.push_back(s);
    return out;
  }

  static RecordsRequest request() {
    RecordsRequest req;
    req.instance = "i-1";
    return req;
  }

  std::unique_ptr<testing::StoreFixture> fx_;
};

TEST_F(RecordsQueryTest, PageReturnsTypedRecords) {
  auto f = filter();
  auto p = pages(*f, request(), 1000);
  ASSERT_EQ(p.size(), 1u);
  ASSERT_EQ(p[0].records.size(), static_cast<std::size_t>(kRecords));
  EXPECT_EQ(p[0].matches, static_cast<std::size_t>(kRecords));
  EXPECT_EQ(p[0].stats.batches_read, static_cast<std::uint64_t>(kRecords / 10));
  for (int i = 0; i < kRecords; ++i) {
    const QueryRecord& r = p[0].records[i];
    const testing::TestRecord want = log_record(i);
    EXPECT_EQ(r.instance, "i-1");
    EXPECT_EQ(r.stream, 1u);
    EXPECT_EQ(r.seq, static_cast<std::uint64_t>(i));
    EXPECT_EQ(r.event_time_ns, want.time_ns);
    EXPECT_EQ(r.severity, want.severity);
    EXPECT_EQ(r.source, want.source);
    EXPECT_EQ(r.line, want.line);
    EXPECT_EQ(r.field_count, want.fields.size());
    EXPECT_FALSE(r.context);
  }
  std::vector<Field> fields;
  p[0].records[8].view().fields(fields);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].value, "\"bob\"");
}

TEST_F(RecordsQueryTest, PagesCutAtTheLimitAndCursorsResumeExactly) {
  struct Case {
    FilterSpec spec;
    std::uint32_t before, after;
  };
  FilterSpec errors;
  errors.grep = "ERROR";
  FilterSpec bob;
  bob.where = {{"user", "bob"}};
  for (const Case& c : std::vector<Case>{{{}, 0, 0}, {errors, 0, 0}, {errors, 2, 3}, {bob, 5, 0}}) {
    auto f = filter(c.spec);
    RecordsRequest req = request();
    req.before = c.before;
    req.after = c.after;
    const Seqs whole = flatten(pages(*f, req, 1000));
    ASSERT_FALSE(whole.empty());
    for (std::size_t limit : {1, 2, 3, 7}) {
      const auto paged = pages(*f, req, limit);
      // A cut comes after the record that fills the page; a match brings its before-context
      // with it, so a page with context may end a few records later.
      for (std::size_t i = 0; i + 1 < paged.size(); ++i) {
        if (c.before == 0 && c.after == 0) {
          EXPECT_EQ(paged[i].records.size(), limit) << c.spec.grep;
        } else {
          EXPECT_GE(paged[i].records.size(), limit) << c.spec.grep;
        }
      }
      EXPECT_EQ(flatten(paged), whole) << c.spec.grep << " limit " << limit;
    }
  }
}

TEST_F(RecordsQueryTest, ParallelGrepAnswersLikeTheSerialOne) {
  ScanPool pool(2);
  for (const char* grep : {"ok", "ERROR", "line 1[0-9]* ok", "nothing"}) {
    FilterSpec spec;
    spec.grep = grep;
    auto f = filter(spec);
    ASSERT_TRUE(f->can_search_payload());
    const Seqs serial = flatten(pages(*f, request(), 1000));
    for (std::size_t limit : {1, 5, 1000}) {
      const auto parallel = pages(*f, request(), limit, &pool);
      EXPECT_EQ(flatten(parallel), serial) << grep << " limit " << limit;
    }
  }
}

TEST_F(RecordsQueryTest, ContextStaysWithinTheSameSource) {
  FilterSpec spec;
  spec.grep = "line 17 ";
  auto f = filter(spec);
  RecordsRequest req = request();
  req.before = 2;
  req.after = 2;
  auto p = pages(*f, req, 1000);
  ASSERT_EQ(p.size(), 1u);
  // 17 is from app.log: its neighbours there are 14, 16 | 19, 20.
  EXPECT_EQ(seqs_of(p[0].records),
            (Seqs{{14, true}, {16, true}, {17, false}, {19, true}, {20, true}}));
  EXPECT_EQ(p[0].matches, 1u);
  EXPECT_TRUE(p[0].records[0].group_start);
  EXPECT_FALSE(p[0].records[1].group_start);
}

TEST_F(RecordsQueryTest, TailReturnsTheLastMatchesWithTheirContext) {
  FilterSpec spec;
  spec.grep = "ERROR";
  auto f = filter(spec);
  RecordsQuery q(fx_->store(), *f, Limits{}, PageLimits{}, fx_->clock());
  const std::int64_t lo = kT0, hi = kT0 + kRecords * kS;
  auto last3 = q.tail(request(), 3, lo, hi);
  ASSERT_TRUE(last3);
  EXPECT_EQ(seqs_of(last3->records), (Seqs{{97, false}, {107, false}, {117, false}}));
  RecordsRequest req = request();
  req.before = 1;
  req.after = 5;
  auto ctx = q.tail(req, 1, lo, hi);
  ASSERT_TRUE(ctx);
  // 117 is from db.log: its db.log neighbours are 114 and none after.
  EXPECT_EQ(seqs_of(ctx->records), (Seqs{{114, true}, {117, false}}));
  EXPECT_FALSE(ctx->partial);
}

TEST_F(RecordsQueryTest, FollowWithoutWaitAnswersAtOnce) {
  auto f = filter();
  RecordsQuery q(fx_->store(), *f, Limits{}, PageLimits{}, fx_->clock());
  const FollowPosition now{fx_->store().last_ingest_seq(), 0};
  auto nothing = q.follow(request(), now);
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->page.records.empty());
  EXPECT_EQ(nothing->next, now);
  auto all = q.follow(request(), FollowPosition{});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->page.records.size(), static_cast<std::size_t>(kRecords));
  EXPECT_EQ(all->next, now);
}

TEST_F(RecordsQueryTest, FollowWakesOnACommit) {
  FilterSpec spec;
  spec.grep = "ok";
  auto f = filter(spec);
  const FollowPosition from{fx_->store().last_ingest_seq(), 0};
  // Waits (far longer than the test runs) until the writer commits a record that matches.
  auto waiting = std::async(std::launch::async, [&] {
    RecordsQuery q(fx_->store(), *f, Limits{}, PageLimits{}, fx_->clock());
    return q.follow(request(), from, std::chrono::hours(1));
  });
  fx_->add_batch("i-1", 1, {log_record(kRecords + 7)});  // an ERROR line: no match
  fx_->hello("i-2");                                     // another instance
  fx_->add_batch("i-1", 1, {log_record(kRecords), log_record(kRecords + 1)});
  auto got = waiting.get();
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(seqs_of(got->page.records), (Seqs{{kRecords + 1, false}, {kRecords + 2, false}}));
  EXPECT_EQ(got->next.after, fx_->store().last_ingest_seq());
}

TEST_F(RecordsQueryTest, FollowCutAtTheLimitResumesInTheSameBatch) {
  fx_->add_batch("i-1", 1, {log_record(kRecords), log_record(kRecords + 1)});
  auto f = filter();
  PageLimits one;
  one.max_records = 1;
  RecordsQuery q(fx_->store(), *f, Limits{}, one, fx_->clock());
  const FollowPosition from{fx_->store().last_ingest_seq() - 1, 0};
  auto first = q.follow(request(), from);
  ASSERT_TRUE(first);
  EXPECT_EQ(seqs_of(first->page.records), (Seqs{{kRecords, false}}));
  EXPECT_EQ(first->next, (FollowPosition{from.after, kRecords + 1}));
  auto second = q.follow(request(), first->next);
  ASSERT_TRUE(second);
  EXPECT_EQ(seqs_of(second->page.records), (Seqs{{kRecords + 1, false}}));
}

TEST_F(RecordsQueryTest, TimelineCountsErrorsPerBucket) {
  TimelineRequest t;
  t.instance = "i-1";
  auto timeline = build_timeline(fx_->store(), t, Limits{}, PageLimits{}, fx_->clock());
  ASSERT_TRUE(timeline);
  std::uint64_t total = 0;
  for (const Burst& b : timeline->bursts) total += b.count;
  int want = 0;
  for (int i = 0; i < kRecords; ++i) want += (i % 10 == 7 || i % 25 == 0);
  EXPECT_EQ(total, static_cast<std::uint64_t>(want));
  ASSERT_FALSE(timeline->bursts.empty());
  EXPECT_EQ(timeline->bursts[0].worst, Severity::kCrit);  // record 0
  EXPECT_EQ(timeline->instance.instance, "i-1");
  EXPECT_FALSE(timeline->partial);
  t.instance = "nope";
  EXPECT_FALSE(build_timeline(fx_->store(), t, Limits{}, PageLimits{}, fx_->clock()));
}

}  // namespace
}  // namespace blackbox::collector::query
