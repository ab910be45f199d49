// The query engine's typed results: a record as a query returns it (QueryRecord), a page of
// them (RecordsPage) with the engine's scan statistics, and the one rule that ends a page
// (PageCutter). Nothing here knows about HTTP or any output format: collector/http turns a
// QueryRecord into the API's record object (schemas/record_json.h) through view().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/query/cursor.h"
#include "collector/store/store.h"
#include "schemas/clock.h"
#include "schemas/record.h"

namespace blackbox::collector::query {

// Bounds of one answer, so that one query cannot starve the others (ingest never waits for
// readers).
struct PageLimits {
  std::size_t max_records = 1000;    // records (matches + context) per answer
  std::size_t max_bytes = 8u << 20;  // approximate encoded bytes per answer
  std::chrono::nanoseconds budget = std::chrono::seconds(2);  // wall time per answer
};

struct ScanStats {
  std::uint64_t batches_read = 0;
  std::uint64_t batches_skipped = 0;  // ruled out by their index entry
  std::uint64_t records_scanned = 0;
  std::uint64_t raw_bytes_scanned = 0;  // decompressed bytes walked
};

// One stored record, copied out of its batch (whose payload buffer is reused).
struct QueryRecord {
  std::string instance;
  std::uint32_t stream = 0;
  std::uint64_t seq = 0;
  RecordKind kind = RecordKind::kLog;
  Severity severity = Severity::kUnknown;
  std::uint8_t flags = 0;
  std::int64_t event_time_ns = 0;
  std::int64_t read_time_ns = 0;
  std::string source;
  std::string line;        // the line's bytes as stored (not necessarily UTF-8)
  std::string fields_raw;  // encoded fields (schemas/record.h); decode with view().fields()
  std::uint32_t field_count = 0;
  bool context = false;      // printed as context of a match, not a match itself
  bool group_start = false;  // not adjacent to the previous record of its (stream, source)
  // Its event time is further than the collector's time_skew from its read time: it was
  // indexed and windowed by read time (store/window_time.h). Set by the API layer.
  bool time_skewed = false;

  static QueryRecord from(std::string_view instance, std::uint32_t stream, const RecordView& r);
  // A view of this record; valid while the record lives and is not modified.
  RecordView view() const;
};

struct RecordsPage {
  std::vector<QueryRecord> records;
  std::size_t matches = 0;            // records that are not context
  std::optional<RecordsCursor> next;  // page(): more may follow; resume here
  bool partial = false;               // tail(): the time budget cut the search short
  ScanStats stats;
  // Batches skipped because they could not be read (a damaged block, a value that does not
  // decode), once each, in the order met: their records are missing from `records`.
  std::vector<UnreadableBatch> unreadable;
};

// Adds `u` to `list` unless the same batch (stream, first_seq) is there already.
void note_unreadable(std::vector<UnreadableBatch>& list, UnreadableBatch u);
// The UnreadableBatch of a stored batch whose decode failed with `ec`.
UnreadableBatch undecodable(const BatchIndexEntry& e, const boost::system::error_code& ec);

// The one place that decides when an answer is full: records, approximate bytes, wall time.
// page, parallel page, tail and follow all add their records through it. One per answer.
class PageCutter {
 public:
  // Starts the answer's time budget on `clock`.
  PageCutter(const PageLimits& limits, const Clock& clock);

  // Appends a record to `page` (a match unless `context`).
  void add(RecordsPage& page, std::string_view instance, std::uint32_t stream, const RecordView& r,
           bool context, bool group_start);
  void add(RecordsPage& page, QueryRecord&& r);

  // The records or bytes limit is reached: cut after the last record added.
  bool full() const;
  // The wall-time budget is spent.
  bool over_budget() const;
  // over_budget() read once in 256 calls: for per-record loops (a clock read is not free).
  bool over_budget_sampled();

 private:
  PageLimits limits_;
  const Clock& clock_;
  std::int64_t deadline_ns_;
  std::size_t records_ = 0;
  std::size_t bytes_ = 0;
  std::uint32_t calls_ = 0;
};

}  // namespace blackbox::collector::query
