// Typed body of gap records (RecordKind::kGap, in the stream that lost data, usually 1): what
// the agent knows it missed, where, how much and why (DESIGN.md contract 4: visible losses).
// The agent encodes them (inputs, spool recovery, shipper), users read them in
// `blackbox timeline`.
//
// Wire shape (PROTOCOL.md §4.1, gap_body.schema.json): one JSON object, keys sorted, with
// "reason" and "source" always present and every other member present only when known:
//   {"end_seq","error","first_seq","from_offset","lost_bytes","note","offset","reason",
//    "records","segment","size","source","stream"}
// Decoders accept extra members (ignored) and treat a null member as absent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "schemas/result.h"

namespace blackbox {

// The reasons the agent writes today. "reason" is free text (PROTOCOL.md §4.1): readers must
// accept others.
namespace gap_reason {
inline constexpr std::string_view kTruncated = "truncated";
inline constexpr std::string_view kTruncatedWhileStopped =
    "truncated while the agent was not running";
inline constexpr std::string_view kSpoolDamaged = "spool segment damaged; quarantined";
inline constexpr std::string_view kSpoolUnreadable = "spool entry unreadable when shipped";
inline constexpr std::string_view kBatchRejected = "batch rejected by the collector";
// Spooled records another instance wrote (a state directory carried over): set aside, not
// shipped under this instance's name; "note" says whose and where they are.
inline constexpr std::string_view kSpoolForeign = "spool written by another instance; set aside";
// File input: a file that appeared under a watched name and was deleted (or moved out of
// sight) before the agent could open it; its size is not known.
inline constexpr std::string_view kVanishedBeforeRead = "file vanished before it could be read";
// File input: the kernel's inotify queue overflowed; files created and removed meanwhile may
// have been missed (the agent rescans at once).
inline constexpr std::string_view kWatchOverflow = "file watch queue overflowed";
// File input: a file that holds data (its size) cannot be opened or read; not collected while
// that lasts (it is read from where it stands if it becomes readable again).
inline constexpr std::string_view kSourceUnreadable = "source unreadable";
}  // namespace gap_reason

struct GapBody {
  GapBody() = default;
  GapBody(std::string_view why, std::string_view where) : reason(why), source(where) {}

  std::string reason;  // why: one of gap_reason, or other free text
  std::string source;  // where: a file path, "spool", "syslog", …

  // How much, when known.
  std::optional<std::uint64_t> lost_bytes;
  std::optional<std::uint64_t> records;  // records lost (a dropped batch)

  // Where in the source.
  std::optional<std::uint64_t> from_offset;  // first lost byte
  std::optional<std::uint64_t> offset;       // read position when the loss was seen
  std::optional<std::uint64_t> size;         // the file's size when the loss was seen
  std::optional<std::uint64_t> segment;      // spool segment number

  // Which records, for a batch given up on: its stream and [first_seq, end_seq).
  std::optional<std::uint32_t> stream;
  std::optional<std::uint64_t> first_seq;
  std::optional<std::uint64_t> end_seq;
  std::optional<std::string> error;  // the Errc name the collector rejected it with

  std::optional<std::string> note;  // for a person

  bool operator==(const GapBody&) const = default;
};

// The record line for `body`: the JSON object above, compact, keys sorted, absent optionals
// omitted. Strings that are not valid UTF-8 are written with U+FFFD for the ill-formed bytes.
std::string encode_gap_body(const GapBody& body);

// Decodes a gap record's line. kMalformedRecord when it is not a JSON object, "reason" or
// "source" is missing or not a string, or a member has the wrong type (counts must be
// non-negative integers, "stream" ≤ 2^32-1); kLineTooLong over body_json::kMaxBodyBytes.
[[nodiscard]] Result<GapBody> decode_gap_body(std::string_view line);

}  // namespace blackbox
