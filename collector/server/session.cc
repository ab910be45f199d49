#include "collector/server/session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "collector/server/auth.h"
#include "schemas/last_resort.h"

namespace blackbox::collector {

namespace net = boost::asio;
using net::awaitable;

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

std::string error_frame(Errc code, const std::string& message) {
  std::string out;
  append_frame(out, FrameType::kError, encode_error(ErrorFrame{code, message}));
  return out;
}

}  // namespace

Session::Session(net::ip::tcp::socket socket, Strand strand, std::shared_ptr<SessionContext> ctx)
    : socket_(std::move(socket)),
      strand_(std::move(strand)),
      ctx_(std::move(ctx)),
      send_wake_(strand_),
      read_wake_(strand_),
      watchdog_timer_(strand_),
      id_(ctx_->next_connection_id.fetch_add(1)),
      budget_(ctx_->options.max_connection_inflight_bytes, &ctx_->budget) {
  send_wake_.expires_at(Clock::time_point::max());
  read_wake_.expires_at(Clock::time_point::max());
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  ctx_->connections.fetch_add(1);
  ctx_->accepted->fetch_add(1, std::memory_order_relaxed);
}

Session::~Session() {
  if (!claimed_instance_.empty()) ctx_->writers.release(claimed_instance_, id_);
  ctx_->connections.fetch_sub(1);
  ctx_->closed->fetch_add(1, std::memory_order_relaxed);
  ctx_->remove(this);
}

void Session::start() {
  auto self = shared_from_this();
  net::co_spawn(
      strand_, [self] { return self->reader(); }, LastResort("server: reader", ctx_->escaped));
  net::co_spawn(
      strand_, [self] { return self->sender(); }, LastResort("server: sender", ctx_->escaped));
  net::co_spawn(
      strand_, [self] { return self->watchdog(); }, LastResort("server: watchdog", ctx_->escaped));
}

void Session::drain() {
  net::post(strand_, [self = shared_from_this()] {
    if (self->closed_ || self->closing_) return;
    self->closing_ = true;
    self->final_frame_ = error_frame(Errc::kUnavailable, "collector shutting down; reconnect");
    self->set_write_deadline(Clock::now() + self->ctx_->options.drain_timeout);
    // The reader sees EOF; anything half-received is dropped (never acknowledged, so resent).
    boost::system::error_code ec;
    self->socket_.shutdown(net::ip::tcp::socket::shutdown_receive, ec);
    self->wake_reader();
    self->wake_sender();
  });
}

// ---- reader --------------------------------------------------------------------------------

// GCC 12 miscompiles some objects with short strings kept in a coroutine frame across a
// co_await (they get relocated bitwise), so protocol objects (Hello, Goodbye, requests) never
// live in the coroutine: plain member functions decode and submit them, the coroutine waits.
awaitable<void> Session::reader() {
  const auto& opt = ctx_->options;
  FrameHeader fh;
  std::string payload;

  if (!co_await socket_.accept(opt.tls.get(), opt.identity, peer_, opt.hello_timeout)) {
    ctx_->count_reject("tls");  // plaintext on the TLS port (or the reverse), bad handshake
    close_socket();
    co_return;
  }
  set_read_deadline(Clock::now() + opt.hello_timeout);
  if (co_await read_frame(fh, payload, opt.max_hello_frame_bytes)) {
    bool submitted = start_hello(fh.type, payload);
    frame_lease_.reset();
    if (submitted && key_hello_) submitted = co_await key_auth();  // session_key_auth.cc
    if (submitted) {
      co_await await_answer();
      finish_hello();
    }
  }

  while (welcomed_ && !closing_ && !closed_) {
    set_read_deadline(Clock::now() + opt.idle_timeout);
    if (!co_await read_frame(fh, payload, opt.limits.max_frame_bytes)) break;
    if (fh.type == FrameType::kBatch) {
      co_await index_batch(payload);  // its lease goes back when the writer is done with it
      payload = std::string();
      continue;
    }
    const bool wait = handle_control(fh.type, payload);
    frame_lease_.reset();
    if (wait) {
      co_await await_answer();
      finish_goodbye();
    }
  }
  frame_lease_.reset();
  reading_done_ = true;
  set_read_deadline(Clock::time_point::max());
  wake_sender();
}

