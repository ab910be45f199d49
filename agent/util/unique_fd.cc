#include "agent/util/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace blackbox::agent {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);  // close errors on a read or synced fd carry no information
  fd_ = fd;
}

Errc errno_to_errc(int err) noexcept {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return Errc::kDiskFull;
    case ENOENT:
      return Errc::kNotFound;
    default:
      return Errc::kIo;
  }
}

Result<void> writev_all(int fd, struct iovec* iov, int iovcnt) {
  while (iovcnt > 0) {
    ssize_t n = ::writev(fd, iov, iovcnt > IOV_MAX ? IOV_MAX : iovcnt);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Err(errno_to_errc(errno));
    }
    auto left = static_cast<std::size_t>(n);
    while (iovcnt > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --iovcnt;
    }
    if (iovcnt > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return {};
}

Result<void> write_all(int fd, std::string_view data) {
  struct iovec iov {
    const_cast<char*>(data.data()), data.size()
  };
  return writev_all(fd, &iov, 1);
}

Result<std::size_t> pread_full(int fd, char* buf, std::size_t len, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd, buf + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Err(errno_to_errc(errno));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

Result<std::string> read_small_file(const std::string& path, std::size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Err(errno_to_errc(errno));
  std::string out(max_bytes, '\0');
  auto n = pread_full(fd.get(), out.data(), out.size(), 0);
  if (!n) return n.error();
  out.resize(*n);
  return out;
}

}  // namespace blackbox::agent
