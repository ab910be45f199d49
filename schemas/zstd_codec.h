// zstd compression for batches, wrapped once (RAII). Decompression is bounded: the output may
// never exceed a caller-given cap and the window is limited to 2^kZstdWindowLogMax, whatever
// the frame declares. Not thread-safe: one object per thread.
#pragma once

#include "schemas/result.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace blackbox {

class ZstdCompressor {
 public:
  explicit ZstdCompressor(int level = 1);
  ~ZstdCompressor();
  ZstdCompressor(ZstdCompressor&&) noexcept;
  ZstdCompressor& operator=(ZstdCompressor&&) noexcept;

  // Appends the compressed form of `in` to `out`.
  [[nodiscard]] Result<void> compress(std::string_view in, std::string& out);
  int level() const { return level_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int level_;
};

class ZstdDecompressor {
 public:
  ZstdDecompressor();
  ~ZstdDecompressor();
  ZstdDecompressor(ZstdDecompressor&&) noexcept;
  ZstdDecompressor& operator=(ZstdDecompressor&&) noexcept;

  // Decompresses `in` (one or more zstd frames) into `out` (replaced). The result must be
  // exactly `expected_size` bytes, which the caller has already checked against its cap:
  // output beyond it stops decompression at once (kBatchTooLarge), less is kMalformedRecord.
  // The frame's own declared content size is never trusted for allocation.
  [[nodiscard]] Result<void> decompress(std::string_view in, std::size_t expected_size,
                                        std::string& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace blackbox
