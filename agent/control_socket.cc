#include "agent/control_socket.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/util/unique_fd.h"

namespace blackbox::agent {

namespace {

constexpr std::size_t kMaxLine = 4096;

bool make_address(const std::string& path, sockaddr_un& addr) {
  if (path.size() >= sizeof(addr.sun_path)) return false;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

std::int64_t ms_left(std::chrono::steady_clock::time_point deadline) {
  return std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                       deadline - std::chrono::steady_clock::now())
                                       .count());
}

// Reads one '\n'-terminated line (without it) before `deadline`.
Result<std::string> read_line(int fd, std::chrono::steady_clock::time_point deadline) {
  std::string line;
  char buf[512];
  while (line.size() <= kMaxLine) {
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(ms_left(deadline)));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return Err(Errc::kTimeout);
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
    if (auto nl = line.find('\n'); nl != std::string::npos) {
      line.resize(nl);
      return line;
    }
  }
  if (line.empty()) return Err(Errc::kConnectionClosed);
  if (line.size() > kMaxLine) return Err(Errc::kLineTooLong);
  return line;
}

}  // namespace

Result<std::unique_ptr<ControlServer>> ControlServer::start(const std::string& path,
                                                            Handler handler) {
  sockaddr_un addr;
  if (!make_address(path, addr)) {
    spdlog::error("control: socket path {} is too long", path);
    return Err(Errc::kInvalidArgument);
  }
  std::unique_ptr<ControlServer> s(new ControlServer());
  s->path_ = path;
  s->handler_ = std::move(handler);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Err(Errc::kIo);
  ::unlink(path.c_str());  // a stale socket of an earlier run (we hold the agent lock)
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::chmod(path.c_str(), 0600) != 0 || ::listen(fd.get(), 8) != 0) {
    spdlog::error("control: cannot listen on {}: {}", path, std::strerror(errno));
    return Err(Errc::kIo);
  }
  UniqueFd stop(::eventfd(0, EFD_CLOEXEC));
  if (!stop) return Err(Errc::kIo);
  s->listen_fd_ = fd.release();
  s->stop_fd_ = stop.release();
  s->thread_ = std::thread([p = s.get()] { p->serve(); });
  return s;
}

ControlServer::~ControlServer() {
  std::uint64_t one = 1;
  if (::write(stop_fd_, &one, sizeof one) < 0) {
    // An eventfd write cannot fail short of a bug; the join below would then hang, so say so.
    spdlog::error("control: cannot stop the control thread: {}", std::strerror(errno));
  }
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  ::close(stop_fd_);
  ::unlink(path_.c_str());
}

void ControlServer::serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    int rc = ::poll(fds, 2, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      spdlog::error("control: poll failed: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    UniqueFd conn(::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) continue;
    auto line = read_line(conn.get(), std::chrono::steady_clock::now() + std::chrono::seconds(2));
    if (!line) continue;
    std::string reply = handler_(*line);
    reply.push_back('\n');
    (void)write_all(conn.get(), reply);  // the client may have gone: nothing left to do
  }
}

Result<std::string> control_request(const std::string& path, std::string_view request,
                                    std::chrono::milliseconds timeout) {
  sockaddr_un addr;
  if (!make_address(path, addr)) return Err(Errc::kInvalidArgument);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Err(Errc::kIo);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return Err(Errc::kUnavailable);
  std::string line(request);
  line.push_back('\n');
  if (auto w = write_all(fd.get(), line); !w) return w.error();
  return read_line(fd.get(), std::chrono::steady_clock::now() + timeout);
}

}  // namespace blackbox::agent