awaitable<void> Session::await_answer() {
  for (int i = 0; !outcome_ && !indexed_ && !closed_ && i < 1'000'000; ++i)
    co_await read_wake_.async_wait(kTuple);
}

void Session::submit_awaited(WriteRequest&& request) {
  outcome_.reset();
  ctx_->writer.submit(std::move(request), [self = shared_from_this()](WriteOutcome&& o) {
    net::post(self->strand_, [self, o = std::move(o)]() mutable {
      self->outcome_ = std::move(o);
      self->wake_reader();
    });
  });
}

bool Session::start_hello(FrameType type, std::string_view payload) {
  if (type != FrameType::kHello) {
    fail(Errc::kProtocolViolation,
         std::string("the first frame must be HELLO, not ") + frame_type_name(type));
    return false;
  }
  auto h = decode_hello(payload);
  if (!h) {
    fail(Errc::kMalformedFrame, "HELLO payload does not decode");
    return false;
  }
  if (h->protocol_version < kProtocolVersion || h->protocol_version > kHelloVersionKeyAuth) {
    fail(Errc::kUnsupportedVersion, "protocol version " + std::to_string(h->protocol_version) +
                                        " not supported (want " + std::to_string(kProtocolVersion) +
                                        " or " + std::to_string(kHelloVersionKeyAuth) + ")");
    return false;
  }
  if (!valid_instance_id(h->instance_id)) {
    fail(Errc::kMalformedFrame, "instance_id must be 1..256 printable ASCII bytes, no spaces");
    return false;
  }
  if (auto why = socket_.check_identity(h->instance_id); !why.empty()) {  // mTLS
    fail(Errc::kIdentityMismatch, std::move(why), "identity_mismatch");
    return false;
  }
  if (h->auth == "key") return start_key_auth(std::move(*h));  // session_key_auth.cc
  const auto& secret = ctx_->options.auth_secret;
  if (!secret.empty() && !token_valid(secret, h->instance_id, h->token)) {
    fail(Errc::kUnauthorized, "bad or missing token for instance " + h->instance_id);
    return false;
  }
  if (secret.empty() && !token_mode_allowed(*h)) return false;
  if (!claim_instance(*h)) return false;
  pending_instance_ = h->instance_id;
  submit_awaited(HelloRequest{std::move(*h)});
  return true;
}

bool Session::claim_instance(const Hello& h) {
  WriterRegistry::Claimant c;
  c.connection = id_;
  c.identity = WriterIdentity{h.boot_id, h.hostname, h.agent_version, peer_};
  c.frames = frames_seen_;
  c.evict = [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    net::post(self->strand_, [self] {
      self->fail(Errc::kUnavailable,
                 "replaced by a newer connection of the same instance, boot and host; "
                 "this one is closed",
                 "replaced");
    });
  };
  std::string refusal = ctx_->writers.claim(h.instance_id, std::move(c));
  if (!refusal.empty()) {
    spdlog::error("server: {}: HELLO refused: {}", peer_, refusal);
    fail(Errc::kIdentityMismatch, std::move(refusal), "instance_in_use");
    return false;
  }
  claimed_instance_ = h.instance_id;
  return true;
}

void Session::finish_hello() {
  if (!outcome_) return;  // closed meanwhile
  WriteOutcome out = std::move(*outcome_);
  outcome_.reset();
  if (out.ec) {
    fail(to_errc(out.ec), out.message);
    return;
  }
  instance_ = std::move(pending_instance_);
  welcomed_ = true;
  for (const auto& p : out.welcome)
    if (p.next_seq > 0) acked_[p.stream] = p.next_seq - 1;
  queue_frame(FrameType::kWelcome, encode_welcome(Welcome{std::move(out.welcome)}));
  spdlog::debug("server: {}: HELLO from instance {}", peer_, instance_);
}

