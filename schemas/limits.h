// Caps that bound every input (DESIGN.md contract 4). They are part of the wire spec
// (schemas/PROTOCOL.md) and are checked before anything is allocated.
#pragma once

#include <cstddef>
#include <cstdint>

namespace blackbox {

inline constexpr std::uint32_t kDefaultMaxFrameBytes = 16u << 20;       // 16 MiB
inline constexpr std::uint32_t kDefaultMaxBatchRawBytes = 64u << 20;    // 64 MiB decompressed
inline constexpr std::uint32_t kDefaultMaxRecordsPerBatch = 1u << 20;   // 1,048,576
inline constexpr std::uint32_t kDefaultMaxLineBytes = 1u << 20;         // 1 MiB per record line
// zstd window cap for decompression: 2^24 = 16 MiB. A frame asking for more is rejected
// instead of making us allocate its window.
inline constexpr int kZstdWindowLogMax = 24;

struct Limits {
  std::uint32_t max_frame_bytes = kDefaultMaxFrameBytes;          // whole frame payload
  std::uint32_t max_batch_raw_bytes = kDefaultMaxBatchRawBytes;   // records after decompression
  std::uint32_t max_records_per_batch = kDefaultMaxRecordsPerBatch;
  std::uint32_t max_line_bytes = kDefaultMaxLineBytes;            // one record's line/body
};

}  // namespace blackbox
