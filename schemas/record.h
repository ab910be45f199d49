// Records: what a batch carries. A record keeps the original line byte-exact (invalid UTF-8,
// NUL and CR included: it is evidence) plus its identity, times, source, severity and the
// structured fields parsed from JSON lines. Byte layout in PROTOCOL.md §4.
//
// Record layout inside a batch's decompressed payload (little-endian):
//   varint  record_len            bytes that follow, up to the next record
//   u8      kind                  RecordKind
//   u8      severity              Severity (syslog 0..7, 255 unknown)
//   u8      flags                 RecordFlags
//   i64     event_time_ns         when it happened (from the line if parsed, else read time)
//   i64     read_time_ns          when the agent read it
//   varint+ source                file path, "syslog", "journald", "agent"
//   varint+ line                  original bytes, newline stripped (JSON doc for non-log kinds)
//   varint  field_count, then field_count × (varint+ key, varint+ value)
// A record's sequence number is not stored: it is the batch's first_seq plus its index.
#pragma once

#include "schemas/bytes.h"
#include "schemas/limits.h"
#include "schemas/result.h"

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace blackbox {

enum class RecordKind : std::uint8_t {
  kLog = 1,        // a line from a file, syslog or journald
  kLifecycle = 2,  // line: a LifecycleBody (lifecycle_body.h)
  kSnapshot = 3,   // line: a SnapshotBody envelope and its sections (snapshot_body.h)
  kGap = 4,        // line: a GapBody (gap_body.h)
};
bool is_valid_kind(std::uint8_t k) noexcept;
const char* kind_name(RecordKind k) noexcept;

enum class Severity : std::uint8_t {
  kEmerg = 0, kAlert = 1, kCrit = 2, kErr = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7,
  kUnknown = 255,
};
// "err", "warning", ... (journalctl's names); "unknown" for kUnknown.
const char* severity_name(Severity s) noexcept;
// Accepts syslog names and common aliases (error, warn, fatal, critical, trace, 0-7),
// case-insensitive. kUnknown when unrecognised.
Severity parse_severity(std::string_view s) noexcept;

namespace record_flags {
inline constexpr std::uint8_t kSplitHead = 1 << 0;      // line over max_line_bytes: more follows
inline constexpr std::uint8_t kSplitTail = 1 << 1;      // continuation of a split line
inline constexpr std::uint8_t kPartial = 1 << 2;        // emitted without a newline (timeout/EOF)
inline constexpr std::uint8_t kJson = 1 << 3;           // line parsed as a JSON object
inline constexpr std::uint8_t kKnownMask = 0x0f;
}  // namespace record_flags

// A record's source (a file path, "syslog", ...) is at most this long.
inline constexpr std::size_t kMaxSourceBytes = 4096;

struct Field {
  std::string_view key;
  std::string_view value;  // raw JSON text of the value ("\"abc\"", "42", "{...}")
};

// A record to encode: views into memory the caller keeps alive during append().
struct RecordData {
  RecordKind kind = RecordKind::kLog;
  Severity severity = Severity::kUnknown;
  std::uint8_t flags = 0;
  std::int64_t event_time_ns = 0;
  std::int64_t read_time_ns = 0;
  std::string_view source;
  std::string_view line;
  std::span<const Field> fields;
};

// Appends one encoded record to `out` (a batch's raw payload).
void append_record(std::string& out, const RecordData& r);
// Size append_record() will add, without encoding.
std::size_t encoded_record_size(const RecordData& r) noexcept;

// A decoded record: views into the batch's decompressed payload, valid while it lives.
struct RecordView {
  std::uint64_t seq = 0;
  RecordKind kind = RecordKind::kLog;
  Severity severity = Severity::kUnknown;
  std::uint8_t flags = 0;
  std::int64_t event_time_ns = 0;
  std::int64_t read_time_ns = 0;
  std::string_view source;
  std::string_view line;
  std::uint32_t field_count = 0;
  std::string_view fields_raw;  // encoded fields; iterate with FieldReader

  // Decodes the fields into `out` (cleared first). Fields were validated by RecordReader.
  void fields(std::vector<Field>& out) const;
};

// Iterates the records of a decompressed batch payload, validating every length against what
// is left before using it. Usage:
//   RecordReader reader(raw, first_seq, count, limits);
//   RecordView r;
//   while (true) { auto more = reader.next(r); if (!more) ...error...; if (!*more) break; ... }
// After the last record, next() checks that exactly `count` records were present and no
// bytes trail them (kMalformedRecord otherwise).
class RecordReader {
 public:
  RecordReader(std::string_view raw, std::uint64_t first_seq, std::uint32_t count,
               const Limits& limits = {});
  [[nodiscard]] Result<bool> next(RecordView& out);

 private:
  bytes::Reader in_;
  std::uint64_t next_seq_;
  std::uint32_t left_;
  std::uint32_t max_line_bytes_;
};

}  // namespace blackbox
