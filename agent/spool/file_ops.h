// The file operations the spool makes, behind one small interface so that tests can fail any
// of them on purpose (tests/support/fault_file_ops.h): ENOSPC on the Nth write, a short write,
// a failed fdatasync, an unlink that does not happen. PosixFileOps is the real thing and the
// default (SpoolOptions::file_ops == nullptr).
//
// Contract for every implementation: each call is one system call's worth of work and reports
// the OS's answer unchanged — errors are errno values in boost::system::system_category() (so
// that message() is strerror and a log line can name the cause); file_errc() maps them to the
// Errc a caller returns. Nothing retries or hides a short count: pwritev() may write fewer
// bytes than asked, pread() may read fewer; pwrite_all() / pread_full_at() loop over them.
// Implementations must be thread-safe: the spool's writer and shipper threads call at once.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "agent/util/unique_fd.h"
#include "schemas/result.h"

namespace blackbox::agent {

enum class OpenMode : std::uint8_t {
  kReadWrite,        // an existing file
  kCreateExclusive,  // a new file (O_CREAT | O_EXCL); fails if it exists
  kCreateTruncate,   // a new or emptied file (O_CREAT | O_TRUNC), write only
};

class FileOps {
 public:
  virtual ~FileOps() = default;

  [[nodiscard]] virtual Result<UniqueFd> open(const std::string& path, OpenMode mode) = 0;
  // Writes up to the sum of `iov` at `offset`; returns how many bytes were written (> 0).
  [[nodiscard]] virtual Result<std::size_t> pwritev(int fd, std::span<const struct iovec> iov,
                                                    std::uint64_t offset) = 0;
  // Reads up to `len` bytes at `offset`; returns the count (0 at end of file).
  [[nodiscard]] virtual Result<std::size_t> pread(int fd, char* buf, std::size_t len,
                                                  std::uint64_t offset) = 0;
  [[nodiscard]] virtual Result<void> fdatasync(int fd) = 0;
  [[nodiscard]] virtual Result<void> ftruncate(int fd, std::uint64_t size) = 0;
  [[nodiscard]] virtual Result<std::uint64_t> file_size(int fd) = 0;
  [[nodiscard]] virtual Result<void> rename(const std::string& from, const std::string& to) = 0;
  [[nodiscard]] virtual Result<void> link(const std::string& from, const std::string& to) = 0;
  [[nodiscard]] virtual Result<void> unlink(const std::string& path) = 0;
  // fsync of a directory: makes created, renamed and removed entries durable.
  [[nodiscard]] virtual Result<void> sync_dir(const std::string& dir) = 0;
  // mkdir -p.
  [[nodiscard]] virtual Result<void> create_dirs(const std::string& dir) = 0;
  // The names in `dir` (no "." or ".."), in no particular order.
  [[nodiscard]] virtual Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;
};

class PosixFileOps final : public FileOps {
 public:
  Result<UniqueFd> open(const std::string& path, OpenMode mode) override;
  Result<std::size_t> pwritev(int fd, std::span<const struct iovec> iov,
                              std::uint64_t offset) override;
  Result<std::size_t> pread(int fd, char* buf, std::size_t len, std::uint64_t offset) override;
  Result<void> fdatasync(int fd) override;
  Result<void> ftruncate(int fd, std::uint64_t size) override;
  Result<std::uint64_t> file_size(int fd) override;
  Result<void> rename(const std::string& from, const std::string& to) override;
  Result<void> link(const std::string& from, const std::string& to) override;
  Result<void> unlink(const std::string& path) override;
  Result<void> sync_dir(const std::string& dir) override;
  Result<void> create_dirs(const std::string& dir) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
};

// The process-wide POSIX instance (stateless), used when no other is injected.
FileOps& posix_file_ops();

// The Errc for an error from a FileOps call other than a sync: kDiskFull for ENOSPC / EDQUOT,
// kNotFound for ENOENT, kIo otherwise; Blackbox codes pass through. A failed fdatasync or
// sync_dir is always Errc::kFsyncFailed (durability unknown), whatever its errno.
Errc file_errc(const boost::system::error_code& ec) noexcept;

// Writes every byte of `iov` at `offset`, looping over short writes. On error, some prefix may
// have been written: the caller truncates it away. Errors as FileOps (errno).
[[nodiscard]] Result<void> pwrite_all(FileOps& ops, int fd, std::span<const struct iovec> iov,
                                      std::uint64_t offset);
// Reads `len` bytes at `offset`, looping over short reads; fewer only at end of file.
[[nodiscard]] Result<std::size_t> pread_full_at(FileOps& ops, int fd, char* buf, std::size_t len,
                                                std::uint64_t offset);

}  // namespace blackbox::agent
