// RecordScan: reads one stored batch and applies the engine's one record predicate to each
// record. Every way to read (page, parallel page, tail, follow) goes through read(), so a
// record means the same thing to all of them:
//   wanted  = seq >= min_seq, window time (store/window_time.h) in [since, until), a wanted
//             source
//   matched = wanted, every field condition (priority, where) and the grep
// Records that are not wanted never reach the visitor; wanted ones that do not match do
// (they may be context of a match).
//
// Two modes: kEveryRecord decodes every record (context needs them all); kCandidates, for a
// grep that can search a whole payload and no context, finds candidate positions in the
// decompressed payload (RecordFilter::find_candidate) and decodes only the records holding
// one: the others are skipped by their length alone and never reach the visitor.
// Not thread-safe: one RecordScan per thread (it holds the thread's zstd context and scratch).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/query/record_filter.h"
#include "collector/query/records_page.h"
#include "schemas/limits.h"
#include "schemas/result.h"
#include "schemas/zstd_codec.h"

namespace blackbox::collector::query {

class RecordScan {
 public:
  enum class Mode { kEveryRecord, kCandidates };

  // `filter` must outlive the scan.
  RecordScan(const RecordFilter& filter, const Limits& limits) : filter_(filter), limits_(limits) {}

  // kCandidates when it is sound: no context wanted and the grep can search payloads.
  static Mode mode_for(const RecordFilter& filter, bool context) {
    return !context && filter.can_search_payload() ? Mode::kCandidates : Mode::kEveryRecord;
  }

  struct Range {
    std::uint64_t min_seq = 0;  // records below are skipped (a batch resumed in the middle)
    std::int64_t since = 0;     // window time in [since, until)
    std::int64_t until = 0;
  };
  // visit(record, matched) for each wanted record in seq order; it returns false to stop.
  // The record's views point into scratch: copy what must outlive the call.
  using Visit = std::function<bool(const RecordView&, bool)>;

  // Errors: the batch's (kMalformedBatch, kMalformedRecord, zstd errors, limits).
  [[nodiscard]] Result<void> read(std::string_view batch_bytes, const Range& range, Mode mode,
                                  ScanStats& stats, const Visit& visit);

 private:
  [[nodiscard]] Result<void> read_every(std::string_view raw, std::uint64_t first_seq,
                                        std::uint32_t count, const Range& range, ScanStats& stats,
                                        const Visit& visit);
  [[nodiscard]] Result<void> read_candidates(std::string_view raw, std::uint64_t first_seq,
                                             std::uint32_t count, const Range& range,
                                             const Visit& visit);
  bool wanted(const RecordView& r, const Range& range) const;

  const RecordFilter& filter_;
  Limits limits_;
  ZstdDecompressor zstd_;
  std::string scratch_;
  std::vector<Field> fields_;
};

}  // namespace blackbox::collector::query
