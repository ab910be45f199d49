#include "collector/query/records_query.h"

#include <algorithm>
#include <functional>
#include <tuple>

#include "collector/query/context_scanner.h"

namespace blackbox::collector::query {
namespace {

// Scan order (Store::scan_batches): batch min_time, stream, first_seq, then the record's seq.
bool batch_before(const ScanPos& a, const ScanPos& b) {
  return std::tie(a.min_time, a.stream, a.first_seq) < std::tie(b.min_time, b.stream, b.first_seq);
}
bool same_batch(const ScanPos& a, const ScanPos& b) {
  return !batch_before(a, b) && !batch_before(b, a);
}
ScanPos batch_first(const BatchIndexEntry& e) {
  return {e.min_time_ns, e.stream, e.first_seq, e.first_seq};
}
ScanPos batch_last(const BatchIndexEntry& e) {
  return {e.min_time_ns, e.stream, e.first_seq, e.end_seq()};
}
// The first seq of the batch starting at `first` that is at or after `from`; the callers have
// already left out batches wholly before `from`.
std::uint64_t min_seq_from(const ScanPos& first, const ScanPos& from) {
  return same_batch(first, from) ? from.seq : 0;
}

// The time range and resume positions of a page request (from its cursor when it has one).
struct Window {
  std::int64_t since, until;
  ScanPos scan_from, emit_from;
};
Window window_of(const RecordsRequest& req) {
  if (!req.cursor) return {req.since, req.until, ScanPos{}, ScanPos{}};
  const RecordsCursor& c = *req.cursor;
  return {c.since, c.until, c.scan_from, c.emit_from};
}
BatchQuery batch_query(const RecordsRequest& req, std::int64_t from, std::int64_t to) {
  BatchQuery q;
  q.instance = req.instance;
  q.stream = req.stream;
  q.from_ns = from;
  q.to_ns = to;
  return q;
}
RecordsCursor cursor_at(const Window& w, const ScanPos& cut) {
  RecordsCursor c;
  c.since = w.since;
  c.until = w.until;
  c.scan_from = cut;
  c.emit_from = cut;
  return c;
}

}  // namespace

RecordsQuery::RecordsQuery(const Store& store, const RecordFilter& filter, const Limits& limits,
                           const PageLimits& page_limits, const Clock& clock, ScanPool* pool)
    : store_(store),
      filter_(filter),
      limits_(limits),
      page_limits_(page_limits),
      clock_(clock),
      pool_(pool),
      scan_(filter, limits) {}

RecordsQuery::~RecordsQuery() = default;

UnreadableVisitor RecordsQuery::unreadable(RecordsPage& out) {
  return [&out](const UnreadableBatch& u) { note_unreadable(out.unreadable, u); };
}

Result<RecordsPage> RecordsQuery::page(const RecordsRequest& req) {
  if (pool_ != nullptr && pool_->width() > 1 && req.before == 0 && req.after == 0 &&
      filter_.can_search_payload())
    return page_parallel(req);
  RecordsPage out;
  PageCutter cutter(page_limits_, clock_);
  const Window w = window_of(req);
  ContextScanner scanner(
      req.before, req.after,
      [&](const RecordView& r, std::uint32_t stream, const ScanPos&, bool context, bool group_start,
          std::uint64_t) { cutter.add(out, req.instance, stream, r, context, group_start); });
  if (req.cursor) scanner.restore(*req.cursor);
  const bool context = scanner.context();
  const RecordScan::Mode mode = RecordScan::mode_for(filter_, context);
  bool stop = false;
  ScanPos cut_at;

  auto want = [&](const BatchIndexEntry& e) {
    if (stop) return true;  // visit() stops the scan
    const ScanPos first = batch_first(e);
    if (batch_before(first, w.scan_from)) return false;
    if (!context && batch_last(e) <= w.emit_from) return false;  // printed by an earlier page
    if (!context && !filter_.index_may_match(e)) {
      ++out.stats.batches_skipped;
      return false;
    }
    if (first > w.emit_from && cutter.over_budget()) {
      stop = true;
      cut_at = first;
    }
    return true;
  };
  auto visit = [&](const StoredBatch& b) {
    if (stop) return false;
    const ScanPos first = batch_first(b.index);
    const RecordScan::Range range{min_seq_from(first, w.scan_from), w.since, w.until};
    auto read = scan_.read(b.bytes, range, mode, out.stats, [&](const RecordView& r, bool matched) {
      const ScanPos pos{first.min_time, first.stream, first.first_seq, r.seq};
      // Before the cursor's emit position: read again only to refill context buffers.
      const bool replay = pos < w.emit_from;
      if (replay && !context) return true;
      scanner.record(r, first.stream, pos, matched && !replay, replay);
      if (replay) return true;
      if (cutter.full() || cutter.over_budget_sampled()) {
        stop = true;
        cut_at = pos;
        cut_at.seq = r.seq + 1;
        return false;
      }
      return true;
    });
    if (!read) note_unreadable(out.unreadable, undecodable(b.index, read.error()));
    return !stop;
  };
  const std::int64_t from = req.cursor ? std::max(w.since, w.scan_from.min_time) : w.since;
  if (auto ok = store_.scan_batches(batch_query(req, from, w.until), want, visit, unreadable(out));
      !ok)
    return ok.error();
  if (stop) {
    RecordsCursor next = cursor_at(w, cut_at);
    scanner.cut(next, cut_at);
    next.emit_from = cut_at;
    out.next = std::move(next);
  }
  return out;
}

// Batches are copied out of the scan in chunks, read on the ScanPool (read_chunk), then merged
// in scan order through the same PageCutter.
Result<RecordsPage> RecordsQuery::page_parallel(const RecordsRequest& req) {
  RecordsPage out;
  PageCutter cutter(page_limits_, clock_);
  const Window w = window_of(req);
  while (workers_.size() < pool_->width())
    workers_.push_back(std::make_unique<RecordScan>(filter_, limits_));
  std::vector<PendingBatch> chunk;
  // Chunks start small (a first answer soon) and grow until waking the helpers (a barrier
  // per chunk) costs little next to the work.
  std::size_t chunk_size = pool_->width();
  const std::size_t max_chunk = 16 * pool_->width();
  bool stop = false;
  ScanPos cut_at;

  auto flush = [&](bool final) -> bool {
    std::vector<BatchMatches> found = read_chunk(req, w.since, w.until, w.emit_from, chunk);
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      BatchMatches& f = found[i];
      out.stats.batches_read += f.stats.batches_read;
      out.stats.records_scanned += f.stats.records_scanned;
      out.stats.raw_bytes_scanned += f.stats.raw_bytes_scanned;
      if (!f.error) {
        note_unreadable(out.unreadable, undecodable(chunk[i].index, f.error.error()));
        continue;
      }
      for (QueryRecord& r : f.records) {
        const std::uint64_t seq = r.seq;
        cutter.add(out, std::move(r));
        if (cutter.full()) {
          stop = true;
          cut_at = chunk[i].first;
          cut_at.seq = seq + 1;
          return false;
        }
      }
    }
    const PendingBatch last{chunk.back().first, chunk.back().end_seq, {}, {}};
    chunk.clear();
    if (!final && cutter.over_budget()) {
      stop = true;
      cut_at = last.first;
      cut_at.seq = last.end_seq;
      return false;
    }
    return true;
  };

