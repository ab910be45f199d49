// BatchIndexer: everything the collector does to one received batch before it is written,
// none of which needs the database: parse and verify it (header, CRCs, chain hash, limits,
// bounded decompression, record framing) and compute its index entry (time range, severity
// counts, kinds, sources, word filter), plus the snapshot records and termination notices it
// carries. The entry's time range is recomputed from the records' window times
// (store/window_time.h), not taken from the header: a record outside the header's range is
// accepted (PROTOCOL.md §3) and a time-skewed record is indexed by its read time. CPU work only:
// runs on a worker of the server's IndexPool, never on an I/O thread. Not thread-safe: one object
// per thread at a time (it owns a zstd context and scratch).
#pragma once

#include <string>
#include <vector>

#include "collector/store/store.h"
#include "collector/store/window_time.h"
#include "schemas/batch.h"
#include "schemas/limits.h"
#include "schemas/result.h"
#include "schemas/zstd_codec.h"

namespace blackbox::collector {

struct IndexerOptions {
  Limits limits;
  bool index_words = true;  // build the word filter (costs CPU at ingest, saves it at query)
  // An event time further than this from the record's read time is indexed by the read time
  // (store/window_time.h); <= 0 = always by event time.
  std::int64_t time_skew_ns = kDefaultTimeSkewNs;
};

// A termination notice found in the lifecycle stream.
struct NoticeRecord {
  std::int64_t time_ns = 0;
  std::uint64_t seq = 0;
  std::string reason;
};

// A verified batch ready for the writer. `entry` has everything but instance-independent
// writer fields (ingest_seq, ingest_time_ns), which the writer fills in.
struct IndexedBatch {
  std::string bytes;  // the batch exactly as received
  BatchHeader header;
  BatchIndexEntry entry;
  std::vector<SnapshotRef> snapshots;
  std::vector<NoticeRecord> notices;
  std::int64_t max_read_time_ns = kMinTime;  // the latest agent read time of its records
  std::uint32_t skewed_records = 0;          // records indexed by read time (time skewed)
  std::vector<std::string> gap_reasons;      // reason of each gap record (RecordKind::kGap)
};

class BatchIndexer {
 public:
  explicit BatchIndexer(IndexerOptions options) : options_(std::move(options)) {}

  // Verifies `bytes` and fills `out` (taking ownership of the bytes). Errors are those of
  // decode_batch() (kChecksumMismatch, kChainMismatch, kBatchTooLarge, kMalformedRecord, ...)
  // plus kMalformedRecord for a record of an unknown kind.
  [[nodiscard]] Result<void> index(std::string_view instance, std::string&& bytes,
                                   IndexedBatch& out);

 private:
  IndexerOptions options_;
  ZstdDecompressor zstd_;
  std::string scratch_;
};

}  // namespace blackbox::collector
