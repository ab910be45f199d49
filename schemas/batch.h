// Batches: the unit that is spooled, shipped, stored and hash-chained (DESIGN.md "Storage").
// A batch is cut once, when spooled, and never re-cut: a re-delivered batch is byte-identical.
//
// Layout (little-endian), kBatchHeaderBytes = 120, then `stored_size` payload bytes:
//   0  u32  magic "BBAT" (0x54414242)
//   4  u8   version (1)
//   5  u8   compression: 0 none, 1 zstd
//   6  u16  flags (0; reserved)
//   8  u32  stream id
//  12  u32  record count (>= 1)
//  16  u64  first sequence number; record i has seq first_seq + i
//  24  i64  min event time (ns since the Unix epoch) over the records
//  32  i64  max event time
//  40  u32  raw size: bytes of the records once decompressed
//  44  u32  stored size: payload bytes that follow the header
//  48  u32  CRC32C of the stored payload
//  52  [32] prev hash: chain hash of the previous batch of this stream (zeros for seq 0)
//  84  [32] hash: SHA-256(prev hash ‖ bytes [0,52) ‖ payload), see hash_chain.h
// 116  u32  CRC32C of header bytes [0,116)
#pragma once

#include "schemas/hash_chain.h"
#include "schemas/limits.h"
#include "schemas/record.h"
#include "schemas/result.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace blackbox {

class ZstdCompressor;
class ZstdDecompressor;

inline constexpr std::uint32_t kBatchMagic = 0x54414242;  // "BBAT"
inline constexpr std::uint8_t kBatchVersion = 1;
inline constexpr std::size_t kBatchHeaderBytes = 120;
inline constexpr std::size_t kBatchHashedHeaderBytes = 52;

enum class Compression : std::uint8_t { kNone = 0, kZstd = 1 };

struct BatchHeader {
  Compression compression = Compression::kNone;
  std::uint32_t stream = 0;
  std::uint32_t record_count = 0;
  std::uint64_t first_seq = 0;
  std::int64_t min_time_ns = 0;
  std::int64_t max_time_ns = 0;
  std::uint32_t raw_size = 0;
  std::uint32_t stored_size = 0;
  std::uint32_t payload_crc = 0;
  ChainHash prev_hash{};
  ChainHash hash{};

  std::uint64_t end_seq() const { return first_seq + record_count; }  // exclusive
  std::uint64_t last_seq() const { return first_seq + record_count - 1; }
};

// Accumulates encoded records, then seals them into a batch. Reusable after seal().
class BatchBuilder {
 public:
  void add(const RecordData& r);
  std::uint32_t record_count() const { return count_; }
  std::size_t raw_bytes() const { return raw_.size(); }
  bool empty() const { return count_ == 0; }
  void clear();

  // Compresses (when `compressor` is non-null) and frames the records as one batch of
  // `stream` starting at `first_seq`, chained to `prev_hash`. Appends the batch bytes to
  // `out` and returns its header (whose .hash is the next batch's prev_hash). Clears the
  // builder. Errors: kEmptyFrame (no records), kCompressFailed.
  [[nodiscard]] Result<BatchHeader> seal(std::uint32_t stream, std::uint64_t first_seq,
                                         const ChainHash& prev_hash,
                                         ZstdCompressor* compressor, std::string& out);

 private:
  std::string raw_;
  std::string compressed_;
  std::uint32_t count_ = 0;
  std::int64_t min_time_ = 0;
  std::int64_t max_time_ = 0;
};

// Parses and checks the header of `batch` (the whole encoded batch): magic, version, header
// CRC, sizes against `limits`, and that the payload length matches. Does not touch the payload.
[[nodiscard]] Result<BatchHeader> parse_batch_header(std::string_view batch,
                                                     const Limits& limits = {});

// The chain hash field of an encoded batch (header bytes [84, 116)), read without any check;
// kTruncated when `batch` is shorter than a header. For readers of batches that were checked
// when stored (the collector's duplicate check), so that no one re-derives the layout.
[[nodiscard]] Result<ChainHash> batch_chain_hash(std::string_view batch);

// How much of a batch's integrity to check. Receivers (the collector's ingest, `verify`) check
// everything; readers of batches that were verified when stored may skip the SHA-256, which
// costs about twice as much as decoding the records themselves.
enum class Verify : std::uint8_t { kCrcAndHash, kCrcOnly };

// Checks the payload CRC and (kCrcAndHash) that `hash` is SHA-256(prev_hash ‖ header ‖ payload).
[[nodiscard]] Result<void> verify_batch_integrity(const BatchHeader& h, std::string_view batch,
                                                  Verify verify = Verify::kCrcAndHash);

// Returns the decompressed records of a checked batch: a view of `batch` itself when it is
// uncompressed, else of `scratch`, which is filled (at most limits.max_batch_raw_bytes).
[[nodiscard]] Result<std::string_view> batch_records(const BatchHeader& h,
                                                     std::string_view batch,
                                                     ZstdDecompressor& zstd,
                                                     std::string& scratch);

// Everything a receiver does with a batch: parse the header, verify CRCs and hash, decompress,
// and walk every record (validating the framing). `on_record` is called per record; any
// callable `void(const RecordView&)`. Returns the header.
template <class OnRecord>
[[nodiscard]] Result<BatchHeader> decode_batch(std::string_view batch, const Limits& limits,
                                               ZstdDecompressor& zstd, std::string& scratch,
                                               OnRecord&& on_record,
                                               Verify verify = Verify::kCrcAndHash) {
  auto h = parse_batch_header(batch, limits);
  if (!h) return h.error();
  if (auto ok = verify_batch_integrity(*h, batch, verify); !ok) return ok.error();
  auto raw = batch_records(*h, batch, zstd, scratch);
  if (!raw) return raw.error();
  RecordReader reader(*raw, h->first_seq, h->record_count, limits);
  RecordView r;
  for (;;) {
    auto more = reader.next(r);
    if (!more) return more.error();
    if (!*more) break;
    on_record(static_cast<const RecordView&>(r));
  }
  return h;
}

}  // namespace blackbox
