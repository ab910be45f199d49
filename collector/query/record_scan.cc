#include "collector/query/record_scan.h"

#include "schemas/batch.h"
#include "schemas/bytes.h"

namespace blackbox::collector::query {

bool RecordScan::wanted(const RecordView& r, const Range& range) const {
  const std::int64_t t = filter_.window_time(r);  // the time the index used (window_time.h)
  return r.seq >= range.min_seq && t >= range.since && t < range.until &&
         filter_.source_ok(r.source);
}

Result<void> RecordScan::read(std::string_view batch_bytes, const Range& range, Mode mode,
                              ScanStats& stats, const Visit& visit) {
  auto h = parse_batch_header(batch_bytes, limits_);
  if (!h) return h.error();
  auto raw = batch_records(*h, batch_bytes, zstd_, scratch_);
  if (!raw) return raw.error();
  ++stats.batches_read;
  stats.raw_bytes_scanned += raw->size();
  if (mode == Mode::kCandidates) {
    stats.records_scanned += h->record_count;
    return read_candidates(*raw, h->first_seq, h->record_count, range, visit);
  }
  return read_every(*raw, h->first_seq, h->record_count, range, stats, visit);
}

Result<void> RecordScan::read_every(std::string_view raw, std::uint64_t first_seq,
                                    std::uint32_t count, const Range& range, ScanStats& stats,
                                    const Visit& visit) {
  RecordFilter::GrepScan grep(filter_, raw);
  RecordReader reader(raw, first_seq, count, limits_);
  RecordView r;
  for (;;) {
    auto more = reader.next(r);
    if (!more) return more.error();
    if (!*more) return {};
    ++stats.records_scanned;
    if (!wanted(r, range)) continue;
    const bool matched = filter_.matches_fields(r, fields_) && grep.line_matches(r.line);
    if (!visit(r, matched)) return {};
  }
}

// Only the records whose bytes hold a candidate position are decoded; the others are skipped
// by their varint length.
Result<void> RecordScan::read_candidates(std::string_view raw, std::uint64_t first_seq,
                                         std::uint32_t count, const Range& range,
                                         const Visit& visit) {
  // The end of the record starting at `pos` (its varint length and body), or npos if malformed.
  auto record_end = [&](std::size_t pos) -> std::size_t {
    bytes::Reader in(raw.substr(pos));
    std::uint64_t len = 0;
    if (!in.varint(len) || len > in.remaining()) return std::string_view::npos;
    return raw.size() - in.remaining() + static_cast<std::size_t>(len);
  };
  std::size_t pos = 0;
  std::uint32_t idx = 0;
  while (idx < count) {
    const std::size_t candidate = filter_.find_candidate(raw, pos);
    if (candidate == std::string_view::npos) return {};
    std::size_t end = record_end(pos);
    while (end != std::string_view::npos && candidate >= end) {
      pos = end;
      if (++idx == count) return {};
      end = record_end(pos);
    }
    if (end == std::string_view::npos) return Err(Errc::kMalformedRecord);
    RecordReader reader(raw.substr(pos), first_seq + idx, count - idx, limits_);
    RecordView r;
    auto more = reader.next(r);
    if (!more) return more.error();
    if (!*more) return Err(Errc::kMalformedRecord);
    if (wanted(r, range)) {
      const bool matched = filter_.matches_fields(r, fields_) && filter_.grep_matches(r.line);
      if (!visit(r, matched)) return {};
    }
    pos = end;
    ++idx;
  }
  return {};
}

}  // namespace blackbox::collector::query
