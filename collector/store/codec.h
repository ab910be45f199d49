// Value encodings of the store's column families (keys: keys.h). Binary values start with a
// version byte; JSON values (instances, lifecycle events) are the shapes of
// schemas/instance.schema.json and schemas/lifecycle_event.schema.json plus internal fields.
//
// Binary index-entry value (little-endian), shared prefix read by the retention filter:
//   u8 version (1) | i64 max_time | varint+ instance | u32 stream | u64 first_seq | ...
//
// Retention runs by the time the collector stored a batch (its "stored time", the writer's
// BatchIndexEntry::ingest_time_ns), which every retained value carries: the index entries in
// their ingest_time field, the ingest log, snapshot refs and batches in a trailing field added
// after the original layout. Values written before that field existed have none: retention
// then falls back to the batch's max event time (the old rule), so old stores stay readable.
#pragma once

#include <string>
#include <string_view>

#include "collector/store/store.h"
#include "schemas/result.h"

namespace blackbox::collector::codec {

inline constexpr std::uint8_t kValueVersion = 1;

// time_index (with words), fleet_time (without words) values.
void encode_index_entry(std::string& out, const BatchIndexEntry& e, bool with_words);
[[nodiscard]] Result<BatchIndexEntry> decode_index_entry(std::string_view v);

// ingest_log value: the shared prefix, then i64 min_time (to find the time_index entry), then
// i64 stored time (absent in old values).
void encode_ingest_ref(std::string& out, const BatchIndexEntry& e);
struct IngestRef {
  std::int64_t max_time_ns = 0;
  std::string_view instance;
  std::uint32_t stream = 0;
  std::uint64_t first_seq = 0;
  std::int64_t min_time_ns = 0;
};
[[nodiscard]] Result<IngestRef> decode_ingest_ref(std::string_view v);

// The retention-relevant fields of an index or ingest value.
struct RetentionFields {
  std::int64_t max_time_ns = 0;
  std::string_view instance;
  std::int64_t stored_ns = 0;  // 0 = not recorded (an old value)
};
// time_index and fleet_time values.
bool peek_index_retention(std::string_view v, RetentionFields& out);
// ingest_log values.
bool peek_ingest_retention(std::string_view v, RetentionFields& out);

// batches value: the batch exactly as received, then a 12-byte trailer: u32 kStoredMagic,
// i64 stored time. A value without it (an old store) is the batch alone; the two are told
// apart by the batch header's stored_size.
inline constexpr std::uint32_t kStoredMagic = 0x74734242;  // "BBst"
// Appends the value of a batch stored at `stored_ns`.
void encode_stored_batch(std::string& out, std::string_view batch, std::int64_t stored_ns);
// The trailer alone (for a write that passes the batch bytes and the trailer as two parts).
std::string stored_batch_trailer(std::int64_t stored_ns);
// The batch bytes of a batches value, without the trailer.
std::string_view stored_batch_bytes(std::string_view v);
// The stored time of a batches value; false for a value without the trailer.
bool stored_batch_time(std::string_view v, std::int64_t& out);

std::string encode_instance(const InstanceInfo& i);
[[nodiscard]] Result<InstanceInfo> decode_instance(std::string_view v);

std::string encode_event(const LifecycleEvent& e);
[[nodiscard]] Result<LifecycleEvent> decode_event(std::string_view v);

// gaps value: u8 version | u64 to_seq | i64 detected | varint+ reason
std::string encode_gap(const GapRange& g);
[[nodiscard]] Result<GapRange> decode_gap(std::uint32_t stream, std::uint64_t from_seq,
                                          std::string_view v);

// heads value: u8 version | u64 next_seq | [32] head | u64 last_first_seq
std::string encode_head(const StreamHead& h);
[[nodiscard]] Result<StreamHead> decode_head(std::uint32_t stream, std::string_view v);

// snapshots value: u8 version | u64 batch_first_seq | i64 stored time (absent in old values)
std::string encode_snapshot_ref(std::uint64_t batch_first_seq, std::int64_t stored_ns);
[[nodiscard]] Result<std::uint64_t> decode_snapshot_ref(std::string_view v);
// The stored time of a snapshots value; false for an old value without it.
bool snapshot_stored_time(std::string_view v, std::int64_t& out);

}  // namespace blackbox::collector::codec
