// Stream ids the agent writes. A stream is one sequence space and one hash chain per instance.
#pragma once

#include <cstdint>

namespace blackbox {

inline constexpr std::uint32_t kStreamLogs = 1;       // every log input (files, syslog, journald)
inline constexpr std::uint32_t kStreamLifecycle = 2;  // hello, heartbeat, notice, goodbye records
inline constexpr std::uint32_t kStreamSnapshots = 3;  // host snapshots

inline const char* stream_name(std::uint32_t s) {
  switch (s) {
    case kStreamLogs: return "logs";
    case kStreamLifecycle: return "lifecycle";
    case kStreamSnapshots: return "snapshots";
    default: return "other";
  }
}

}  // namespace blackbox
