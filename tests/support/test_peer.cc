#include "tests/support/test_peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "schemas/batch.h"
#include "schemas/zstd_codec.h"

namespace blackbox::agent::testing {

namespace {

bool read_exact(int fd, char* p, std::size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

bool write_exact(int fd, const std::string& s) {
  const char* p = s.data();
  std::size_t n = s.size();
  while (n > 0) {
    ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

bool send_frame(int fd, FrameType type, const std::string& payload) {
  std::string frame;
  append_frame(frame, type, payload);
  return write_exact(fd, frame);
}

}  // namespace

TestPeer::TestPeer(TestPeerOptions options)
    : options_(options), ack_(options.ack), welcome_positions_(options.welcome_positions) {
  listen_on(options_.port);
}

TestPeer::~TestPeer() { stop(); }

void TestPeer::listen_on(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0)
    throw std::runtime_error(std::string("test peer: cannot listen: ") + std::strerror(errno));
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  listen_fd_ = fd;
  accept_thread_ = std::thread([this] { accept_loop(); });
}

void TestPeer::accept_loop() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // listener closed
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(conn_mu_);
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->thread = std::thread([this, fd] { serve(fd); });
    conns_.push_back(std::move(c));
  }
}

void TestPeer::stop() {
  if (listen_fd_ >= 0) {
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  std::vector<std::unique_ptr<Conn>> conns;
  {
    std::lock_guard lock(conn_mu_);
    conns.swap(conns_);
  }
  for (auto& c : conns) ::shutdown(c->fd, SHUT_RDWR);
  for (auto& c : conns) {
    c->thread.join();
    ::close(c->fd);
  }
}

void TestPeer::restart() {
  stop();
  listen_on(port_);
}

void TestPeer::set_ack(bool ack) {
  std::lock_guard lock(mu_);
  ack_ = ack;
}

void TestPeer::set_welcome_positions(bool on) {
  std::lock_guard lock(mu_);
  welcome_positions_ = on;
}

void TestPeer::serve(int fd) {
  {
    std::lock_guard lock(mu_);
    ++stats_.connections;
  }
  bool said_hello = false;
  std::string payload;
  for (;;) {
    char hdr[kFrameHeaderBytes];
    if (!read_exact(fd, hdr, sizeof hdr)) return;
    auto h = parse_frame_header(std::string_view(hdr, sizeof hdr));
    if (!h) {
      send_frame(fd, FrameType::kError, encode_error({to_errc(h.error()), "bad frame header"}));
      return;
    }
    payload.resize(h->length);
    if (!read_exact(fd, payload.data(), payload.size())) return;
    if (auto ok = verify_frame_payload(*h, payload); !ok) {
      send_frame(fd, FrameType::kError, encode_error({Errc::kChecksumMismatch, "bad frame crc"}));
      return;
    }
    if (!said_hello) {
      auto hello = h->type == FrameType::kHello ? decode_hello(payload)
                                                : Result<Hello>(Err(Errc::kProtocolViolation));
      if (!hello) {
        send_frame(fd, FrameType::kError, encode_error({Errc::kProtocolViolation, "HELLO first"}));
        return;
      }
      Welcome w;
      {
        std::lock_guard lock(mu_);
        hello_ = *hello;
        ++stats_.hellos;
        if (welcome_positions_)
          for (const auto& [id, s] : streams_) w.streams.push_back({id, s.next_seq, s.head});
        cv_.notify_all();
      }
      if (!send_frame(fd, FrameType::kWelcome, encode_welcome(w))) return;
      said_hello = true;
      continue;
    }
    switch (h->type) {
      case FrameType::kBatch:
        if (!handle_batch(fd, payload)) return;
        break;
      case FrameType::kHeartbeat: {
        std::lock_guard lock(mu_);
        ++stats_.heartbeats;
        cv_.notify_all();
        break;
      }
      case FrameType::kGoodbye: {
        auto g = decode_goodbye(payload);
        {
          std::lock_guard lock(mu_);
          if (g) goodbye_ = *g;
          ++stats_.goodbyes;
          cv_.notify_all();
        }
        send_frame(fd, FrameType::kGoodbye, encode_goodbye({"bye", false}));
        ::shutdown(fd, SHUT_WR);
        return;
      }
      default:
        send_frame(fd, FrameType::kError, encode_error({Errc::kProtocolViolation, "unexpected"}));
        return;
    }
  }
}

bool TestPeer::handle_batch(int fd, std::string_view batch) {
  thread_local ZstdDecompressor zstd;
  thread_local std::string scratch;
  std::vector<std::pair<std::uint64_t, PeerRecord>> got;
  Result<BatchHeader> h = Err(Errc::kInternal);
  std::uint64_t raw = 0;
  if (options_.decode) {
    std::vector<Field> fields;
    h = decode_batch(batch, Limits{}, zstd, scratch, [&](const RecordView& r) {
      PeerRecord p;
      p.kind = r.kind;
      p.severity = r.severity;
      p.flags = r.flags;
      p.event_time_ns = r.event_time_ns;
      p.source.assign(r.source);
      p.line.assign(r.line);
      r.fields(fields);
      for (const auto& f : fields) p.fields.emplace_back(std::string(f.key), std::string(f.value));
      got.emplace_back(r.seq, std::move(p));
    });
    if (h) raw = h->raw_size;
  } else {
    h = parse_batch_header(batch);
  }
  if (!h) {
    {
      std::lock_guard lock(mu_);
      ++stats_.invalid_batches;
      cv_.notify_all();
    }
    send_frame(fd, FrameType::kError, encode_error({to_errc(h.error()), "invalid batch"}));
    return false;
  }
  bool ack;
  {
    std::lock_guard lock(mu_);
    ++stats_.batches;
    StreamStore& s = streams_[h->stream];
    auto it = s.batches.find(h->first_seq);
    if (it != s.batches.end()) {
      if (it->second.second == h->hash)
        ++stats_.duplicate_batches;
      else
        ++stats_.conflicting_batches;
    } else {
      auto next = s.batches.lower_bound(h->first_seq);
      bool overlap = (next != s.batches.end() && next->first < h->end_seq()) ||
                     (next != s.batches.begin() && std::prev(next)->second.first > h->first_seq);
      if (overlap) {
        ++stats_.overlapping_batches;
      } else {
        if (h->first_seq == s.next_seq && h->prev_hash != s.head) ++stats_.chain_breaks;
        s.batches[h->first_seq] = {h->end_seq(), h->hash};
        for (auto& [seq, rec] : got) {
          const bool log = h->stream == 1 && rec.kind == RecordKind::kLog;
          if (s.records.emplace(seq, std::move(rec)).second) {
            ++stats_.records;
            if (log) ++stats_.log_lines;
          }
        }
        if (!options_.decode) stats_.records += h->record_count;
        stats_.raw_bytes += raw;
        if (h->end_seq() >= s.next_seq) {
          s.next_seq = h->end_seq();
          s.head = h->hash;
        }
      }
    }
    ack = ack_;
    if (ack) stats_.acked_records += h->record_count;
    cv_.notify_all();
  }
  if (!ack) return true;
  Ack a;
  a.entries.push_back({h->stream, h->last_seq()});
  return send_frame(fd, FrameType::kAck, encode_ack(a));
}

PeerStats TestPeer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::map<std::uint64_t, PeerRecord> TestPeer::records(std::uint32_t stream) const {
  std::lock_guard lock(mu_);
  auto it = streams_.find(stream);
  return it == streams_.end() ? std::map<std::uint64_t, PeerRecord>{} : it->second.records;
}

std::size_t TestPeer::record_count(std::uint32_t stream) const {
  std::lock_guard lock(mu_);
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.records.size();
}

std::optional<Hello> TestPeer::last_hello() const {
  std::lock_guard lock(mu_);
  return hello_;
}

std::optional<Goodbye> TestPeer::last_goodbye() const {
  std::lock_guard lock(mu_);
  return goodbye_;
}

bool TestPeer::wait_until(const std::function<bool(const PeerStats&)>& pred,
                          std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return pred(stats_); });
}

}  // namespace blackbox::agent::testing
