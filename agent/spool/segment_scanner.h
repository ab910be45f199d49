// Walks one spool segment file and finds every valid entry, also past damage: after a bad
// entry it searches forward for the next entry whose magic, lengths and CRC check out. The
// spool's recovery decides from the result whether the damage is a torn tail (truncate) or
// corruption (quarantine, report a gap). Reads with pread in bounded pieces: memory stays at
// one entry, whatever the segment size.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/spool/file_ops.h"
#include "agent/spool/segment_format.h"
#include "schemas/result.h"

namespace blackbox::agent {

struct DamagedRange {
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
};

struct SegmentScanResult {
  bool header_ok = false;
  std::uint64_t file_size = 0;
  std::uint64_t valid_end = 0;  // end of the last valid entry (header size if none)
  std::size_t entries = 0;
  std::vector<DamagedRange> damage;  // in file order; empty when the segment is clean
  // True when the only damage runs from some offset to the end of the file with no valid
  // entry after it: what a write cut short by a crash leaves behind.
  bool torn_tail_only() const {
    return header_ok && damage.size() == 1 && damage[0].offset + damage[0].bytes == file_size;
  }
};

// Called for each valid entry: its offset, parsed header and body (batch ‖ checkpoint),
// valid only during the call. A batch entry's body has already passed the entry CRC.
using EntryVisitor = std::function<void(std::uint64_t offset, const EntryHeader& h,
                                        std::string_view header_bytes, std::string_view body)>;

// Scans the open segment `fd`, reading through `ops`. Errors: the failed read's, as FileOps
// reports it (errno); damage is reported in the result, not as an error.
[[nodiscard]] Result<SegmentScanResult> scan_segment(FileOps& ops, int fd,
                                                     const EntryVisitor& visit);

}  // namespace blackbox::agent
