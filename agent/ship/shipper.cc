#include "agent/ship/shipper.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "agent/ship/send_window.h"
#include "agent/ship/transport.h"
#include "schemas/backoff.h"
#include "schemas/batch.h"
#include "schemas/gap_body.h"
#include "schemas/host_port.h"
#include "schemas/key_auth.h"
#include "schemas/last_resort.h"

namespace blackbox::agent {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace net::experimental::awaitable_operators;
using boost::system::error_code;

namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

enum class Outcome { kFailed, kFinished };

const SystemClock kSystemClock;

std::chrono::nanoseconds ns(std::int64_t n) { return std::chrono::nanoseconds(n); }

std::int64_t to_ns(std::chrono::nanoseconds d) { return d.count(); }

}  // namespace

struct Shipper::Impl {
  Impl(ShipperOptions o, Spool& s, AgentMetrics& m, ShipperHooks h)
      : opt(std::move(o)),
        clock(opt.clock ? *opt.clock : kSystemClock),
        spool(s),
        metrics(m),
        hooks(std::move(h)),
        backoff(opt.backoff_min, opt.backoff_max, std::random_device{}()),
        window(SendWindowOptions{opt.window_batches, opt.window_bytes, to_ns(opt.ack_timeout)},
               clock) {}

  ShipperOptions opt;
  const Clock& clock;
  Spool& spool;
  AgentMetrics& metrics;
  ShipperHooks hooks;
  Backoff backoff;

  net::io_context io{1};
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(io);
  std::thread thread;
  net::steady_timer wake_timer{io};
  bool wake_pending = false;
  std::optional<Transport> socket;  // plain or TLS (transport.h)
  std::atomic<bool> is_connected{false};
  bool stopped = false;
  std::uint64_t sessions = 0;

  // Per session.
  SpoolCursor cursor;
  SendWindow window;

  // Last gasp (times on clock.steady_ns()).
  bool finishing = false;
  Goodbye goodbye;
  std::int64_t goodbye_at_ns = 0, deadline_ns = 0;
  bool goodbye_sent = false;
  bool finished = false;
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;

  // Connection failures repeat every backoff period while a collector is down: say it once,
  // then once a minute, and count every attempt in the metrics.
  std::uint64_t failures_in_row = 0;
  std::int64_t last_failure_log_ns = 0;
  template <class... Args>
  void connect_failed(spdlog::format_string_t<Args...> fmt, Args&&... args) {
    const std::int64_t now = clock.steady_ns();
    ++failures_in_row;
    const std::string line = fmt::format(fmt, std::forward<Args>(args)...);
    constexpr std::string_view kPrefix = "ship: ";
    last_problem = line.starts_with(kPrefix) ? line.substr(kPrefix.size()) : line;
    if (failures_in_row == 1 || now - last_failure_log_ns >= to_ns(std::chrono::minutes(1))) {
      spdlog::warn("{}", line);
      if (failures_in_row > 1)
        spdlog::warn("ship: {} failed attempts in a row; retrying with backoff (spool {} bytes)",
                     failures_in_row, spool.bytes());
      last_failure_log_ns = now;
    } else {
      spdlog::debug("{}", line);
    }
  }

  // The stall watchdog (ShipperOptions::stall_timeout): progress is an ACK that advances (or
  // nothing left to ship); without it for stall_timeout, one error line and a failing health
  // condition saying why, until progress resumes.
  std::int64_t last_progress_ns = 0;
  bool stalled = false;
  std::string last_problem;  // the latest failure to connect or refusal, for the stall report
  std::string current_addr;  // while connected
  net::steady_timer stall_timer{io};

  void progress() {
    last_progress_ns = clock.steady_ns();
    if (!stalled) return;
    stalled = false;
    spdlog::info("ship: progress again: the collector acknowledges; shipping_stalled cleared");
    metrics.health.clear("shipping_stalled");
  }

