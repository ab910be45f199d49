// CRC32C (Castagnoli), the checksum of frames, batches and spool segments.
// Uses the SSE4.2 instruction when the CPU has it, a table otherwise.
#pragma once

#include <cstdint>
#include <string_view>

namespace blackbox::crc32c {

// Extends `crc` (the CRC of earlier bytes; 0 to start) with `data`.
std::uint32_t extend(std::uint32_t crc, std::string_view data) noexcept;

inline std::uint32_t value(std::string_view data) noexcept { return extend(0, data); }

}  // namespace blackbox::crc32c

namespace blackbox::crc32c {
// The table-driven path alone, so tests can check both implementations agree.
std::uint32_t extend_portable_for_test(std::uint32_t crc, std::string_view data) noexcept;
}  // namespace blackbox::crc32c
