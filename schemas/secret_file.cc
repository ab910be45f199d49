#include "schemas/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace blackbox {
namespace {

constexpr std::size_t kMaxSecretBytes = 1 << 20;

Errc errno_errc(int e) { return e == ENOENT || e == ENOTDIR ? Errc::kNotFound : Errc::kIo; }

}  // namespace

Result<void> check_private_file(const std::string& path, std::string& why) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    why = fmt::format("cannot read {}: {}", path, std::strerror(e));
    return Err(errno_errc(e));
  }
  if (!S_ISREG(st.st_mode)) {
    why = fmt::format("{} is not a regular file", path);
    return Err(Errc::kInvalidArgument);
  }
  if ((st.st_mode & 077) != 0) {
    why = fmt::format(
        "{} holds a secret but other users may access it (mode {:04o}); run: chmod 600 {}", path,
        st.st_mode & 07777, path);
    return Err(Errc::kInvalidArgument);
  }
  return {};
}

Result<std::string> read_secret_file(const std::string& path, std::string& why) {
  if (auto ok = check_private_file(path, why); !ok) return ok.error();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    why = fmt::format("cannot read {}: {}", path, std::strerror(e));
    return Err(errno_errc(e));
  }
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      why = fmt::format("cannot read {}: {}", path, std::strerror(e));
      return Err(Errc::kIo);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxSecretBytes) {
      ::close(fd);
      why = fmt::format("{} is over 1 MiB: not a secret or key file", path);
      return Err(Errc::kInvalidArgument);
    }
  }
  ::close(fd);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (out.empty()) {
    why = fmt::format("{} is empty: put the secret in it", path);
    return Err(Errc::kInvalidArgument);
  }
  return out;
}

Result<void> write_private_file(const std::string& path, const std::string& bytes,
                                std::string& why) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string tmp = (dir / (target.filename().string() + ".tmp")).string();
  auto fail = [&](const char* what) {
    const int e = errno;
    why = fmt::format("cannot {} {}: {}", what, tmp, std::strerror(e));
    ::unlink(tmp.c_str());
    return Err(e == ENOSPC ? Errc::kDiskFull : Errc::kIo);
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail("create");
  ::fchmod(fd, 0600);  // whatever the umask and an old file's mode
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return fail("write");
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return fail("fsync");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename");
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace blackbox
