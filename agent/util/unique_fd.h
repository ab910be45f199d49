// A file descriptor owned once (RAII), plus the few whole-buffer I/O helpers the spool and
// the file inputs need. Errors come back as Errc: kDiskFull for ENOSPC/EDQUOT, kFsyncFailed
// for a failed fsync (fatal: durability unknown), kIo otherwise; errno is left for the caller's
// log line.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "schemas/result.h"

namespace blackbox::agent {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Errc for the current errno of a failed write-like call.
Errc errno_to_errc(int err) noexcept;

// Writes every byte of `iov` (retrying short writes and EINTR). `iov` is modified.
[[nodiscard]] Result<void> writev_all(int fd, struct iovec* iov, int iovcnt);
[[nodiscard]] Result<void> write_all(int fd, std::string_view data);
// Reads up to `len` bytes at `offset`; fewer only at end of file. Returns the count.
[[nodiscard]] Result<std::size_t> pread_full(int fd, char* buf, std::size_t len,
                                             std::uint64_t offset);
// Whole small file (identity files, configs) up to `max_bytes`.
[[nodiscard]] Result<std::string> read_small_file(const std::string& path,
                                                  std::size_t max_bytes = 64 * 1024);

}  // namespace blackbox::agent