  std::string stall_cause() const {
    const auto waited_s = (clock.steady_ns() - last_progress_ns) / 1'000'000'000;
    if (is_connected)
      return fmt::format(
          "connected to {} but no ACK advancing for {} s ({} batches in flight); the collector "
          "does not acknowledge",
          current_addr, waited_s, window.in_flight());
    return fmt::format("not connected for {} s: {}", waited_s,
                       last_problem.empty() ? "no session yet" : last_problem);
  }

  void check_stall() {
    if (spool.all_acked()) {
      progress();
      return;
    }
    if (stalled || clock.steady_ns() - last_progress_ns < to_ns(opt.stall_timeout)) return;
    stalled = true;
    const std::string message = fmt::format(
        "shipping stalled: {} bytes spooled and unacknowledged, no progress for over {} ms: {}",
        spool.bytes(), opt.stall_timeout.count(), stall_cause());
    spdlog::error("ship: {}", message);
    metrics.health.set("shipping_stalled", Health::Level::kFailing, message, clock.wall_ns());
  }

  net::awaitable<void> stall_watch() {
    const auto period = std::clamp<std::chrono::milliseconds>(
        opt.stall_timeout / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
    last_progress_ns = clock.steady_ns();
    while (!stopped) {
      stall_timer.expires_after(period);
      auto [ec] = co_await stall_timer.async_wait(use_nothrow);
      if (ec || stopped) co_return;
      check_stall();
    }
  }

  void wake_now() {
    wake_pending = true;
    wake_timer.cancel();
  }

  void handle_ack(std::uint32_t stream, std::uint64_t highest_seq) {
    auto ack = window.on_ack(stream, highest_seq);
    if (!ack) return;
    if (ack->clamped)
      spdlog::warn(
          "ship: ACK for stream {} up to seq {} covers batches never sent (sent up to "
          "{}); trusting only what was sent",
          stream, highest_seq, ack->trusted_end);
    if (ack->trusted_end > spool.acked_end(stream)) progress();
    spool.ack(stream, ack->trusted_end);
    metrics.records_acked.fetch_add(ack->records, std::memory_order_relaxed);
    metrics.batches_acked.fetch_add(ack->batches, std::memory_order_relaxed);
    wake_now();
  }

  net::awaitable<std::tuple<error_code, FrameType>> read_frame(Transport& s,
                                                               std::string& payload) {
    char hdr[kFrameHeaderBytes];
    auto [ec, n] = co_await net::async_read(s, net::buffer(hdr), use_nothrow);
    if (ec) co_return std::tuple{ec, FrameType::kError};
    auto h = parse_frame_header(std::string_view(hdr, sizeof hdr), opt.limits);
    if (!h) co_return std::tuple{h.error(), FrameType::kError};
    payload.resize(h->length);
    auto [ec2, n2] = co_await net::async_read(s, net::buffer(payload), use_nothrow);
    if (ec2) co_return std::tuple{ec2, FrameType::kError};
    if (auto ok = verify_frame_payload(*h, payload); !ok)
      co_return std::tuple{ok.error(), FrameType::kError};
    co_return std::tuple{error_code{}, h->type};
  }

  net::awaitable<error_code> send(Transport& s, const std::string& frame) {
    auto [ec, n] = co_await net::async_write(s, net::buffer(frame), use_nothrow);
    co_return ec;
  }

  net::awaitable<void> writer(Transport& s) {
    std::string batch, frame;
    BatchHeader header;
    std::int64_t next_heartbeat = clock.steady_ns() + to_ns(opt.heartbeat_interval);
    for (;;) {
      const std::int64_t now = clock.steady_ns();
      if (finishing && !goodbye_sent && (spool.all_acked() || now >= goodbye_at_ns)) {
        frame.clear();
        append_frame(frame, FrameType::kGoodbye, encode_goodbye(goodbye));
        if (co_await send(s, frame)) co_return;
        goodbye_sent = true;
        spdlog::info("ship: GOODBYE sent ({}); {}", goodbye.reason,
                     spool.all_acked() ? "everything acknowledged" : "deadline reached");
      }
      if (!goodbye_sent && window.has_room()) {
        auto status = spool.read_next(cursor, batch, header);
        if (!status) {
          spdlog::error("ship: reading the spool failed: {}", status.error().message());
          co_return;
        }
        if (*status == ReadStatus::kCorruptSkipped) {
          metrics.gaps.fetch_add(1, std::memory_order_relaxed);
          if (hooks.on_gap)
            hooks.on_gap(encode_gap_body(GapBody(gap_reason::kSpoolUnreadable, "spool")));
          continue;
        }
        if (*status == ReadStatus::kBatch) {
          frame.clear();
          append_frame(frame, FrameType::kBatch, batch);
          if (window.on_sent(header, batch.size()))
            metrics.resends.fetch_add(1, std::memory_order_relaxed);
          metrics.batches_sent.fetch_add(1, std::memory_order_relaxed);
          metrics.bytes_sent.fetch_add(batch.size(), std::memory_order_relaxed);
          if (co_await send(s, frame)) co_return;
          continue;
        }
      }
      if (now >= next_heartbeat) {
        Heartbeat hb;
        hb.time_ns = clock.wall_ns();
        hb.spool_bytes = spool.bytes();
        hb.interval_ms = static_cast<std::uint64_t>(opt.heartbeat_interval.count());
        frame.clear();
        append_frame(frame, FrameType::kHeartbeat, encode_heartbeat(hb));
        if (co_await send(s, frame)) co_return;
        metrics.heartbeats_sent.fetch_add(1, std::memory_order_relaxed);
        next_heartbeat = now + to_ns(opt.heartbeat_interval);
        continue;
      }
      if (wake_pending) {
        wake_pending = false;
        continue;
      }
      std::int64_t until = next_heartbeat;
      if (finishing && !goodbye_sent) until = std::min(until, goodbye_at_ns);
      wake_timer.expires_after(ns(until - clock.steady_ns()));
      co_await wake_timer.async_wait(use_nothrow);
      wake_pending = false;
    }
  }

  net::awaitable<void> reader(Transport& s) {
    std::string payload;
    for (;;) {
      auto [ec, type] = co_await read_frame(s, payload);
      if (ec) {
        if (!stopped) spdlog::warn("ship: connection lost: {}", ec.message());
        co_return;
      }
      switch (type) {
        case FrameType::kAck: {
          auto ack = decode_ack(payload);
          if (!ack) {
            spdlog::error("ship: malformed ACK: {}", ack.error().message());
            co_return;
          }
          for (const auto& e : ack->entries) handle_ack(e.stream, e.highest_seq);
          break;
        }
        case FrameType::kGoodbye:
          if (goodbye_sent) {
            finished = true;
            spdlog::info("ship: collector answered GOODBYE");
          } else {
            spdlog::info("ship: collector said GOODBYE; reconnecting");
          }
          co_return;
        case FrameType::kError: {
          metrics.collector_errors.fetch_add(1, std::memory_order_relaxed);
          auto err = decode_error(payload);
          if (!err) {
            spdlog::error("ship: malformed ERROR frame from the collector");
            co_return;
          }
          spdlog::error("ship: collector error {} ({}): {}", static_cast<int>(err->code),
                        errc_name(err->code), err->message);
          last_problem = fmt::format("the collector rejected what was sent: {} ({}): {}",
                                     static_cast<int>(err->code), errc_name(err->code),
                                     err->message);
          if (SendWindow::is_batch_rejection(err->code)) note_rejection(err->code);
          co_return;
        }
        default:
          spdlog::error("ship: unexpected {} frame from the collector", frame_type_name(type));
          co_return;
      }
    }
  }

  // The oldest batch in flight is the likely culprit of a batch rejection; rejected twice in a
  // row it is given up (PROTOCOL.md §5): acknowledged locally and reported as a gap.
  void note_rejection(Errc code) {
    const auto dropped = window.on_rejection();
    if (!dropped) return;
    const InFlight& oldest = *dropped;
    spdlog::error("ship: stream {} batch [{}, {}) rejected twice ({}): dropped, recorded as a gap",
                  oldest.stream, oldest.first_seq, oldest.end_seq, errc_name(code));
    metrics.gaps.fetch_add(1, std::memory_order_relaxed);
    if (hooks.on_gap) {
      GapBody gap(gap_reason::kBatchRejected, "spool");
      gap.error = errc_name(code);
      gap.stream = oldest.stream;
      gap.first_seq = oldest.first_seq;
      gap.end_seq = oldest.end_seq;
      gap.records = oldest.records;
      hooks.on_gap(encode_gap_body(gap));
    }
    spool.ack(oldest.stream, oldest.end_seq);
  }

  net::awaitable<void> watchdog() {
    net::steady_timer t(io);
    const auto period =
        std::min<std::chrono::milliseconds>(opt.ack_timeout / 4, std::chrono::milliseconds(1000));
    for (;;) {
      t.expires_after(period);
      auto [ec] = co_await t.async_wait(use_nothrow);
      if (ec) co_return;
      if (window.ack_overdue()) {
        spdlog::warn("ship: no ACK for {} ms with {} batches in flight; reconnecting",
                     opt.ack_timeout.count(), window.in_flight());
        co_return;
      }
      if (finishing && clock.steady_ns() >= deadline_ns) co_return;
    }
  }

  // Resolves and connects to `addr` within connect_timeout; on success `socket` is open.
  net::awaitable<bool> connect(const std::string& addr) {
    auto hp = parse_host_port(addr);
    if (!hp) co_return false;
    const std::string host = hp->host, port = std::to_string(hp->port);
    net::steady_timer timer(io);
    tcp::resolver resolver(io);
    timer.expires_after(opt.connect_timeout);
    auto resolved =
        co_await (resolver.async_resolve(host, port, use_nothrow) || timer.async_wait(use_nothrow));
    if (resolved.index() != 0) {
      connect_failed("ship: resolving {} timed out", addr);
      co_return false;
    }
    auto [rec, endpoints] = std::get<0>(resolved);
    if (rec) {
      connect_failed("ship: cannot resolve {}: {}", addr, rec.message());
      co_return false;
    }
    socket.emplace(io);
    auto connected = co_await (net::async_connect(socket->socket(), endpoints, use_nothrow) ||
                               timer.async_wait(use_nothrow));
    if (connected.index() != 0 || std::get<0>(std::get<0>(connected))) {
      if (connected.index() != 0)
        connect_failed("ship: connecting to {} timed out", addr);
      else
        connect_failed("ship: cannot connect to {}: {}", addr,
                       std::get<0>(std::get<0>(connected)).message());
      socket.reset();
      co_return false;
    }
    error_code ignored;
    socket->socket().set_option(tcp::no_delay(true), ignored);
    socket->socket().set_option(net::socket_base::keep_alive(true), ignored);
    std::string why;
    if (opt.tls && !co_await socket->start_tls(*opt.tls, host, opt.handshake_timeout, why)) {
      connect_failed("ship: {}: {}", addr, why);
      socket.reset();
      co_return false;
    }
    co_return true;
  }

  // The PROOF frame answering a CHALLENGE payload, into `frame`; false (logged) if it does not
  // decode or this agent has no instance key.
  bool answer_challenge(const std::string& payload, std::string& frame) {
    auto challenge = decode_challenge(payload);
    if (!challenge || !opt.instance_key) {
      last_problem = !challenge ? "malformed CHALLENGE from the collector"
                                : "the collector sent a CHALLENGE but ship.auth is not \"key\"";
      spdlog::error("ship: {}", last_problem);
      return false;
    }
    const std::string* secret = opt.enrollment_secret ? &*opt.enrollment_secret : nullptr;
    frame.clear();
    append_frame(frame, FrameType::kProof,
                 encode_proof(make_proof(*opt.instance_key, challenge->nonce, opt.hello.instance_id,
                                         secret)));
    return true;
  }

  // HELLO → WELCOME within handshake_timeout. nullopt: refused or failed (logged).
  net::awaitable<std::optional<Welcome>> handshake(Transport& s, const std::string& addr) {
    std::string frame, payload;
    append_frame(frame, FrameType::kHello, encode_hello(opt.hello));
    if (auto ec = co_await send(s, frame)) {
      spdlog::warn("ship: sending HELLO to {} failed: {}", addr, ec.message());
      co_return std::nullopt;
    }
    net::steady_timer timer(io);
    timer.expires_after(opt.handshake_timeout);
    auto answer = co_await (read_frame(s, payload) || timer.async_wait(use_nothrow));
    // Key auth (PROTOCOL.md §5.1): CHALLENGE → PROOF, then the answer to the PROOF.
    if (answer.index() == 0 && !std::get<0>(std::get<0>(answer)) &&
        std::get<1>(std::get<0>(answer)) == FrameType::kChallenge) {
      if (!answer_challenge(payload, frame)) co_return std::nullopt;
      if (auto ec = co_await send(s, frame)) {
        spdlog::warn("ship: sending PROOF to {} failed: {}", addr, ec.message());
        co_return std::nullopt;
      }
      answer = co_await (read_frame(s, payload) || timer.async_wait(use_nothrow));
    }
    if (answer.index() != 0) {
      last_problem = fmt::format("no WELCOME from {} within {} ms", addr,
                                 opt.handshake_timeout.count());
      spdlog::warn("ship: {}", last_problem);
      co_return std::nullopt;
    }
    auto [aec, type] = std::get<0>(answer);
    if (aec || type != FrameType::kWelcome) {
      if (!aec && type == FrameType::kError) {
        metrics.collector_errors.fetch_add(1, std::memory_order_relaxed);
        if (auto err = decode_error(payload)) {
          spdlog::error("ship: {} refused HELLO: {} ({}): {}", addr, static_cast<int>(err->code),
                        errc_name(err->code), err->message);
          last_problem = fmt::format("{} refused HELLO: {} ({}): {}", addr,
                                     static_cast<int>(err->code), errc_name(err->code),
                                     err->message);
        }
      } else {
        last_problem = fmt::format(
            "handshake with {} failed: {}", addr,
            aec ? aec.message() : std::string("unexpected ") + frame_type_name(type));
        spdlog::warn("ship: {}", last_problem);
      }
      co_return std::nullopt;
    }
    auto welcome = decode_welcome(payload);
    if (!welcome) {
      spdlog::error("ship: malformed WELCOME from {}", addr);
      co_return std::nullopt;
    }
    co_return std::move(*welcome);
  }

  net::awaitable<Outcome> session(const std::string& addr) {
    if (!co_await connect(addr)) co_return Outcome::kFailed;
    Transport& s = *socket;
    auto welcome = co_await handshake(s, addr);
    if (!welcome) {
      socket.reset();
      co_return Outcome::kFailed;
    }
    for (const auto& pos : welcome->streams) {
      if (pos.next_seq > spool.acked_end(pos.stream)) progress();  // the collector has more
      if (pos.next_seq > 0) spool.ack(pos.stream, pos.next_seq);
      if (hooks.on_collector_position) hooks.on_collector_position(pos);
    }
    metrics.connects.fetch_add(1, std::memory_order_relaxed);
    if (sessions++ > 0) metrics.reconnects.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("ship: connected to {}{}", addr,
                 failures_in_row ? " after " + std::to_string(failures_in_row) + " failed attempts"
                                 : std::string());
    failures_in_row = 0;
    backoff.reset();
    is_connected = true;
    current_addr = addr;
    cursor = spool.begin();
    window.start_session();
    goodbye_sent = false;
    wake_pending = true;

    co_await (writer(s) || reader(s) || watchdog());

    is_connected = false;
    error_code ignored;
    socket->close(ignored);
    socket.reset();
    co_return finished ? Outcome::kFinished : Outcome::kFailed;
  }

  net::awaitable<void> run() {
    std::size_t index = 0;
    while (!stopped && !finished) {
      const std::string& addr = opt.collectors[index % opt.collectors.size()];
      auto outcome = co_await session(addr);
      if (outcome == Outcome::kFinished || stopped) break;
      metrics.connect_failures.fetch_add(1, std::memory_order_relaxed);
      ++index;
      auto delay = backoff.next();
      if (finishing) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            ns(deadline_ns - clock.steady_ns()));
        if (left.count() <= 0) break;
        delay = std::min(delay, left);
      }
      wake_timer.expires_after(delay);
      co_await wake_timer.async_wait(use_nothrow);
      wake_pending = false;
    }
    std::lock_guard lock(done_mu);
    done = true;
    done_cv.notify_all();
  }
};