bool Session::handle_control(FrameType type, std::string_view payload) {
  const auto& opt = ctx_->options;
  switch (type) {
    case FrameType::kHeartbeat: {
      auto hb = decode_heartbeat(payload);
      if (!hb) {
        fail(Errc::kMalformedFrame, "HEARTBEAT payload does not decode");
        return false;
      }
      ctx_->writer.submit(
          HeartbeatRequest{instance_, *hb}, [self = shared_from_this()](WriteOutcome&& o) {
            if (!o.ec) return;
            net::post(self->strand_,
                      [self, o = std::move(o)] { self->fail(to_errc(o.ec), o.message); });
          });
      return false;
    }
    case FrameType::kGoodbye: {
      auto bye = decode_goodbye(payload);
      if (!bye) {
        fail(Errc::kMalformedFrame, "GOODBYE payload does not decode");
        return false;
      }
      submit_awaited(GoodbyeRequest{instance_, std::move(*bye)});
      return true;
    }
    case FrameType::kError: {
      auto err = decode_error(payload);
      spdlog::warn("server: {} (instance {}): agent sent ERROR {}: {}", peer_, instance_,
                   err ? errc_name(err->code) : "?", err ? err->message : "undecodable");
      closing_ = true;
      set_write_deadline(Clock::now() + opt.write_timeout);
      wake_sender();
      return false;
    }
    default:
      fail(Errc::kProtocolViolation,
           std::string("unexpected ") + frame_type_name(type) + " frame from an agent");
      return false;
  }
}

void Session::finish_goodbye() {
  if (!outcome_) return;
  WriteOutcome out = std::move(*outcome_);
  outcome_.reset();
  if (out.ec) {
    fail(to_errc(out.ec), out.message);
  } else if (!closing_) {
    closing_ = true;
    final_frame_.clear();
    append_frame(final_frame_, FrameType::kGoodbye, encode_goodbye(Goodbye{"bye", false}));
    set_write_deadline(Clock::now() + ctx_->options.write_timeout);
    wake_sender();
  }
}

awaitable<bool> Session::read_frame(FrameHeader& header, std::string& payload,
                                    std::uint32_t max_length) {
  const auto& opt = ctx_->options;
  char hdr[kFrameHeaderBytes];
  // The first byte may take up to the idle (or hello) deadline the caller set; the rest of the
  // frame must follow within frame_timeout.
  auto [ec, n] = co_await socket_.async_read_some(net::buffer(hdr, sizeof hdr), kTuple);
  if (ec || closed_) co_return false;  // peer gone, shut down, or timed out (already failed)
  set_read_deadline(std::min(read_deadline_, Clock::now() + opt.frame_timeout));
  if (n < sizeof hdr) {
    auto [ec2, n2] =
        co_await net::async_read(socket_, net::buffer(hdr + n, sizeof hdr - n), kTuple);
    if (ec2 || closed_) co_return false;
  }
  ctx_->bytes_received->fetch_add(sizeof hdr, std::memory_order_relaxed);
  Limits limits = opt.limits;
  limits.max_frame_bytes = max_length;
  auto h = parse_frame_header(std::string_view(hdr, sizeof hdr), limits);
  if (!h) {
    const Errc code = to_errc(h.error());
    fail(code, std::string("bad frame header: ") + errc_name(code) +
                   (code == Errc::kFrameTooLarge
                        ? " (frame length over " + std::to_string(max_length) + " bytes)"
                        : ""));
    co_return false;
  }
  // Memory first (backpressure: while waiting nothing is read), then the payload.
  const auto deadline = read_deadline_;
  set_read_deadline(Clock::time_point::max());
  if (!co_await await_budget(h->length)) co_return false;
  set_read_deadline(std::max(deadline, Clock::now() + opt.frame_timeout));
  payload.resize(h->length);
  auto [ec3, n3] = co_await net::async_read(socket_, net::buffer(payload), kTuple);
  set_read_deadline(Clock::time_point::max());
  if (ec3 || closed_) {
    frame_lease_.reset();
    co_return false;
  }
  ctx_->bytes_received->fetch_add(n3, std::memory_order_relaxed);
  ctx_->frames->fetch_add(1, std::memory_order_relaxed);
  frames_seen_->fetch_add(1, std::memory_order_relaxed);
  if (auto ok = verify_frame_payload(*h, payload); !ok) {
    frame_lease_.reset();
    fail(to_errc(ok.error()), "frame checksum mismatch");
    co_return false;
  }
  header = *h;
  co_return true;
}