  auto want = [&](const BatchIndexEntry& e) {
    if (batch_before(batch_first(e), w.scan_from)) return false;
    if (batch_last(e) <= w.emit_from) return false;
    if (!filter_.index_may_match(e)) {
      ++out.stats.batches_skipped;
      return false;
    }
    return true;
  };
  auto visit = [&](const StoredBatch& b) {
    if (stop) return false;
    chunk.push_back(
        PendingBatch{batch_first(b.index), b.index.end_seq(), std::string(b.bytes), b.index});
    if (chunk.size() < chunk_size) return true;
    chunk_size = std::min(2 * chunk_size, max_chunk);
    return flush(/*final=*/false);
  };
  const std::int64_t from = req.cursor ? std::max(w.since, w.scan_from.min_time) : w.since;
  if (auto ok = store_.scan_batches(batch_query(req, from, w.until), want, visit, unreadable(out));
      !ok)
    return ok.error();
  if (!stop && !chunk.empty()) flush(/*final=*/true);
  if (stop) out.next = cursor_at(w, cut_at);
  return out;
}

std::vector<RecordsQuery::BatchMatches> RecordsQuery::read_chunk(
    const RecordsRequest& req, std::int64_t since, std::int64_t until, const ScanPos& emit_from,
    const std::vector<PendingBatch>& chunk) {
  std::vector<BatchMatches> found(chunk.size());
  pool_->parallel_for(chunk.size(), [&](std::size_t i, std::size_t slot) {
    const PendingBatch& p = chunk[i];
    BatchMatches& f = found[i];
    const RecordScan::Range range{min_seq_from(p.first, emit_from), since, until};
    f.error = workers_[slot]->read(
        p.bytes, range, RecordScan::Mode::kCandidates, f.stats,
        [&](const RecordView& r, bool matched) {
          if (matched) f.records.push_back(QueryRecord::from(req.instance, p.first.stream, r));
          return true;
        });
  });
  return found;
}

