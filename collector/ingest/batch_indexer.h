// BatchIndexer: everything the collector does to one received batch before it is written,
// none of which needs the database: parse and verify it (header, CRCs, chain hash, limits,
// bounded decompression, record framing, times inside the header's range) and compute its
// index entry (time range, severity counts, kinds, sources, word filter), plus the snapshot
// records and termination notices it carries. CPU work only: runs on a worker of the server's
// IndexPool, never on an I/O thread. Not thread-safe: one object per thread at a time (it owns
// a zstd context and scratch).
#pragma once

#include <string>
#include <vector>

#include "collector/store/store.h"
#include "schemas/batch.h"
#include "schemas/limits.h"
#include "schemas/result.h"
#include "schemas/zstd_codec.h"

namespace blackbox::collector {

struct IndexerOptions {
  Limits limits;
  bool index_words = true;  // build the word filter (costs CPU at ingest, saves it at query)
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
};

class BatchIndexer {
 public:
  explicit BatchIndexer(IndexerOptions options) : options_(std::move(options)) {}

  // Verifies `bytes` and fills `out` (taking ownership of the bytes). Errors are those of
  // decode_batch() (kChecksumMismatch, kChainMismatch, kBatchTooLarge, kMalformedRecord, ...)
  // plus kMalformedRecord for a record outside the header's time range or of an unknown kind.
  [[nodiscard]] Result<void> index(std::string_view instance, std::string&& bytes,
                                   IndexedBatch& out);

 private:
  IndexerOptions options_;
  ZstdDecompressor zstd_;
  std::string scratch_;
};

}  // namespace blackbox::collector