awaitable<bool> Session::await_budget(std::size_t n) {
  bool counted = false;
  for (;;) {
    if (closed_ || closing_) co_return false;
    if (lease_frame(n)) co_return true;
    if (!counted) {
      ctx_->backpressure_waits->fetch_add(1, std::memory_order_relaxed);
      counted = true;
    }
    co_await read_wake_.async_wait(kTuple);
  }
}

bool Session::lease_frame(std::size_t n) {
  frame_lease_ = budget_.try_lease(n, reader_waker());
  return frame_lease_.has_value();
}

std::function<void()> Session::reader_waker() {
  return [weak = weak_from_this()] {
    if (auto self = weak.lock()) net::post(self->strand_, [self] { self->wake_reader(); });
  };
}

awaitable<void> Session::index_batch(std::string& payload) {
  bool counted = false;
  for (int i = 0; !submit_index(payload); ++i) {  // the pool's queue is full
    if (closed_ || i >= 1'000'000) co_return;
    if (!counted) {
      ctx_->backpressure_waits->fetch_add(1, std::memory_order_relaxed);
      counted = true;
    }
    co_await read_wake_.async_wait(kTuple);
  }
  co_await await_answer();
  finish_batch();
}

bool Session::submit_index(std::string& payload) {
  const std::uint64_t id = next_batch_id_;
  auto done = [self = shared_from_this(), id](Result<void> verdict, IndexedBatch&& batch) {
    net::post(self->strand_, [self, id, verdict, batch = std::move(batch)]() mutable {
      self->indexed_ = Indexed{id, verdict, std::move(batch)};
      self->wake_reader();
    });
  };
  if (!ctx_->index_pool.try_submit(instance_, payload, std::move(done), reader_waker()))
    return false;
  ++next_batch_id_;
  ++inflight_batches_;  // the sender's last frame waits for it from now on
  batch_leases_.emplace(id, std::move(*frame_lease_));
  frame_lease_.reset();
  return true;
}

void Session::finish_batch() {
  if (!indexed_) return;  // closed meanwhile: the lease goes with the session
  Indexed done = std::move(*indexed_);
  indexed_.reset();
  if (!done.verdict) {
    batch_leases_.erase(done.id);
    --inflight_batches_;
    const Errc code = to_errc(done.verdict.error());
    fail(code, std::string("batch rejected: ") + errc_name(code));
    wake_sender();
    return;
  }
  BatchRequest req;
  req.instance = instance_;
  req.batch = std::move(done.batch);
  req.connection_failed = connection_failed_;
  ctx_->writer.submit(std::move(req), [self = shared_from_this(), id = done.id](WriteOutcome&& o) {
    net::post(self->strand_,
              [self, id, o = std::move(o)]() mutable { self->on_batch_done(id, std::move(o)); });
  });
}

void Session::on_batch_done(std::uint64_t id, WriteOutcome&& out) {
  batch_leases_.erase(id);
  --inflight_batches_;
  if (out.ec) {
    fail(to_errc(out.ec), out.message);
  } else if (out.ack) {
    auto& a = acked_[out.ack->stream];
    if (out.ack->highest_seq > a || !ack_due_.count(out.ack->stream)) {
      a = std::max(a, out.ack->highest_seq);
      ack_due_[out.ack->stream] = a;
    }
  }
  wake_sender();
  wake_reader();
}

// ---- sender, watchdog ----------------------------------------------------------------------