Shipper::Shipper(ShipperOptions options, Spool& spool, AgentMetrics& metrics, ShipperHooks hooks)
    : impl_(std::make_unique<Impl>(std::move(options), spool, metrics, std::move(hooks))) {}

Shipper::~Shipper() { stop(); }

void Shipper::start() {
  Impl* impl = impl_.get();
  auto* escaped = &impl->metrics.registry.counter("blackbox_agent_escaped_exceptions_total",
                                                  "Exceptions caught by a coroutine's LastResort");
  net::co_spawn(impl->io, impl->run(), LastResort("ship: network", escaped, [impl] {
                  std::lock_guard lock(impl->done_mu);
                  impl->done = true;
                  impl->done_cv.notify_all();
                }));
  net::co_spawn(impl->io, impl->stall_watch(), LastResort("ship: stall watchdog", escaped));
  impl->thread = std::thread([impl] { impl->io.run(); });
}

void Shipper::wake() {
  Impl* impl = impl_.get();
  net::post(impl->io, [impl] { impl->wake_now(); });
}

bool Shipper::connected() const { return impl_->is_connected.load(); }

bool Shipper::finish(Goodbye goodbye, TimePoint goodbye_at, TimePoint deadline) {
  Impl* impl = impl_.get();
  net::post(impl->io, [impl, goodbye = std::move(goodbye), goodbye_at, deadline]() mutable {
    impl->finishing = true;
    impl->goodbye = std::move(goodbye);
    impl->goodbye_at_ns = to_ns(goodbye_at.time_since_epoch());
    impl->deadline_ns = to_ns(deadline.time_since_epoch());
    impl->backoff.reset();
    impl->wake_now();
  });
  bool ok;
  {
    std::unique_lock lock(impl->done_mu);
    impl->done_cv.wait_until(lock, deadline, [&] { return impl->done; });
  }
  std::promise<bool> result;
  auto fut = result.get_future();
  net::post(impl->io,
            [impl, &result] { result.set_value(impl->finished && impl->spool.all_acked()); });
  ok = fut.wait_for(std::chrono::seconds(2)) == std::future_status::ready && fut.get();
  stop();
  return ok;
}

void Shipper::stop() {
  Impl* impl = impl_.get();
  if (!impl->thread.joinable()) return;
  net::post(impl->io, [impl] {
    impl->stopped = true;
    error_code ignored;
    if (impl->socket) impl->socket->close(ignored);
    impl->wake_timer.cancel();
    impl->stall_timer.cancel();
  });
  {
    std::unique_lock lock(impl->done_mu);
    impl->done_cv.wait_for(lock, std::chrono::seconds(2), [&] { return impl->done; });
  }
  impl->io.stop();
  impl->thread.join();
}

}  // namespace blackbox::agent