Result<void> RecordsQuery::scan_range(const RecordsRequest& req, std::int64_t from, std::int64_t to,
                                      bool use_index, const PageCutter& cutter, RecordsPage& out,
                                      const RangeVisit& on_record) {
  const RecordScan::Mode mode = RecordScan::mode_for(filter_, /*context=*/!use_index);
  bool stop = false;
  auto want = [&](const BatchIndexEntry& e) {
    if (stop) return true;
    if (use_index && !filter_.index_may_match(e)) {
      ++out.stats.batches_skipped;
      return false;
    }
    return true;
  };
  auto visit = [&](const StoredBatch& b) {
    if (stop) return false;
    if (cutter.over_budget()) {
      out.partial = true;
      stop = true;
      return false;
    }
    const ScanPos first = batch_first(b.index);
    auto read =
        scan_.read(b.bytes, RecordScan::Range{0, from, to}, mode, out.stats,
                   [&](const RecordView& r, bool matched) {
                     const ScanPos pos{first.min_time, first.stream, first.first_seq, r.seq};
                     on_record(r, first.stream, pos, matched);
                     return true;
                   });
    if (!read) note_unreadable(out.unreadable, undecodable(b.index, read.error()));
    return true;
  };
  if (auto ok = store_.scan_batches(batch_query(req, from, to), want, visit, unreadable(out)); !ok)
    return ok.error();
  return {};
}

Result<std::optional<std::int64_t>> RecordsQuery::tail_start(const RecordsRequest& req,
                                                             std::size_t n, std::int64_t lo,
                                                             std::int64_t hi,
                                                             const PageCutter& cutter,
                                                             RecordsPage& out) {
  // Grow a window back from the end until it holds n matches.
  std::int64_t start = hi;
  std::int64_t width = 60'000'000'000;  // 1 minute, then x4
  std::size_t found = 0;
  while (found < n && start > lo && !out.partial) {
    const std::int64_t from = (start - lo > width) ? start - width : lo;
    auto ok = scan_range(req, from, start, /*use_index=*/true, cutter, out,
                         [&](const RecordView&, std::uint32_t, const ScanPos&, bool matched) {
                           if (matched) ++found;
                         });
    if (!ok) return ok.error();
    start = from;
    width = width > INT64_MAX / 4 ? INT64_MAX : width * 4;
  }
  if (found == 0) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(start);
}

