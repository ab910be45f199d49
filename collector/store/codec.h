// Value encodings of the store's column families (keys: keys.h). Binary values start with a
// version byte; JSON values (instances, lifecycle events) are the shapes of
// schemas/instance.schema.json and schemas/lifecycle_event.schema.json plus internal fields.
//
// Binary index-entry value (little-endian), shared prefix read by the retention filter:
//   u8 version (1) | i64 max_time | varint+ instance | u32 stream | u64 first_seq | ...
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

// ingest_log value: the shared prefix, then i64 min_time (to find the time_index entry).
void encode_ingest_ref(std::string& out, const BatchIndexEntry& e);
struct IngestRef {
  std::int64_t max_time_ns = 0;
  std::string_view instance;
  std::uint32_t stream = 0;
  std::uint64_t first_seq = 0;
  std::int64_t min_time_ns = 0;
};
[[nodiscard]] Result<IngestRef> decode_ingest_ref(std::string_view v);

// The retention-relevant prefix of an index or ingest value.
struct RetentionFields {
  std::int64_t max_time_ns = 0;
  std::string_view instance;
};
bool peek_retention_fields(std::string_view v, RetentionFields& out);

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

// snapshots value: u8 version | u64 batch_first_seq
std::string encode_snapshot_ref(std::uint64_t batch_first_seq);
[[nodiscard]] Result<std::uint64_t> decode_snapshot_ref(std::string_view v);

}  // namespace blackbox::collector::codec
