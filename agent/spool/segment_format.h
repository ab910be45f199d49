// On-disk format of the agent's spool: a directory of append-only segment files, each a
// header and a sequence of checksummed entries. Version 2 (version 1 segments, without an
// identity entry, are still read: their identity is unknown).
//
// File name: <segment id, 20 decimal digits>.seg; ids increase, never reused.
// Segment header (kSegmentHeaderBytes = 24, little-endian):
//   0  u32  magic "BBSG" (0x47534242)
//   4  u8   version (2; 1 is read too)
//   5  [3]  zero
//   8  u64  segment id (matches the file name)
//  16  u32  zero
//  20  u32  CRC32C of bytes [0,20)
// Entry (kEntryHeaderBytes = 20 header bytes, then body):
//   0  u32  magic "BBSE" (0x45534242)
//   4  u8   type: 1 batch (body = batch bytes ‖ checkpoint), 2 state (body = checkpoint),
//           3 identity (body = identity record, in the checkpoint part; batch length 0)
//   5  u8   zero
//   6  u16  zero
//   8  u32  batch length (0 for a state entry)
//  12  u32  checkpoint length
//  16  u32  CRC32C of bytes [4,16) ‖ body
// One CRC covers the batch and the checkpoint (checkpoint.h) written with it: either both
// are in the spool or neither is. A state entry opens every segment, carrying the state
// forward so that deleting acknowledged segments never loses sequence numbers or positions.
// Version 2: an identity entry comes first, right after the header: who wrote the segment's
// records (a spool belongs to one identity: a state directory copied to another instance
// must not ship the old instance's records under the new one's name). Identity record:
//   u8 version (1), u16 instance id length, instance id, u16 boot id length, boot id
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "schemas/result.h"

namespace blackbox::agent {

inline constexpr std::uint32_t kSegmentMagic = 0x47534242;  // "BBSG"
inline constexpr std::uint32_t kEntryMagic = 0x45534242;    // "BBSE"
inline constexpr std::uint8_t kSegmentVersion = 2;
inline constexpr std::uint8_t kIdentityVersion = 1;
inline constexpr std::size_t kSegmentHeaderBytes = 24;
inline constexpr std::size_t kEntryHeaderBytes = 20;
// Caps on entry parts, checked before anything is read or allocated.
inline constexpr std::uint32_t kMaxSpoolBatchBytes = 64u << 20;
inline constexpr std::uint32_t kMaxCheckpointBytes = 16u << 20;

enum class EntryType : std::uint8_t { kBatch = 1, kState = 2, kIdentity = 3 };

// Who wrote a segment's records (an identity entry's body).
struct SpoolIdentity {
  std::string instance_id;
  std::string boot_id;
  bool operator==(const SpoolIdentity&) const = default;
};
std::string encode_spool_identity(const SpoolIdentity& id);
// Errors: kUnsupportedVersion, kMalformedRecord (lengths lie, trailing bytes).
[[nodiscard]] Result<SpoolIdentity> decode_spool_identity(std::string_view body);

struct EntryHeader {
  EntryType type = EntryType::kBatch;
  std::uint32_t batch_len = 0;
  std::uint32_t checkpoint_len = 0;
  std::uint32_t crc = 0;
  std::uint64_t body_len() const { return std::uint64_t{batch_len} + checkpoint_len; }
  std::uint64_t total_len() const { return kEntryHeaderBytes + body_len(); }
};

using EntryHeaderBytes = std::array<char, kEntryHeaderBytes>;

// Header for an entry with this body; the CRC covers both parts.
EntryHeaderBytes make_entry_header(EntryType type, std::string_view batch,
                                   std::string_view checkpoint);
// Checks magic, type, reserved bytes and the length caps. Errors: kBadMagic, kMalformedRecord.
[[nodiscard]] Result<EntryHeader> parse_entry_header(std::string_view header);
// True when `body` (batch ‖ checkpoint) matches the CRC in `header`.
bool entry_crc_ok(const EntryHeader& h, std::string_view header, std::string_view body);

std::string make_segment_header(std::uint64_t id);
// Errors: kBadMagic, kUnsupportedVersion, kChecksumMismatch, kTruncated.
[[nodiscard]] Result<std::uint64_t> parse_segment_header(std::string_view header);

std::string segment_file_name(std::uint64_t id);
std::optional<std::uint64_t> parse_segment_file_name(std::string_view name);

}  // namespace blackbox::agent