Result<RecordsPage> RecordsQuery::tail(const RecordsRequest& req, std::size_t n, std::int64_t lo,
                                       std::int64_t hi) {
  RecordsPage out;
  PageCutter cutter(page_limits_, clock_);
  const std::int64_t lo_eff = std::max(req.since, lo);
  const std::int64_t hi_eff = std::min(req.until, hi);
  if (n == 0 || lo_eff >= hi_eff) return out;
  auto start = tail_start(req, n, lo_eff, hi_eff, cutter, out);
  if (!start) return start.error();
  if (!*start) return out;

  // Read [start, end) forward once, with context, keeping the last n matches and the context
  // that belongs to them.
  struct Item {
    QueryRecord rec;
    std::uint64_t owner;  // the match it is (context of)
  };
  std::vector<Item> items;
  std::uint64_t matches = 0;
  const std::size_t per_match = 1 + req.before + req.after;
  auto trim = [&] {
    if (matches <= n) return;
    const std::uint64_t keep_from = matches - n;  // owners below this are dropped
    std::erase_if(items, [&](const Item& it) { return it.owner < keep_from; });
  };
  ContextScanner scanner(req.before, req.after,
                         [&](const RecordView& r, std::uint32_t stream, const ScanPos&,
                             bool context, bool group_start, std::uint64_t owner) {
                           QueryRecord q = QueryRecord::from(req.instance, stream, r);
                           q.context = context;
                           q.group_start = group_start;
                           items.push_back(Item{std::move(q), owner});
                           if (!context) ++matches;
                           if (items.size() > 4 * n * per_match + 1024) trim();
                         });
  auto ok = scan_range(req, **start, hi_eff, /*use_index=*/!scanner.context(), cutter, out,
                       [&](const RecordView& r, std::uint32_t stream, const ScanPos& pos,
                           bool matched) { scanner.record(r, stream, pos, matched, false); });
  if (!ok) return ok.error();
  trim();
  for (Item& it : items) cutter.add(out, std::move(it.rec));
  return out;
}

Result<FollowPage> RecordsQuery::follow_once(const RecordsRequest& req, FollowPosition from) {
  constexpr std::size_t kMaxBatchesPerCall = 64;
  FollowPage out;
  RecordsPage& page = out.page;
  PageCutter cutter(page_limits_, clock_);
  const RecordScan::Mode mode = RecordScan::mode_for(filter_, /*context=*/false);
  bool stopped = false;
  auto visit = [&](const StoredBatch& b) {
    if (req.stream && b.index.stream != *req.stream) return true;
    const bool resumed = b.index.ingest_seq == from.after + 1;
    const RecordScan::Range range{resumed ? from.skip_seq : 0, req.since, req.until};
    auto read =
        scan_.read(b.bytes, range, mode, page.stats, [&](const RecordView& r, bool matched) {
          if (!matched) return true;
          cutter.add(page, req.instance, b.index.stream, r, false, false);
          if (!cutter.full()) return true;
          stopped = true;
          out.next = FollowPosition{b.index.ingest_seq - 1, r.seq + 1};
          return false;
        });
    if (!read) note_unreadable(page.unreadable, undecodable(b.index, read.error()));
    return !stopped;
  };
  auto pos =
      store_.scan_ingest_log(from.after, kMaxBatchesPerCall, req.instance, visit, unreadable(page));
  if (!pos) return pos.error();
  if (!stopped) out.next = FollowPosition{*pos, 0};
  return out;
}

Result<FollowPage> RecordsQuery::follow(const RecordsRequest& req, FollowPosition from,
                                        std::chrono::nanoseconds max_wait) {
  // Real time, whatever clock_ says: the store's condition variable waits in real time.
  const auto deadline = std::chrono::steady_clock::now() + max_wait;
  for (;;) {
    const std::uint64_t known = store_.last_ingest_seq();
    auto page = follow_once(req, from);
    if (!page || !page->page.records.empty()) return page;
    const bool progressed = page->next.after > from.after;
    from = page->next;
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= left.zero()) return page;
    if (progressed && from.after < known) continue;  // one pass reads a bounded chunk
    // Everything stored before this pass was read: wait for the writer's next commit.
    const std::uint64_t seen = std::max(from.after, known);
    if (store_.wait_for_ingest(seen, left) <= seen) return page;  // nothing new in time
  }
}

}  // namespace blackbox::collector::query
