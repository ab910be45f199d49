#include "collector/server/fd_limit.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace blackbox::collector {

namespace {

std::uint64_t figure(rlim_t v) {
  return v == RLIM_INFINITY ? std::numeric_limits<std::uint64_t>::max()
                            : static_cast<std::uint64_t>(v);
}

}  // namespace

FdLimit open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return {};
  return {figure(rl.rlim_cur), figure(rl.rlim_max)};
}

FdLimit raise_open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    spdlog::warn("collector: cannot read the open-file limit: {}", std::strerror(errno));
    return {};
  }
  const std::uint64_t before = figure(rl.rlim_cur);
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0)
      spdlog::warn("collector: cannot raise the open-file limit from {} to {}: {}", before,
                   figure(rl.rlim_max), std::strerror(errno));
  }
  const FdLimit now = open_file_limit();
  spdlog::info("collector: open-file limit {} (soft was {}, hard {})", now.soft, before, now.hard);
  return now;
}

std::size_t rocksdb_fd_reserve(int max_open_files) {
  constexpr std::size_t kUnlimitedGuess = 4096;  // "keep every table open": assume a big store
  constexpr std::size_t kOtherFiles = 64;        // WAL, manifest, LOG, compaction outputs
  return (max_open_files < 0 ? kUnlimitedGuess : static_cast<std::size_t>(max_open_files)) +
         kOtherFiles;
}

std::size_t connection_cap(std::size_t configured, std::uint64_t soft_limit, std::size_t reserved) {
  if (soft_limit <= reserved) return 1;
  return static_cast<std::size_t>(
      std::max<std::uint64_t>(1, std::min<std::uint64_t>(configured, soft_limit - reserved)));
}

}  // namespace blackbox::collector
