#include "collector/http/records_query.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "schemas/batch.h"
#include "schemas/bytes.h"
#include "schemas/record_json.h"

namespace blackbox::collector::http {
namespace {

// A record copied out of a batch payload (which is overwritten by the next batch).
struct OwnedRecord {
  ScanPos pos;
  RecordKind kind = RecordKind::kLog;
  Severity severity = Severity::kUnknown;
  std::uint8_t flags = 0;
  std::int64_t event_time_ns = 0;
  std::int64_t read_time_ns = 0;
  std::string source, line, fields_raw;
  std::uint32_t field_count = 0;
  std::uint64_t pred_seq = kNoSeq;  // the previous record of the same (stream, source)

  OwnedRecord(const RecordView& r, const ScanPos& p, std::uint64_t pred)
      : pos(p),
        kind(r.kind),
        severity(r.severity),
        flags(r.flags),
        event_time_ns(r.event_time_ns),
        read_time_ns(r.read_time_ns),
        source(r.source),
        line(r.line),
        fields_raw(r.fields_raw),
        field_count(r.field_count),
        pred_seq(pred) {}

  RecordView view() const {
    RecordView v;
    v.seq = pos.seq;
    v.kind = kind;
    v.severity = severity;
    v.flags = flags;
    v.event_time_ns = event_time_ns;
    v.read_time_ns = read_time_ns;
    v.source = source;
    v.line = line;
    v.field_count = field_count;
    v.fields_raw = fields_raw;
    return v;
  }
};

bool batch_before(const ScanPos& a, const ScanPos& b) {
  return std::tie(a.min_time, a.stream, a.first_seq) < std::tie(b.min_time, b.stream, b.first_seq);
}

std::size_t json_size_estimate(const RecordView& r) {
  return 200 + r.line.size() + r.line.size() / 8 + r.source.size() + r.fields_raw.size();
}

}  // namespace

// Decides match / context / nothing for each record in scan order and hands emitted records to
// a sink. Context is kept per (stream, source): a match first flushes up to `before` earlier
// unprinted records of its source, then owes `after` following records of its source.
class RecordsQuery::Scanner {
 public:
  // (record, stream, pos, context, group_start, owner): `owner` numbers the match an emitted
  // record belongs to (0, 1, ... in match order): itself, or the match it is context of.
  using Sink = std::function<void(const RecordView&, std::uint32_t, const ScanPos&, bool, bool,
                                  std::uint64_t)>;

  Scanner(std::uint32_t before, std::uint32_t after, Sink sink)
      : before_(before), after_(after), sink_(std::move(sink)) {}

  bool context() const { return before_ > 0 || after_ > 0; }

  void restore(const RecordsCursor& c) {
    for (const auto& k : c.keys) resume_[{k.stream, k.source_hash}] = k;
    restored_scan_from_ = c.scan_from;
  }

  void record(const RecordView& r, std::uint32_t stream, const ScanPos& pos, bool matched,
              bool replay) {
    if (!context()) {
      if (matched && !replay) sink_(r, stream, pos, false, false, matches_++);
      return;
    }
    auto [it, inserted] = keys_.try_emplace(Key{stream, std::string(r.source)});
    KeyState& k = it->second;
    const ContextKey* resume = nullptr;
    const std::pair<std::uint32_t, std::uint64_t> id{stream, source_hash(r.source)};
    if (auto rs = resume_.find(id); rs != resume_.end()) resume = &rs->second;
    if (inserted) touched_.insert(id);
    if (inserted && resume != nullptr) k.after_left = resume->after_left;
    const std::uint64_t pred = k.last_seq;
    k.last_seq = pos.seq;
    if (replay) {
      // Rebuild exactly the before-context buffer the previous page had at its cut.
      if (resume != nullptr && resume->front_seq != kNoSeq && pos.seq >= resume->front_seq)
        push(k, OwnedRecord(r, pos, pred));
      return;
    }
    if (matched) {
      const std::uint64_t owner = matches_++;
      for (const OwnedRecord& b : k.buf) emit(k, b.view(), stream, b.pos, true, b.pred_seq, owner);
      k.buf.clear();
      emit(k, r, stream, pos, false, pred, owner);
      k.after_left = after_;
      k.last_match = owner;
    } else if (k.after_left > 0) {
      emit(k, r, stream, pos, true, pred, k.last_match);
      --k.after_left;
    } else if (before_ > 0) {
      push(k, OwnedRecord(r, pos, pred));
    }
  }

