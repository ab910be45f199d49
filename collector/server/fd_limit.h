// Open-file limits: every agent connection, HTTP connection and RocksDB file is a descriptor,
// and running out of them inside RocksDB stops the collector. So the collector raises its soft
// RLIMIT_NOFILE to the hard limit at start, and caps agent connections below the limit with a
// reserve for everything else (ServerOptions::reserved_fds): a crowd of connections is answered
// ERROR busy instead of starving the store.
#pragma once

#include <cstddef>
#include <cstdint>

namespace blackbox::collector {

struct FdLimit {
  std::uint64_t soft = 0;  // RLIM_INFINITY is reported as UINT64_MAX
  std::uint64_t hard = 0;
};

// The process's RLIMIT_NOFILE now.
FdLimit open_file_limit();

// Raises the soft limit to the hard limit (best effort) and logs the figures before and after.
// Call once at start, before opening the store. Returns the limits in force.
FdLimit raise_open_file_limit();

// Descriptors RocksDB may hold: its table files (max_open_files; -1, "all", counts as
// `unlimited_guess`) plus its WAL, manifest, info log and compaction outputs.
std::size_t rocksdb_fd_reserve(int max_open_files);

// Descriptors reserved besides RocksDB: the HTTP API's connections (its max_connections) plus
// the process's own (listeners, eventfds, epoll, log files, accept slack).
inline constexpr std::size_t kReservedFdsBesidesRocksDb = 256 + 128;

// The agent connection cap a soft limit allows: min(configured, soft - reserved), at least 1.
std::size_t connection_cap(std::size_t configured, std::uint64_t soft_limit, std::size_t reserved);

}  // namespace blackbox::collector
