// Pagination cursors of the query API. Opaque to clients ("pass next_cursor back unchanged"),
// plain text inside so that a cursor in a bug report can be read:
//   records: "r1.<since>.<until>.<scan_from>.<emit_from>[.<key>]*" where a position is
//            "<min_time>_<stream>_<first_seq>_<seq>" (the scan order of Store::scan_batches:
//            batch min_time, stream, first_seq, then the record's seq). With context lines,
//            each (stream, source) that had unprinted candidates for before-context or owed
//            after-context at the cut adds a key "k<stream>_<source hash hex>_<front seq>_
//            <after left>": the scan resumes at scan_from and refills exactly those
//            before-context buffers up to emit_from, so that context around a page boundary
//            comes out as if the answer had not been cut.
//   follow:  "f1.<ingest position>"
//   instances: "i1.<last instance id, hex>"
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/result.h"

namespace blackbox::collector::query {

struct ScanPos {
  std::int64_t min_time = INT64_MIN;
  std::uint32_t stream = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t seq = 0;
  auto operator<=>(const ScanPos&) const = default;
};

inline constexpr std::uint64_t kNoSeq = UINT64_MAX;

// Context state of one (stream, source) at a cut.
struct ContextKey {
  std::uint32_t stream = 0;
  std::uint64_t source_hash = 0;     // source_hash() of the source
  std::uint64_t front_seq = kNoSeq;  // first record of its before-context buffer; kNoSeq = empty
  std::uint32_t after_left = 0;      // after-context records still owed
  bool operator==(const ContextKey&) const = default;
};
inline constexpr std::size_t kMaxCursorKeys = 64;

struct RecordsCursor {
  std::int64_t since = INT64_MIN;
  std::int64_t until = INT64_MAX;
  ScanPos scan_from;
  ScanPos emit_from;
  std::vector<ContextKey> keys;
  bool operator==(const RecordsCursor&) const = default;
};

// FNV-1a 64 of a source path: names a context key inside a cursor.
std::uint64_t source_hash(std::string_view source) noexcept;

std::string encode_records_cursor(const RecordsCursor& c);
[[nodiscard]] Result<RecordsCursor> decode_records_cursor(std::string_view s);

std::string encode_follow_cursor(std::uint64_t ingest_pos);
[[nodiscard]] Result<std::uint64_t> decode_follow_cursor(std::string_view s);

std::string encode_instances_cursor(std::string_view last_instance);
[[nodiscard]] Result<std::string> decode_instances_cursor(std::string_view s);

}  // namespace blackbox::collector::query
