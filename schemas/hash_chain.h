// The per-stream hash chain (DESIGN.md contract 6). Each batch carries the chain hash of the
// previous batch of its stream and its own:
//   hash = SHA-256(prev_hash ‖ batch header bytes [0, kBatchHashedHeaderBytes) ‖ stored payload)
// The stored payload is the compressed bytes exactly as spooled, shipped and stored, so the
// chain can be verified at rest without decompressing. The first batch of a stream (seq 0)
// has an all-zero prev_hash.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace blackbox {

using ChainHash = std::array<std::uint8_t, 32>;

inline constexpr ChainHash kZeroHash{};

// Lower-case hex, 64 characters.
std::string to_hex(const ChainHash& h);

// SHA-256 over prev ‖ parts..., computed with OpenSSL.
ChainHash chain_hash(const ChainHash& prev, std::string_view header_part,
                     std::string_view payload);

}  // namespace blackbox
