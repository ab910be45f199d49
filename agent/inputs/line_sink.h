// The interface between inputs (which find lines) and the batch cutter (which encodes them):
// views only, valid during the call, so a line is copied once — into the batch.
#pragma once

#include <cstdint>
#include <string_view>

namespace blackbox::agent {

class LineSink {
 public:
  virtual ~LineSink() = default;
  // One line without its '\n' (a '\r' before it is kept: records are byte-exact), or a piece
  // of one; `flags` are record_flags (kSplitHead, kSplitTail, kPartial).
  virtual void on_line(std::string_view source, std::string_view line, std::uint8_t flags,
                       std::int64_t read_time_ns) = 0;
  // A visible gap (RecordKind::kGap) with a JSON body saying what was lost and why.
  virtual void on_gap(std::string_view source, std::string_view body_json,
                      std::int64_t time_ns) = 0;
};

}  // namespace blackbox::agent