  // Fills the cursor's scan_from and context keys for a cut at `cut`.
  void cut(RecordsCursor& c, const ScanPos& cut) const {
    c.scan_from = cut;
    c.emit_from = cut;
    c.keys.clear();
    for (const auto& [key, k] : keys_) {
      if (k.buf.empty() && k.after_left == 0) continue;
      if (c.keys.size() == kMaxCursorKeys) break;  // beyond: context around the cut is lost
      ContextKey ck;
      ck.stream = key.stream;
      ck.source_hash = source_hash(key.source);
      ck.after_left = k.after_left;
      if (!k.buf.empty()) {
        ck.front_seq = k.buf.front().pos.seq;
        c.scan_from = std::min(c.scan_from, k.buf.front().pos);
      }
      c.keys.push_back(ck);
    }
    // Sources this answer never saw keep the state the previous cursor gave them.
    for (const auto& [id, ck] : resume_) {
      if (touched_.contains(id)) continue;
      if (c.keys.size() == kMaxCursorKeys) break;
      c.keys.push_back(ck);
      if (ck.front_seq != kNoSeq) c.scan_from = std::min(c.scan_from, restored_scan_from_);
    }
  }

 private:
  struct Key {
    std::uint32_t stream;
    std::string source;
    bool operator<(const Key& o) const {
      return std::tie(stream, source) < std::tie(o.stream, o.source);
    }
  };
  struct KeyState {
    std::deque<OwnedRecord> buf;
    std::uint32_t after_left = 0;
    std::uint64_t last_seq = kNoSeq;
    std::uint64_t last_emitted = kNoSeq;
    std::uint64_t last_match = 0;  // owner of after-context (a previous page's match: any)
  };

  void push(KeyState& k, OwnedRecord&& r) {
    k.buf.push_back(std::move(r));
    if (k.buf.size() > before_) k.buf.pop_front();
  }
  void emit(KeyState& k, const RecordView& r, std::uint32_t stream, const ScanPos& pos,
            bool context, std::uint64_t pred, std::uint64_t owner) {
    const bool group_start = k.last_emitted == kNoSeq || k.last_emitted != pred;
    k.last_emitted = pos.seq;
    sink_(r, stream, pos, context, group_start, owner);
  }

