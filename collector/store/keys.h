// Key encoding of every column family (layout and reasons: collector/README.md). Big-endian
// integers so that byte order is numeric order; signed times with the sign bit flipped; an
// instance id is its bytes followed by one 0x00 (ids are printable ASCII).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace blackbox::collector::keys {

// Column family names, in the order the store opens them (index = Cf value).
enum class Cf : int {
  kDefault = 0,
  kBatches,
  kTimeIndex,
  kFleetTime,
  kIngestLog,
  kSnapshots,
  kInstances,
  kLifecycle,
  kGaps,
  kHeads,
  kMeta,
  kCount,
};
const char* cf_name(Cf cf) noexcept;

inline std::uint64_t flip_time(std::int64_t t) {
  return static_cast<std::uint64_t>(t) ^ (std::uint64_t{1} << 63);
}
inline std::int64_t unflip_time(std::uint64_t u) {
  return static_cast<std::int64_t>(u ^ (std::uint64_t{1} << 63));
}

void put_instance(std::string& out, std::string_view instance);
void put_time(std::string& out, std::int64_t t);

// Instance prefix "I": the id and its 0x00.
std::string instance_prefix(std::string_view instance);

std::string batch_key(std::string_view instance, std::uint32_t stream, std::uint64_t first_seq);
std::string stream_prefix(std::string_view instance, std::uint32_t stream);
std::string time_index_key(std::string_view instance, std::int64_t min_time, std::uint32_t stream,
                           std::uint64_t first_seq);
std::string fleet_time_key(std::int64_t min_time, std::string_view instance, std::uint32_t stream,
                           std::uint64_t first_seq);
std::string ingest_log_key(std::uint64_t ingest_seq);
std::string snapshot_key(std::string_view instance, std::int64_t time, std::uint64_t seq);
std::string lifecycle_key(std::string_view instance, std::int64_t time, std::uint64_t counter);
std::string gap_key(std::string_view instance, std::uint32_t stream, std::uint64_t from_seq);
std::string head_key(std::string_view instance, std::uint32_t stream);
std::string hold_key(std::string_view instance);
inline constexpr std::string_view kHoldPrefix = "hold/";
std::string enroll_key(std::string_view instance);
inline constexpr std::string_view kEnrollPrefix = "enroll/";
inline constexpr std::string_view kFormatKey = "format";
// meta: the widest batch time span of any instance (i64 LE), bounds fleet_time scans.
inline constexpr std::string_view kFleetSpanKey = "fleet_max_span";

// Decoding: each returns nullopt when the key is malformed.
// The instance id of a key that starts with "I".
std::optional<std::string_view> key_instance(std::string_view key);
struct BatchKey {
  std::string_view instance;
  std::uint32_t stream = 0;
  std::uint64_t first_seq = 0;
};
std::optional<BatchKey> parse_batch_key(std::string_view key);
// The part after "I" of an "I"-prefixed key.
std::optional<std::string_view> after_instance(std::string_view key);

// The smallest key greater than every key that starts with `prefix` (for upper bounds).
std::string prefix_successor(std::string_view prefix);

}  // namespace blackbox::collector::keys
