// Typed envelope of snapshot records (RecordKind::kSnapshot, stream 3): which kind of host
// snapshot this is, when the agent took it, and which sections it carries. The sections'
// contents (packages, users, listening sockets, mounts, changed files, …) are defined by the
// agent's snapshot module; a decoder of this envelope ignores them, so the envelope stays
// readable as sections are added.
//
// Wire shape (PROTOCOL.md §4.1, snapshot_body.schema.json): one JSON object, keys sorted,
//   {"kind":"boot|periodic|final|on_demand","sections":["packages",…],"snapshot_version":1,
//    "taken_ns":N, <one member per section, not read here>}
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/result.h"

namespace blackbox {

inline constexpr std::uint32_t kSnapshotBodyVersion = 1;
// Sections per snapshot and bytes per section name: caps a decoder checks before keeping any.
inline constexpr std::size_t kMaxSnapshotSections = 64;
inline constexpr std::size_t kMaxSnapshotSectionName = 64;

enum class SnapshotKind : std::uint8_t {
  kBoot,      // the agent's first snapshot after the host booted
  kPeriodic,  // on the configured schedule
  kFinal,     // the last gasp (SIGTERM or a termination notice)
  kOnDemand,  // asked for through the control socket
};

// "boot", "periodic", "final", "on_demand".
const char* snapshot_kind_name(SnapshotKind k) noexcept;
std::optional<SnapshotKind> parse_snapshot_kind(std::string_view name) noexcept;

// A section name: 1..kMaxSnapshotSectionName bytes of [a-z0-9_], starting with a letter.
bool is_snapshot_section_name(std::string_view name) noexcept;

struct SnapshotBody {
  SnapshotKind kind = SnapshotKind::kPeriodic;
  std::int64_t taken_ns = 0;          // agent wall clock when the snapshot started
  std::vector<std::string> sections;  // names of the sections present, unique, in order
  bool operator==(const SnapshotBody&) const = default;
};

// The envelope's JSON object, compact, keys sorted, with "snapshot_version" =
// kSnapshotBodyVersion. Precondition: sections are valid names, unique, at most
// kMaxSnapshotSections (what decode_snapshot_body accepts).
std::string encode_snapshot_body(const SnapshotBody& body);

// Decodes a snapshot record's envelope. kUnsupportedVersion when "snapshot_version" is not 1;
// kMalformedRecord when it is not a JSON object, a member is missing or of the wrong type, the
// kind is unknown, or sections are invalid names, repeated or more than kMaxSnapshotSections;
// kLineTooLong over body_json::kMaxBodyBytes.
[[nodiscard]] Result<SnapshotBody> decode_snapshot_body(std::string_view line);

}  // namespace blackbox