  std::uint32_t before_, after_;
  std::uint64_t matches_ = 0;
  Sink sink_;
  std::map<Key, KeyState> keys_;
  std::map<std::pair<std::uint32_t, std::uint64_t>, ContextKey> resume_;
  std::set<std::pair<std::uint32_t, std::uint64_t>> touched_;
  ScanPos restored_scan_from_;
};

RecordsQuery::RecordsQuery(const Store& store, const RecordFilter& filter, const Limits& limits,
                           const PageLimits& page_limits, const Clock& clock, ScanPool* pool)
    : store_(store),
      filter_(filter),
      limits_(limits),
      page_limits_(page_limits),
      clock_(clock),
      pool_(pool) {}

namespace {

// Walks the records of one stored batch; on_record(view) returns false to stop.
template <class OnRecord>
Result<void> walk_batch(const StoredBatch& b, const Limits& limits, ZstdDecompressor& zstd,
                        std::string& scratch, ScanStats& stats, std::string_view& raw_out,
                        OnRecord&& on_record) {
  auto h = parse_batch_header(b.bytes, limits);
  if (!h) return h.error();
  auto raw = batch_records(*h, b.bytes, zstd, scratch);
  if (!raw) return raw.error();
  raw_out = *raw;
  ++stats.batches_read;
  stats.raw_bytes_scanned += raw->size();
  RecordReader reader(*raw, h->first_seq, h->record_count, limits);
  RecordView r;
  for (;;) {
    auto more = reader.next(r);
    if (!more) return more.error();
    if (!*more) return {};
    ++stats.records_scanned;
    if (!on_record(static_cast<const RecordView&>(r))) return {};
  }
}

// Like walk_batch, for a grep that can search the payload (RecordFilter::find_candidate) and
// nothing that needs every record (no context): only the records whose bytes hold a candidate
// position are decoded and passed on; the others are skipped by their length alone.
template <class OnRecord>
Result<void> walk_candidates(const StoredBatch& b, const Limits& limits, ZstdDecompressor& zstd,
                             std::string& scratch, ScanStats& stats, const RecordFilter& filter,
                             OnRecord&& on_record) {
  auto h = parse_batch_header(b.bytes, limits);
  if (!h) return h.error();
  auto raw = batch_records(*h, b.bytes, zstd, scratch);
  if (!raw) return raw.error();
  ++stats.batches_read;
  stats.raw_bytes_scanned += raw->size();
  stats.records_scanned += h->record_count;
  const std::string_view payload = *raw;
  // The end of the record starting at `pos` (its varint length and body), or npos if malformed.
  auto record_end = [&](std::size_t pos) -> std::size_t {
    bytes::Reader in(payload.substr(pos));
    std::uint64_t len = 0;
    if (!in.varint(len) || len > in.remaining()) return std::string_view::npos;
    return payload.size() - in.remaining() + static_cast<std::size_t>(len);
  };
  std::size_t pos = 0;
  std::uint32_t idx = 0;
  while (idx < h->record_count) {
    const std::size_t candidate = filter.find_candidate(payload, pos);
    if (candidate == std::string_view::npos) return {};
    std::size_t end = record_end(pos);
    while (end != std::string_view::npos && candidate >= end) {
      pos = end;
      if (++idx == h->record_count) return {};
      end = record_end(pos);
    }
    if (end == std::string_view::npos) return Err(Errc::kMalformedRecord);
    RecordReader reader(payload.substr(pos), h->first_seq + idx, h->record_count - idx, limits);
    RecordView r;
    auto more = reader.next(r);
    if (!more) return more.error();
    if (!*more) return Err(Errc::kMalformedRecord);
    if (!on_record(static_cast<const RecordView&>(r))) return {};
    pos = end;
    ++idx;
  }
  return {};
}

}  // namespace

Result<RecordsPage> RecordsQuery::page(const RecordsRequest& req) {
  if (pool_ != nullptr && pool_->width() > 1 && req.before == 0 && req.after == 0 &&
      filter_.can_search_payload())
    return page_parallel(req);
  RecordsPage out;
  const std::int64_t deadline = clock_.steady_ns() + page_limits_.budget.count();
  const std::int64_t since = req.cursor ? req.cursor->since : req.since;
  const std::int64_t until = req.cursor ? req.cursor->until : req.until;
  const ScanPos scan_from = req.cursor ? req.cursor->scan_from : ScanPos{};
  const ScanPos emit_from = req.cursor ? req.cursor->emit_from : ScanPos{};
  std::size_t bytes = 0;

  Scanner scanner(req.before, req.after,
                  [&](const RecordView& r, std::uint32_t stream, const ScanPos&, bool context,
                      bool group_start, std::uint64_t) {
                    out.records.push_back(record_to_json(req.instance, stream, r));
                    out.context.push_back(context);
                    out.group_start.push_back(group_start);
                    bytes += json_size_estimate(r);
                    if (!context) ++out.matches;
                  });
  if (req.cursor) scanner.restore(*req.cursor);
  const bool context = scanner.context();

  bool stop = false;
  ScanPos cut_at;
  Result<void> batch_error;
  std::uint32_t since_check = 0;
  auto over_budget = [&] { return clock_.steady_ns() > deadline; };

  BatchQuery q;
  q.instance = req.instance;
  q.stream = req.stream;
  q.from_ns = req.cursor ? std::max(since, scan_from.min_time) : since;
  q.to_ns = until;
  auto want = [&](const BatchIndexEntry& e) {
    if (stop) return true;  // visit() stops the scan
    const ScanPos first{e.min_time_ns, e.stream, e.first_seq, e.first_seq};
    if (batch_before(first, scan_from)) return false;
    const ScanPos last{e.min_time_ns, e.stream, e.first_seq, e.end_seq()};
    if (last <= emit_from && !context) return false;  // all printed by an earlier page
    if (!context && !filter_.index_may_match(e)) {
      ++out.stats.batches_skipped;
      return false;
    }
    if (first > emit_from && over_budget()) {
      stop = true;
      cut_at = first;
    }
    return true;
  };
  // Without context, a grep that can search whole payloads decodes only candidate records.
  const bool fast = !context && filter_.can_search_payload();
  auto visit = [&](const StoredBatch& b) {
    if (stop) return false;
    std::string_view raw;
    std::optional<RecordFilter::GrepScan> grep;
    auto on_record = [&](const RecordView& r) {
      if (!fast && !grep) grep.emplace(filter_, raw);
      const ScanPos pos{b.index.min_time_ns, b.index.stream, b.index.first_seq, r.seq};
      if (pos < scan_from) return true;
      if (r.event_time_ns < since || r.event_time_ns >= until) return true;
      if (!filter_.source_ok(r.source)) return true;
      const bool replay = pos < emit_from;
      if (replay && !context) return true;
      const bool matched = !replay && filter_.matches_fields(r) &&
                           (fast ? filter_.grep_matches(r.line) : grep->line_matches(r.line));
      scanner.record(r, b.index.stream, pos, matched, replay);
      if (replay) return true;
      if (out.records.size() >= page_limits_.max_records || bytes >= page_limits_.max_bytes ||
          (++since_check % 256 == 0 && over_budget())) {
        stop = true;
        cut_at = pos;
        cut_at.seq = r.seq + 1;
        return false;
      }
      return true;
    };
    auto walked = fast ? walk_candidates(b, limits_, zstd_, scratch_, out.stats, filter_, on_record)
                       : walk_batch(b, limits_, zstd_, scratch_, out.stats, raw, on_record);
    if (!walked) {
      batch_error = walked.error();
      return false;
    }
    return !stop;
  };
  if (auto ok = store_.scan_batches(q, want, visit); !ok) return ok.error();
  if (!batch_error) return batch_error.error();
  if (stop) {
    RecordsCursor next;
    next.since = since;
    next.until = until;
    scanner.cut(next, cut_at);
    next.emit_from = cut_at;
    out.next = std::move(next);
  }
  return out;
}

Result<RecordsPage> RecordsQuery::page_parallel(const RecordsRequest& req) {
  RecordsPage out;
  const std::int64_t deadline = clock_.steady_ns() + page_limits_.budget.count();
  const std::int64_t since = req.cursor ? req.cursor->since : req.since;
  const std::int64_t until = req.cursor ? req.cursor->until : req.until;
  const ScanPos scan_from = req.cursor ? req.cursor->scan_from : ScanPos{};
  const ScanPos emit_from = req.cursor ? req.cursor->emit_from : ScanPos{};
  if (workers_.size() < pool_->width()) workers_.resize(pool_->width());

  // Batches are copied out of the scan in chunks, read in parallel, then merged in order.
  struct Pending {
    ScanPos first;  // seq = first_seq
    std::uint64_t end_seq = 0;
    std::string bytes;
  };
  struct Found {
    std::vector<nlohmann::json> records;
    std::vector<std::uint64_t> seqs;
    std::vector<std::size_t> sizes;
    ScanStats stats;
    Result<void> error;
  };
  std::vector<Pending> chunk;
  // Chunks start small (a first answer soon) and grow until waking the helpers (a barrier
  // per chunk) costs little next to the work.
  std::size_t chunk_size = pool_->width();
  const std::size_t max_chunk = 16 * pool_->width();
  std::size_t bytes = 0;
  bool stop = false;
  ScanPos cut_at;
  Result<void> batch_error;

  auto flush = [&](bool final) -> bool {
    std::vector<Found> found(chunk.size());
    pool_->parallel_for(chunk.size(), [&](std::size_t i, std::size_t slot) {
      Worker& w = workers_[slot];
      const Pending& p = chunk[i];
      Found& f = found[i];
      BatchIndexEntry index;  // walk_candidates reads only the bytes
      f.error = walk_candidates(
          StoredBatch{index, p.bytes}, limits_, w.zstd, w.scratch, f.stats, filter_,
          [&](const RecordView& r) {
            const ScanPos pos{p.first.min_time, p.first.stream, p.first.first_seq, r.seq};
            if (pos < emit_from) return true;
            if (r.event_time_ns < since || r.event_time_ns >= until) return true;
            if (!filter_.source_ok(r.source) || !filter_.grep_matches(r.line) ||
                !filter_.matches_fields(r, w.fields))
              return true;
            f.records.push_back(record_to_json(req.instance, p.first.stream, r));
            f.seqs.push_back(r.seq);
            f.sizes.push_back(json_size_estimate(r));
            return true;
          });
    });
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      Found& f = found[i];
      out.stats.batches_read += f.stats.batches_read;
      out.stats.records_scanned += f.stats.records_scanned;
      out.stats.raw_bytes_scanned += f.stats.raw_bytes_scanned;
      if (!f.error) {
        batch_error = f.error;
        return false;
      }
      for (std::size_t j = 0; j < f.records.size(); ++j) {
        out.records.push_back(std::move(f.records[j]));
        out.context.push_back(false);
        out.group_start.push_back(false);
        ++out.matches;
        bytes += f.sizes[j];
        if (out.records.size() >= page_limits_.max_records || bytes >= page_limits_.max_bytes) {
          stop = true;
          cut_at = chunk[i].first;
          cut_at.seq = f.seqs[j] + 1;
          return false;
        }
      }
    }
    const Pending last{chunk.back().first, chunk.back().end_seq, {}};
    chunk.clear();
    if (!final && clock_.steady_ns() > deadline) {
      stop = true;
      cut_at = last.first;
      cut_at.seq = last.end_seq;
      return false;
    }
    return true;
  };

