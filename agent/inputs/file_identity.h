// What makes a tailed file "the same file": device + inode, plus a fingerprint of its first
// bytes so that an inode reused for a new file (after delete, or across a restart) is not
// mistaken for the old one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "schemas/result.h"

namespace blackbox::agent {

struct FileId {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  bool operator==(const FileId&) const = default;
};

struct FileIdHash {
  std::size_t operator()(const FileId& id) const noexcept {
    return std::hash<std::uint64_t>()(id.ino * 0x9E3779B97F4A7C15ull ^ id.dev);
  }
};

// CRC32C of the first `len` bytes of a file.
struct Fingerprint {
  std::uint32_t len = 0;
  std::uint32_t crc = 0;
  bool operator==(const Fingerprint&) const = default;
};

// Fingerprint of the first min(max_len, file size) bytes of `fd` (pread: the file offset is
// untouched). Errors: kIo.
[[nodiscard]] Result<Fingerprint> read_fingerprint(int fd, std::uint32_t max_len);

// True when `fd` still starts with the bytes `fp` was computed over (false if it is now
// shorter than fp.len).
[[nodiscard]] Result<bool> fingerprint_matches(int fd, const Fingerprint& fp);

}  // namespace blackbox::agent
