// RecordsQuery: the engine behind an instance's records (the API's /records and /follow, and
// any reader without HTTP: export, verify, bundle). It reads an instance's batches through the
// store's time index, skips what the index entries rule out, decompresses the rest and tests
// each record with the one predicate of RecordScan, keeps context per (stream, source)
// (ContextScanner), and ends every answer through the one PageCutter (records, bytes, wall
// time) so that one query cannot starve the others or ingest.
//
// Four ways to read, all returning typed records (records_page.h):
//   page()    forward from `since` (or a cursor) in scan order; stops at the page limits and
//             returns a cursor to resume from. Cutting at the time budget is not an error:
//             the page may even be empty, its cursor still moves forward. A grep without
//             context runs on the ScanPool when one is given (same answer, several cores).
//   tail()    the last N matches before `until`: scans growing windows back from the
//             instance's last record until N matches are found, then reads forward once.
//   follow()  records stored after an ingest-log position (live follow), no context; waits
//             for the writer's next commit (Store::wait_for_ingest) up to `max_wait` when
//             nothing new matches.
// Not thread-safe: one object per request (it keeps decompressors and scratch space).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collector/query/cursor.h"
#include "collector/query/record_filter.h"
#include "collector/query/record_scan.h"
#include "collector/query/records_page.h"
#include "collector/query/scan_pool.h"
#include "collector/store/store.h"
#include "schemas/clock.h"
#include "schemas/limits.h"
#include "schemas/result.h"

namespace blackbox::collector::query {

struct RecordsRequest {
  std::string instance;
  std::optional<std::uint32_t> stream = 1;  // nullopt = every stream
  std::int64_t since = kMinTime;            // record event time in [since, until)
  std::int64_t until = kMaxTime;
  std::uint32_t before = 0;  // context records of the same stream and source
  std::uint32_t after = 0;
  std::optional<RecordsCursor> cursor;  // page(): resume here (since/until come from it)
};

// Where a follow resumes: after ingest position `after`, skipping seqs below `skip_seq` in the
// batch right after it (a batch cut in two by the page limit).
struct FollowPosition {
  std::uint64_t after = 0;
  std::uint64_t skip_seq = 0;
  bool operator==(const FollowPosition&) const = default;
};

struct FollowPage {
  RecordsPage page;
  FollowPosition next;  // pass back to continue
};

class RecordsQuery {
 public:
  // `store`, `filter`, `clock` and `pool` (may be null: no parallel grep) must outlive the
  // query.
  RecordsQuery(const Store& store, const RecordFilter& filter, const Limits& limits,
               const PageLimits& page_limits, const Clock& clock, ScanPool* pool = nullptr);
  ~RecordsQuery();

  // Errors: store read errors. A stored batch that cannot be read (damaged block, fails to
  // decode) is skipped and named in RecordsPage::unreadable, in every way to read.
  [[nodiscard]] Result<RecordsPage> page(const RecordsRequest& req);

  // The last `n` matches with event time in [max(req.since, lo), min(req.until, hi)), where
  // [lo, hi) is the instance's event-time range (InstanceInfo min/max_event_ns). Not cut by
  // the page's record or byte limits (n is the limit); `partial` when the time budget ran out.
  [[nodiscard]] Result<RecordsPage> tail(const RecordsRequest& req, std::size_t n, std::int64_t lo,
                                         std::int64_t hi);

  // Matches stored after `from`, in ingest order. When none is there yet, waits for the
  // writer's next commits (Store::wait_for_ingest: a condition woken by every commit, real
  // time) until one matches or `max_wait` has passed; max_wait = 0 answers at once. The
  // returned position moves forward even when the page is empty.
  [[nodiscard]] Result<FollowPage> follow(const RecordsRequest& req, FollowPosition from,
                                          std::chrono::nanoseconds max_wait = {});

 private:
  // Damaged batches the store skips go to out.unreadable (a batch that does not decode does
  // too: every read skips what it cannot read, names it, and goes on).
  static UnreadableVisitor unreadable(RecordsPage& out);
  // page() for a payload-searchable grep without context, on the ScanPool.
  [[nodiscard]] Result<RecordsPage> page_parallel(const RecordsRequest& req);
  // A stored batch copied out of the scan for page_parallel(), and what one read found in it.
  struct PendingBatch {
    ScanPos first;  // seq = first_seq
    std::uint64_t end_seq = 0;
    std::string bytes;
    BatchIndexEntry index;  // named in `unreadable` if it does not decode
  };
  struct BatchMatches {
    std::vector<QueryRecord> records;
    ScanStats stats;
    Result<void> error;
  };
  // Reads the batches of `chunk` on the ScanPool: the matches of each, in chunk order.
  std::vector<BatchMatches> read_chunk(const RecordsRequest& req, std::int64_t since,
                                       std::int64_t until, const ScanPos& emit_from,
                                       const std::vector<PendingBatch>& chunk);
  // One pass of follow(): at most one chunk of the ingest log, no waiting.
  [[nodiscard]] Result<FollowPage> follow_once(const RecordsRequest& req, FollowPosition from);
  // tail() step 1: where a forward read must start to see `n` matches in [lo, hi); nullopt
  // when there is none.
  [[nodiscard]] Result<std::optional<std::int64_t>> tail_start(const RecordsRequest& req,
                                                               std::size_t n, std::int64_t lo,
                                                               std::int64_t hi,
                                                               const PageCutter& cutter,
                                                               RecordsPage& out);
  // Reads [from, to) in scan order for tail(): on_record(record, stream, pos, matched) for
  // each wanted record. `use_index` (no context) lets index entries rule batches out and a
  // payload-searchable grep skip records. Stops with out.partial when the time budget is spent.
  using RangeVisit = std::function<void(const RecordView&, std::uint32_t, const ScanPos&, bool)>;
  [[nodiscard]] Result<void> scan_range(const RecordsRequest& req, std::int64_t from,
                                        std::int64_t to, bool use_index, const PageCutter& cutter,
                                        RecordsPage& out, const RangeVisit& on_record);

  const Store& store_;
  const RecordFilter& filter_;
  Limits limits_;
  PageLimits page_limits_;
  const Clock& clock_;
  ScanPool* pool_;
  RecordScan scan_;                                   // this thread's reader
  std::vector<std::unique_ptr<RecordScan>> workers_;  // per ScanPool slot
};

}  // namespace blackbox::collector::query