  BatchQuery q;
  q.instance = req.instance;
  q.stream = req.stream;
  q.from_ns = req.cursor ? std::max(since, scan_from.min_time) : since;
  q.to_ns = until;
  auto want = [&](const BatchIndexEntry& e) {
    const ScanPos first{e.min_time_ns, e.stream, e.first_seq, e.first_seq};
    if (batch_before(first, scan_from)) return false;
    if (ScanPos{e.min_time_ns, e.stream, e.first_seq, e.end_seq()} <= emit_from) return false;
    if (!filter_.index_may_match(e)) {
      ++out.stats.batches_skipped;
      return false;
    }
    return true;
  };
  auto visit = [&](const StoredBatch& b) {
    if (stop) return false;
    chunk.push_back(
        Pending{{b.index.min_time_ns, b.index.stream, b.index.first_seq, b.index.first_seq},
                b.index.end_seq(),
                std::string(b.bytes)});
    if (chunk.size() < chunk_size) return true;
    chunk_size = std::min(2 * chunk_size, max_chunk);
    return flush(/*final=*/false);
  };
  if (auto ok = store_.scan_batches(q, want, visit); !ok) return ok.error();
  if (!stop && !chunk.empty()) flush(/*final=*/true);
  if (!batch_error) return batch_error.error();
  if (stop) {
    RecordsCursor next;
    next.since = since;
    next.until = until;
    next.scan_from = cut_at;
    next.emit_from = cut_at;
    out.next = std::move(next);
  }
  return out;
}