awaitable<void> Session::sender() {
  auto self = shared_from_this();
  std::string buf;
  for (;;) {
    if (closed_) break;
    buf.clear();
    while (!out_frames_.empty()) {
      buf += out_frames_.front();
      out_frames_.pop_front();
    }
    if (!ack_due_.empty()) {
      Ack ack;
      for (const auto& [stream, seq] : ack_due_) ack.entries.push_back(AckEntry{stream, seq});
      ack_due_.clear();
      append_frame(buf, FrameType::kAck, encode_ack(ack));
    }
    // The end: after a failure, GOODBYE or drain once every in-flight batch is answered; or
    // after the peer closed its side with nothing left to answer.
    const bool last = inflight_batches_ == 0 && (closing_ || reading_done_);
    if (last) buf += final_frame_;
    if (buf.empty() && !last) {
      co_await send_wake_.async_wait(kTuple);
      continue;
    }
    if (!buf.empty()) {
      if (!closing_) set_write_deadline(Clock::now() + ctx_->options.write_timeout);
      auto [ec, n] = co_await net::async_write(socket_, net::buffer(buf), kTuple);
      if (!closing_) set_write_deadline(Clock::time_point::max());
      if (ec) break;
    }
    if (last) {
      boost::system::error_code ec;
      socket_.shutdown(net::ip::tcp::socket::shutdown_send, ec);
      break;
    }
  }
  close_socket();
}

awaitable<void> Session::watchdog() {
  auto self = shared_from_this();
  while (!closed_) {
    watchdog_timer_.expires_at(std::min(read_deadline_, write_deadline_));
    co_await watchdog_timer_.async_wait(kTuple);
    if (closed_) break;
    const auto now = Clock::now();
    if (now >= write_deadline_) {
      ctx_->timeouts->fetch_add(1, std::memory_order_relaxed);
      spdlog::info("server: {} (instance {}): write/close deadline passed; closing", peer_,
                   instance_);
      close_socket();
      break;
    }
    if (now >= read_deadline_) {
      ctx_->timeouts->fetch_add(1, std::memory_order_relaxed);
      read_deadline_ = Clock::time_point::max();
      fail(Errc::kTimeout, welcomed_ ? "no complete frame within the read deadline"
                                     : "no HELLO within the deadline");
      // The reader may be blocked in a read: it ends when the sender closes the socket.
    }
  }
}

// ---- helpers -------------------------------------------------------------------------------

void Session::fail(Errc code, std::string message, std::string_view reason) {
  if (closing_ || closed_) return;
  ctx_->count_reject(reason.empty() ? std::string_view(errc_name(code)) : reason);
  spdlog::info("server: {} (instance {}): {}: {}", peer_, instance_.empty() ? "-" : instance_,
               errc_name(code), message);
  closing_ = true;
  final_frame_ = error_frame(code, message);
  set_write_deadline(Clock::now() + ctx_->options.write_timeout);
  wake_sender();
  wake_reader();
}

void Session::queue_frame(FrameType type, std::string payload) {
  std::string f;
  append_frame(f, type, payload);
  out_frames_.push_back(std::move(f));
  wake_sender();
}

void Session::wake_sender() { send_wake_.cancel(); }
void Session::wake_reader() { read_wake_.cancel(); }

void Session::set_read_deadline(Clock::time_point t) {
  read_deadline_ = t;
  if (t < watchdog_timer_.expiry()) watchdog_timer_.cancel();
}

void Session::set_write_deadline(Clock::time_point t) {
  write_deadline_ = t;
  if (t < watchdog_timer_.expiry()) watchdog_timer_.cancel();
}

void Session::close_socket() {
  if (closed_) return;
  closed_ = true;
  if (!claimed_instance_.empty()) ctx_->writers.release(claimed_instance_, id_);
  boost::system::error_code ec;
  socket_.close(ec);
  send_wake_.cancel();
  read_wake_.cancel();
  watchdog_timer_.cancel();
}

}  // namespace blackbox::collector
