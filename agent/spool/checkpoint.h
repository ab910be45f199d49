// The state committed with every spool entry (DESIGN.md contract 3): where each stream's
// sequence and hash chain stand after the entry, and how far each tailed file has been turned
// into records. Written in the same checksummed append as the batch it belongs to, so after a
// crash the last valid entry says exactly which lines are spooled: none lost, none twice.
//
// Layout (little-endian), version 1:
//   u8      version
//   varint  stream count, then per stream: u32 stream, u64 next_seq, [32] chain head
//   varint  file count, then per file:
//           varint+ path, u64 dev, u64 inode, u32 fingerprint length, u32 fingerprint CRC32C,
//           u64 offset (bytes already turned into records), u8 flags (position_flags)
// Two halves so that the input thread encodes the files and the sealer the streams.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/hash_chain.h"
#include "schemas/result.h"

namespace blackbox::agent {

inline constexpr std::uint8_t kCheckpointVersion = 1;

struct StreamState {
  std::uint32_t stream = 0;
  std::uint64_t next_seq = 0;  // first sequence not yet used
  ChainHash head{};            // hash of the stream's last batch (zeros before the first)
  bool operator==(const StreamState&) const = default;
};

namespace position_flags {
// The offset is inside a line whose beginning was already emitted (split or partial): the
// next record from this file is a continuation (record_flags::kSplitTail).
inline constexpr std::uint8_t kMidLine = 1 << 0;
}  // namespace position_flags

struct FilePosition {
  std::string path;  // the path the file was first opened under (record source)
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint32_t fp_len = 0;  // fingerprint: CRC32C of the first fp_len bytes
  std::uint32_t fp_crc = 0;
  std::uint64_t offset = 0;
  std::uint8_t flags = 0;
  bool operator==(const FilePosition&) const = default;
};

struct Checkpoint {
  std::vector<StreamState> streams;
  std::vector<FilePosition> files;
  bool operator==(const Checkpoint&) const = default;
};

// First half: version and stream states.
void encode_stream_states(std::string& out, std::span<const StreamState> streams);
// Second half: file positions.
void encode_file_positions(std::string& out, std::span<const FilePosition> files);
// Whole checkpoint. Errors: kUnsupportedVersion, kMalformedRecord (lengths or counts lie,
// trailing bytes).
[[nodiscard]] Result<Checkpoint> decode_checkpoint(std::string_view data);

}  // namespace blackbox::agent