Result<RecordsPage> RecordsQuery::tail(const RecordsRequest& req, std::size_t n, std::int64_t lo,
                                       std::int64_t hi) {
  RecordsPage out;
  const std::int64_t deadline = clock_.steady_ns() + page_limits_.budget.count();
  const std::int64_t lo_eff = std::max(req.since, lo);
  const std::int64_t hi_eff = std::min(req.until, hi);
  if (n == 0 || lo_eff >= hi_eff) return out;
  auto over_budget = [&] { return clock_.steady_ns() > deadline; };
  Result<void> batch_error;

  // Reads [from, to) in scan order: on_record(view, stream, pos, grep_ok) for records in the
  // time range and of a wanted source. `use_index` (no context) lets index entries rule
  // batches out and a payload-searchable grep skip records that cannot match.
  auto scan = [&](std::int64_t from, std::int64_t to, bool use_index,
                  const std::function<void(const RecordView&, std::uint32_t, const ScanPos&, bool)>&
                      on_record) -> Result<void> {
    BatchQuery q;
    q.instance = req.instance;
    q.stream = req.stream;
    q.from_ns = from;
    q.to_ns = to;
    const bool fast = use_index && filter_.can_search_payload();
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
      if (over_budget()) {
        out.partial = true;
        stop = true;
        return false;
      }
      std::string_view raw;
      std::optional<RecordFilter::GrepScan> grep;
      auto each = [&](const RecordView& r) {
        if (!fast && !grep) grep.emplace(filter_, raw);
        if (r.event_time_ns < from || r.event_time_ns >= to) return true;
        if (!filter_.source_ok(r.source)) return true;
        const ScanPos pos{b.index.min_time_ns, b.index.stream, b.index.first_seq, r.seq};
        on_record(r, b.index.stream, pos,
                  fast ? filter_.grep_matches(r.line) : grep->line_matches(r.line));
        return true;
      };
      auto walked = fast ? walk_candidates(b, limits_, zstd_, scratch_, out.stats, filter_, each)
                         : walk_batch(b, limits_, zstd_, scratch_, out.stats, raw, each);
      if (!walked) {
        batch_error = walked.error();
        return false;
      }
      return true;
    };
    return store_.scan_batches(q, want, visit);
  };

  // 1. Grow a window back from the end until it holds n matches.
  std::int64_t start = hi_eff;
  std::int64_t width = 60'000'000'000;  // 1 minute, then x4
  std::size_t found = 0;
  while (found < n && start > lo_eff && !out.partial) {
    const std::int64_t from = (start - lo_eff > width) ? start - width : lo_eff;
    auto ok = scan(from, start, /*use_index=*/true,
                   [&](const RecordView& r, std::uint32_t, const ScanPos&, bool grep_ok) {
                     if (grep_ok && filter_.matches_fields(r)) ++found;
                   });
    if (!ok) return ok.error();
    if (!batch_error) return batch_error.error();
    start = from;
    width = width > INT64_MAX / 4 ? INT64_MAX : width * 4;
  }
  if (found == 0) return out;

  // 2. Read [start, end) forward once, with context, keeping the last n matches and the
  // context that belongs to them.
  struct Item {
    OwnedRecord rec;
    std::uint32_t stream;
    bool context, group_start;
    std::uint64_t owner;
  };
  std::vector<Item> items;
  std::uint64_t matches = 0;
  const std::size_t per_match = 1 + req.before + req.after;
  auto trim = [&] {
    if (matches <= n) return;
    const std::uint64_t keep_from = matches - n;  // owners below this are dropped
    std::erase_if(items, [&](const Item& it) { return it.owner < keep_from; });
  };
  Scanner scanner(
      req.before, req.after,
      [&](const RecordView& r, std::uint32_t stream, const ScanPos& pos, bool context,
          bool group_start, std::uint64_t owner) {
        items.push_back(Item{OwnedRecord(r, pos, kNoSeq), stream, context, group_start, owner});
        if (!context) ++matches;
        if (items.size() > 4 * n * per_match + 1024) trim();
      });
  auto ok = scan(start, hi_eff, /*use_index=*/!scanner.context(),
                 [&](const RecordView& r, std::uint32_t stream, const ScanPos& pos, bool grep_ok) {
                   const bool matched = grep_ok && filter_.matches_fields(r);
                   scanner.record(r, stream, pos, matched, /*replay=*/false);
                 });
  if (!ok) return ok.error();
  if (!batch_error) return batch_error.error();
  trim();
  for (const Item& it : items) {
    out.records.push_back(record_to_json(req.instance, it.stream, it.rec.view()));
    out.context.push_back(it.context);
    out.group_start.push_back(it.group_start);
    if (!it.context) ++out.matches;
  }
  return out;
}

