#include "tests/support/test_agent.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "schemas/bytes.h"
#include "schemas/crc32c.h"

namespace blackbox::collector::testing {

namespace {
using SteadyClock = std::chrono::steady_clock;

int ms_left(SteadyClock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  return left < 0 ? 0 : static_cast<int>(std::min<long long>(left, 1'000'000));
}
}  // namespace

TestConnection::~TestConnection() { close(); }

TestConnection& TestConnection::operator=(TestConnection&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    broken_ = o.broken_;
    o.fd_ = -1;
  }
  return *this;
}

void TestConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  broken_ = false;
}

void TestConnection::shutdown_send() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

bool TestConnection::connect(std::uint16_t port, std::chrono::milliseconds timeout) {
  close();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return false;
  }
  if (rc != 0) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
      ::close(fd);
      return false;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      ::close(fd);
      return false;
    }
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fd_ = fd;
  return true;
}

bool TestConnection::send_raw(std::string_view bytes, std::chrono::milliseconds timeout) {
  if (fd_ < 0) return false;
  const auto deadline = SteadyClock::now() + timeout;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, ms_left(deadline)) != 1) return false;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
  return true;
}

bool TestConnection::send_frame(FrameType type, std::string_view payload) {
  std::string f;
  append_frame(f, type, payload);
  return send_raw(f);
}

bool TestConnection::read_exact(char* p, std::size_t n, SteadyClock::time_point deadline) {
  while (n > 0) {
    ssize_t r = ::recv(fd_, p, n, 0);
    if (r > 0) {
      p += r;
      n -= static_cast<std::size_t>(r);
      continue;
    }
    if (r == 0) return false;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    pollfd pf{fd_, POLLIN, 0};
    int left = ms_left(deadline);
    if (left == 0 || ::poll(&pf, 1, left) != 1) return false;
  }
  return true;
}

std::optional<Frame> TestConnection::read_frame(std::chrono::milliseconds timeout) {
  if (fd_ < 0 || broken_) return std::nullopt;
  // Nothing readable within `timeout`: no frame yet, the stream is still in step.
  pollfd pf{fd_, POLLIN, 0};
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  if (::poll(&pf, 1, static_cast<int>(ms)) != 1) return std::nullopt;
  // A frame (or EOF) has arrived: read it whole. A peer stopping mid-frame, EOF or a malformed
  // frame breaks the connection for good (the next bytes could not be framed any more).
  const auto deadline = SteadyClock::now() + std::max<std::chrono::milliseconds>(timeout, 10s);
  broken_ = true;
  char hdr[kFrameHeaderBytes];
  if (!read_exact(hdr, sizeof hdr, deadline)) return std::nullopt;
  auto h = parse_frame_header(std::string_view(hdr, sizeof hdr));
  if (!h) return std::nullopt;
  Frame f;
  f.type = h->type;
  f.payload.resize(h->length);
  if (!read_exact(f.payload.data(), f.payload.size(), deadline)) return std::nullopt;
  if (!verify_frame_payload(*h, f.payload)) return std::nullopt;
  broken_ = false;
  return f;
}

bool TestConnection::wait_closed(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return true;
  const auto deadline = SteadyClock::now() + timeout;
  char buf[4096];
  for (;;) {
    ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
    if (r == 0) return true;
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
    if (r > 0) continue;
    pollfd pf{fd_, POLLIN, 0};
    int left = ms_left(deadline);
    if (left == 0) return false;
    ::poll(&pf, 1, left);
  }
}

std::optional<Welcome> TestConnection::hello(const Hello& h, std::chrono::milliseconds timeout) {
  last_error_.reset();
  if (!send_frame(FrameType::kHello, encode_hello(h))) return std::nullopt;
  auto f = read_frame(timeout);
  if (!f) return std::nullopt;
  if (f->type == FrameType::kError) {
    last_error_ = as_error(*f);
    return std::nullopt;
  }
  if (f->type != FrameType::kWelcome) return std::nullopt;
  auto w = decode_welcome(f->payload);
  if (!w) return std::nullopt;
  return *w;
}

std::string StreamSource::make_batch(std::uint64_t first_seq, std::uint32_t records,
                                     const ChainHash& prev, BatchHeader* header) {
  BatchBuilder b;
  std::string line;
  for (std::uint32_t i = 0; i < records; ++i) {
    const std::uint64_t seq = first_seq + i;
    line = "seq=" + std::to_string(seq) + " stream=" + std::to_string(stream_) +
           " GET /api/v1/items status=200 user=u" + std::to_string(seq % 97) + " ";
    while (line.size() < line_bytes_)
      line.push_back(static_cast<char>('a' + (seq + line.size()) % 26));
    RecordData r;
    r.kind = RecordKind::kLog;
    r.severity = static_cast<Severity>(seq % 8);
    r.event_time_ns = time_ns_ + static_cast<std::int64_t>(seq) * 1000;
    r.read_time_ns = r.event_time_ns;
    r.source = "/var/log/app.log";
    r.line = line;
    b.add(r);
  }
  std::string out;
  auto h = b.seal(stream_, first_seq, prev, &zstd_, out);
  if (h && header) *header = *h;
  return out;
}

std::string StreamSource::next_batch(std::uint32_t records) {
  BatchHeader h;
  std::string out = make_batch(next_seq_, records, head_, &h);
  next_seq_ += records;
  head_ = h.hash;
  return out;
}

std::string craft_batch(const CraftedBatch& c, std::string_view payload) {
  std::string h;
  bytes::put_le(h, kBatchMagic);
  bytes::put_u8(h, kBatchVersion);
  bytes::put_u8(h, static_cast<std::uint8_t>(c.compression));
  bytes::put_le(h, std::uint16_t{0});
  bytes::put_le(h, c.stream);
  bytes::put_le(h, c.record_count);
  bytes::put_le(h, c.first_seq);
  bytes::put_le(h, c.min_time_ns);
  bytes::put_le(h, c.max_time_ns);
  bytes::put_le(h, c.raw_size);
  bytes::put_le(h, static_cast<std::uint32_t>(payload.size()));
  bytes::put_le(h, crc32c::value(payload));
  const ChainHash hash = chain_hash(c.prev, h, payload);
  h.append(reinterpret_cast<const char*>(c.prev.data()), c.prev.size());
  h.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  bytes::put_le(h, crc32c::value(h));
  h.append(payload);
  return h;
}

Hello test_hello(const std::string& instance, const std::string& token) {
  Hello h;
  h.instance_id = instance;
  h.image_id = "ami-test";
  h.boot_id = "boot-1";
  h.hostname = "host-" + instance;
  h.agent_version = "test";
  h.token = token;
  return h;
}

std::optional<Ack> as_ack(const Frame& f) {
  if (f.type != FrameType::kAck) return std::nullopt;
  auto a = decode_ack(f.payload);
  if (!a) return std::nullopt;
  return *a;
}

std::optional<ErrorFrame> as_error(const Frame& f) {
  if (f.type != FrameType::kError) return std::nullopt;
  auto e = decode_error(f.payload);
  if (!e) return std::nullopt;
  return *e;
}

}  // namespace blackbox::collector::testing
