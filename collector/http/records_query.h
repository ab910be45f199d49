// RecordsQuery: the engine behind GET /v1/instances/{id}/records and /follow. It reads an
// instance's batches through the store's time index, skips what the index entries rule out,
// decompresses the rest and filters record by record, with context lines kept per
// (stream, source), under limits on records, bytes and wall time per request so that one
// query cannot starve the others (or ingest, which never waits for readers).
//
// Three ways to read:
//   page()   forward from `since` (or a cursor) in scan order; stops at the page limits and
//            returns a cursor to resume from. Cutting at the time budget is not an error: the
//            page may even be empty, its cursor still moves forward.
//   tail()   the last N matches before `until`: scans growing windows back from the
//            instance's last record until N matches are found, then reads forward once.
//   follow() records stored after an ingest-log position (live follow), no context.
// Not thread-safe: one object per request (the filter keeps scratch space).
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "collector/http/cursor.h"
#include "collector/http/record_filter.h"
#include "collector/http/scan_pool.h"
#include "collector/store/store.h"
#include "schemas/clock.h"
#include "schemas/limits.h"
#include "schemas/result.h"
#include "schemas/zstd_codec.h"

namespace blackbox::collector::http {

struct PageLimits {
  std::size_t max_records = 1000;    // records (matches + context) per answer
  std::size_t max_bytes = 8u << 20;  // approximate JSON bytes per answer
  std::chrono::nanoseconds budget = std::chrono::seconds(2);  // wall time per answer
};

struct RecordsRequest {
  std::string instance;
  std::optional<std::uint32_t> stream = 1;  // nullopt = every stream
  std::int64_t since = kMinTime;            // record event time in [since, until)
  std::int64_t until = kMaxTime;
  std::uint32_t before = 0;  // context records of the same stream and source
  std::uint32_t after = 0;
  std::optional<RecordsCursor> cursor;  // page(): resume here (since/until come from it)
};

struct ScanStats {
  std::uint64_t batches_read = 0;
  std::uint64_t batches_skipped = 0;  // ruled out by their index entry
  std::uint64_t records_scanned = 0;
  std::uint64_t raw_bytes_scanned = 0;  // decompressed bytes walked
};

struct RecordsPage {
  nlohmann::json records = nlohmann::json::array();
  std::vector<bool> context;      // per record: printed as context, not a match
  std::vector<bool> group_start;  // per record: not adjacent to the previous one of its source
  std::size_t matches = 0;
  std::optional<RecordsCursor> next;  // page(): more may follow
  bool partial = false;               // tail(): the time budget cut the search short
  ScanStats stats;
};

class RecordsQuery {
 public:
  // `pool` (may be null) lets a grep without context decompress and search several batches
  // at once.
  RecordsQuery(const Store& store, const RecordFilter& filter, const Limits& limits,
               const PageLimits& page_limits, const Clock& clock, ScanPool* pool = nullptr);

  [[nodiscard]] Result<RecordsPage> page(const RecordsRequest& req);

  // The last `n` matches with event time in [max(req.since, lo), min(req.until, hi)), where
  // [lo, hi) is the instance's event-time range (InstanceInfo min/max_event_ns).
  [[nodiscard]] Result<RecordsPage> tail(const RecordsRequest& req, std::size_t n, std::int64_t lo,
                                         std::int64_t hi);

  // Records stored after ingest position `after` (skipping seqs below `skip_seq` in the batch
  // right after it: a batch cut in two by the page limit). `next_after`/`next_skip` say where
  // to resume.
  struct FollowPage {
    RecordsPage page;
    std::uint64_t next_after = 0;
    std::uint64_t next_skip = 0;
  };
  [[nodiscard]] Result<FollowPage> follow(const RecordsRequest& req, std::uint64_t after,
                                          std::uint64_t skip_seq);

 private:
  class Scanner;
  // page() for a payload-searchable grep without context, on the ScanPool.
  [[nodiscard]] Result<RecordsPage> page_parallel(const RecordsRequest& req);

  // Per ScanPool slot: what one thread needs to read a batch.
  struct Worker {
    ZstdDecompressor zstd;
    std::string scratch;
    std::vector<Field> fields;
  };

  const Store& store_;
  const RecordFilter& filter_;
  Limits limits_;
  PageLimits page_limits_;
  const Clock& clock_;
  ScanPool* pool_;
  ZstdDecompressor zstd_;
  std::string scratch_;
  std::vector<Worker> workers_;
};

}  // namespace blackbox::collector::http