Result<RecordsQuery::FollowPage> RecordsQuery::follow(const RecordsRequest& req,
                                                      std::uint64_t after, std::uint64_t skip_seq) {
  FollowPage out;
  RecordsPage& page = out.page;
  std::size_t bytes = 0;
  bool stopped = false;
  Result<void> batch_error;
  constexpr std::size_t kMaxBatchesPerCall = 64;
  auto visit = [&](const StoredBatch& b) {
    if (req.stream && b.index.stream != *req.stream) return true;
    std::string_view raw;
    std::optional<RecordFilter::GrepScan> grep;
    const bool resumed = b.index.ingest_seq == after + 1;
    auto walked =
        walk_batch(b, limits_, zstd_, scratch_, page.stats, raw, [&](const RecordView& r) {
          if (!grep) grep.emplace(filter_, raw);
          if (resumed && r.seq < skip_seq) return true;
          if (r.event_time_ns < req.since || r.event_time_ns >= req.until) return true;
          if (!filter_.matches_fields(r) || !grep->line_matches(r.line)) return true;
          page.records.push_back(record_to_json(req.instance, b.index.stream, r));
          ++page.matches;
          bytes += json_size_estimate(r);
          if (page.records.size() >= page_limits_.max_records || bytes >= page_limits_.max_bytes) {
            stopped = true;
            out.next_after = b.index.ingest_seq - 1;
            out.next_skip = r.seq + 1;
            return false;
          }
          return true;
        });
    if (!walked) {
      batch_error = walked.error();
      return false;
    }
    return !stopped;
  };
  auto pos = store_.scan_ingest_log(after, kMaxBatchesPerCall, req.instance, visit);
  if (!pos) return pos.error();
  if (!batch_error) return batch_error.error();
  if (!stopped) {
    out.next_after = *pos;
    out.next_skip = 0;
  }
  return out;
}

}  // namespace blackbox::collector::http
