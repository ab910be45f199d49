#include "agent/spool/file_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace blackbox::agent {

namespace {

boost::system::error_code os_error(int err) { return {err, boost::system::system_category()}; }

// Retries EINTR; returns the call's result, or -1 with errno set.
template <class F>
auto retry_eintr(F f) {
  for (;;) {
    auto r = f();
    if (r >= 0 || errno != EINTR) return r;
  }
}

}  // namespace

Result<UniqueFd> PosixFileOps::open(const std::string& path, OpenMode mode) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case OpenMode::kReadWrite:
      flags |= O_RDWR;
      break;
    case OpenMode::kCreateExclusive:
      flags |= O_RDWR | O_CREAT | O_EXCL;
      break;
    case OpenMode::kCreateTruncate:
      flags |= O_WRONLY | O_CREAT | O_TRUNC;
      break;
  }
  int fd = retry_eintr([&] { return ::open(path.c_str(), flags, 0640); });
  if (fd < 0) return os_error(errno);
  return UniqueFd(fd);
}

Result<std::size_t> PosixFileOps::pwritev(int fd, std::span<const struct iovec> iov,
                                          std::uint64_t offset) {
  const int count = static_cast<int>(std::min<std::size_t>(iov.size(), IOV_MAX));
  ssize_t n =
      retry_eintr([&] { return ::pwritev(fd, iov.data(), count, static_cast<off_t>(offset)); });
  if (n < 0) return os_error(errno);
  return static_cast<std::size_t>(n);
}

Result<std::size_t> PosixFileOps::pread(int fd, char* buf, std::size_t len, std::uint64_t offset) {
  ssize_t n = retry_eintr([&] { return ::pread(fd, buf, len, static_cast<off_t>(offset)); });
  if (n < 0) return os_error(errno);
  return static_cast<std::size_t>(n);
}

Result<void> PosixFileOps::fdatasync(int fd) {
  if (::fdatasync(fd) != 0) return os_error(errno);
  return {};
}

Result<void> PosixFileOps::ftruncate(int fd, std::uint64_t size) {
  if (retry_eintr([&] { return ::ftruncate(fd, static_cast<off_t>(size)); }) != 0)
    return os_error(errno);
  return {};
}

Result<std::uint64_t> PosixFileOps::file_size(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return os_error(errno);
  return static_cast<std::uint64_t>(st.st_size);
}

Result<void> PosixFileOps::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return os_error(errno);
  return {};
}

Result<void> PosixFileOps::link(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) != 0) return os_error(errno);
  return {};
}

Result<void> PosixFileOps::unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return os_error(errno);
  return {};
}

Result<void> PosixFileOps::sync_dir(const std::string& dir) {
  int fd = retry_eintr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return os_error(errno);
  UniqueFd owned(fd);
  if (::fsync(owned.get()) != 0) return os_error(errno);
  return {};
}

Result<void> PosixFileOps::create_dirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return os_error(ec.value());  // generic errno values, as the other calls
  return {};
}

Result<std::vector<std::string>> PosixFileOps::list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return os_error(errno);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    std::string_view name(e->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return os_error(err);
  return names;
}

FileOps& posix_file_ops() {
  static PosixFileOps ops;  // stateless: one instance serves every spool
  return ops;
}

Errc file_errc(const boost::system::error_code& ec) noexcept {
  if (!ec) return Errc::kOk;
  if (ec.category() == blackbox_category()) return static_cast<Errc>(ec.value());
  return errno_to_errc(ec.value());
}

Result<void> pwrite_all(FileOps& ops, int fd, std::span<const struct iovec> iov,
                        std::uint64_t offset) {
  std::vector<struct iovec> rest(iov.begin(), iov.end());
  std::size_t first = 0;
  while (first < rest.size()) {
    if (rest[first].iov_len == 0) {
      ++first;
      continue;
    }
    auto n = ops.pwritev(fd, std::span<const struct iovec>(rest).subspan(first), offset);
    if (!n) return n.error();
    if (*n == 0) return os_error(EIO);  // no progress and no error: never loop forever
    offset += *n;
    std::size_t left = *n;
    while (first < rest.size() && left >= rest[first].iov_len) left -= rest[first++].iov_len;
    if (first < rest.size()) {
      rest[first].iov_base = static_cast<char*>(rest[first].iov_base) + left;
      rest[first].iov_len -= left;
    }
  }
  return {};
}

Result<std::size_t> pread_full_at(FileOps& ops, int fd, char* buf, std::size_t len,
                                  std::uint64_t offset) {
  std::size_t done = 0;
  while (done < len) {
    auto n = ops.pread(fd, buf + done, len - done, offset + done);
    if (!n) return n.error();
    if (*n == 0) break;
    done += *n;
  }
  return done;
}

}  // namespace blackbox::agent
