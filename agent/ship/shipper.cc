#include "agent/ship/shipper.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "schemas/backoff.h"
#include "schemas/batch.h"
#include "schemas/host_port.h"

namespace blackbox::agent {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace net::experimental::awaitable_operators;
using boost::system::error_code;

namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

struct InFlight {
  std::uint32_t stream;
  std::uint64_t first_seq;
  std::uint64_t end_seq;
  std::uint32_t records;
  std::uint64_t bytes;
};

enum class Outcome { kFailed, kFinished };

// A batch-level rejection: the bytes of one batch are bad; resending them cannot help.
bool batch_rejection(Errc e) {
  switch (e) {
    case Errc::kUnauthorized:
    case Errc::kIdentityMismatch:
    case Errc::kProtocolViolation:
      return false;
    default:
      return classify(e) == ErrorClass::kRejected;
  }
}

}  // namespace

struct Shipper::Impl {
  Impl(ShipperOptions o, Spool& s, AgentMetrics& m, ShipperHooks h)
      : opt(std::move(o)),
        spool(s),
        metrics(m),
        hooks(std::move(h)),
        backoff(opt.backoff_min, opt.backoff_max, std::random_device{}()) {}

  ShipperOptions opt;
  Spool& spool;
  AgentMetrics& metrics;
  ShipperHooks hooks;
  Backoff backoff;

  net::io_context io{1};
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(io);
  std::thread thread;
  net::steady_timer wake_timer{io};
  bool wake_pending = false;
  std::optional<tcp::socket> socket;
  std::atomic<bool> is_connected{false};
  bool stopped = false;
  std::uint64_t sessions = 0;

  // Per session.
  SpoolCursor cursor;
  std::deque<InFlight> in_flight;
  std::uint64_t in_flight_bytes = 0;
  std::chrono::steady_clock::time_point last_progress;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> max_sent_end;
  // A batch the collector rejected, and how many times in a row.
  std::optional<InFlight> suspect;
  int suspect_rejections = 0;

  // Last gasp.
  bool finishing = false;
  Goodbye goodbye;
  std::chrono::steady_clock::time_point goodbye_at, deadline;
  bool goodbye_sent = false;
  bool finished = false;
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;

  // Connection failures repeat every backoff period while a collector is down: say it once,
  // then once a minute, and count every attempt in the metrics.
  std::uint64_t failures_in_row = 0;
  std::chrono::steady_clock::time_point last_failure_log{};
  template <class... Args>
  void connect_failed(spdlog::format_string_t<Args...> fmt, Args&&... args) {
    const auto now = std::chrono::steady_clock::now();
    ++failures_in_row;
    if (failures_in_row == 1 || now - last_failure_log >= std::chrono::minutes(1)) {
      spdlog::warn(fmt, std::forward<Args>(args)...);
      if (failures_in_row > 1)
        spdlog::warn("ship: {} failed attempts in a row; retrying with backoff (spool {} bytes)",
                     failures_in_row, spool.bytes());
      last_failure_log = now;
    } else {
      spdlog::debug(fmt, std::forward<Args>(args)...);
    }
  }

  void wake_now() {
    wake_pending = true;
    wake_timer.cancel();
  }

  // Highest end sent per stream in this session: an ACK can never cover more (a confused
  // collector must not make us delete what it never received).
  std::vector<std::pair<std::uint32_t, std::uint64_t>> session_sent_end;

  std::uint64_t sent_end(std::uint32_t stream) const {
    for (const auto& [s, e] : session_sent_end)
      if (s == stream) return e;
    return 0;
  }

  void record_sent(const BatchHeader& h) {
    bool found = false;
    for (auto& [s, e] : session_sent_end) {
      if (s == h.stream) {
        e = std::max(e, h.end_seq());
        found = true;
      }
    }
    if (!found) session_sent_end.emplace_back(h.stream, h.end_seq());
    for (auto& [s, e] : max_sent_end) {
      if (s == h.stream) {
        if (h.end_seq() <= e) metrics.resends.fetch_add(1, std::memory_order_relaxed);
        e = std::max(e, h.end_seq());
        return;
      }
    }
    max_sent_end.emplace_back(h.stream, h.end_seq());
  }

  void handle_ack(std::uint32_t stream, std::uint64_t highest_seq) {
    if (highest_seq == UINT64_MAX) return;
    std::uint64_t end = highest_seq + 1;
    if (end > sent_end(stream)) {
      spdlog::warn(
          "ship: ACK for stream {} up to seq {} covers batches never sent (sent up to "
          "{}); trusting only what was sent",
          stream, highest_seq, sent_end(stream));
      end = sent_end(stream);
    }
    spool.ack(stream, end);
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      if (it->stream == stream && it->end_seq <= end) {
        metrics.records_acked.fetch_add(it->records, std::memory_order_relaxed);
        metrics.batches_acked.fetch_add(1, std::memory_order_relaxed);
        in_flight_bytes -= it->bytes;
        it = in_flight.erase(it);
      } else {
        ++it;
      }
    }
    last_progress = std::chrono::steady_clock::now();
    if (suspect && suspect->stream == stream && suspect->end_seq <= end) suspect.reset();
    wake_now();
  }

  net::awaitable<std::tuple<error_code, FrameType>> read_frame(tcp::socket& s,
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

  net::awaitable<error_code> send(tcp::socket& s, const std::string& frame) {
    auto [ec, n] = co_await net::async_write(s, net::buffer(frame), use_nothrow);
    co_return ec;
  }

  net::awaitable<void> writer(tcp::socket& s) {
    std::string batch, frame;
    BatchHeader header;
    auto next_heartbeat = std::chrono::steady_clock::now() + opt.heartbeat_interval;
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      if (finishing && !goodbye_sent && (spool.all_acked() || now >= goodbye_at)) {
        frame.clear();
        append_frame(frame, FrameType::kGoodbye, encode_goodbye(goodbye));
        if (co_await send(s, frame)) co_return;
        goodbye_sent = true;
        spdlog::info("ship: GOODBYE sent ({}); {}", goodbye.reason,
                     spool.all_acked() ? "everything acknowledged" : "deadline reached");
      }
      if (!goodbye_sent && in_flight.size() < opt.window_batches &&
          in_flight_bytes < opt.window_bytes) {
        auto status = spool.read_next(cursor, batch, header);
        if (!status) {
          spdlog::error("ship: reading the spool failed: {}", status.error().message());
          co_return;
        }
        if (*status == ReadStatus::kCorruptSkipped) {
          metrics.gaps.fetch_add(1, std::memory_order_relaxed);
          if (hooks.on_gap)
            hooks.on_gap(nlohmann::json{
                {"reason", "spool entry unreadable when shipped"},
                {"source",
                 "spool"}}.dump());
          continue;
        }
        if (*status == ReadStatus::kBatch) {
          frame.clear();
          append_frame(frame, FrameType::kBatch, batch);
          if (in_flight.empty()) last_progress = now;
          in_flight.push_back(InFlight{header.stream, header.first_seq, header.end_seq(),
                                       header.record_count, batch.size()});
          in_flight_bytes += batch.size();
          record_sent(header);
          metrics.batches_sent.fetch_add(1, std::memory_order_relaxed);
          metrics.bytes_sent.fetch_add(batch.size(), std::memory_order_relaxed);
          if (co_await send(s, frame)) co_return;
          continue;
        }
      }
      if (now >= next_heartbeat) {
        Heartbeat hb;
        hb.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
        hb.spool_bytes = spool.bytes();
        hb.interval_ms = static_cast<std::uint64_t>(opt.heartbeat_interval.count());
        frame.clear();
        append_frame(frame, FrameType::kHeartbeat, encode_heartbeat(hb));
        if (co_await send(s, frame)) co_return;
        metrics.heartbeats_sent.fetch_add(1, std::memory_order_relaxed);
        next_heartbeat = now + opt.heartbeat_interval;
        continue;
      }
      if (wake_pending) {
        wake_pending = false;
        continue;
      }
      auto until = next_heartbeat;
      if (finishing && !goodbye_sent) until = std::min(until, goodbye_at);
      wake_timer.expires_at(until);
      co_await wake_timer.async_wait(use_nothrow);
      wake_pending = false;
    }
  }

  net::awaitable<void> reader(tcp::socket& s) {
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
          if (batch_rejection(err->code) && !in_flight.empty()) note_rejection(err->code);
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
    const InFlight& oldest = in_flight.front();
    if (suspect && suspect->stream == oldest.stream && suspect->first_seq == oldest.first_seq) {
      ++suspect_rejections;
    } else {
      suspect = oldest;
      suspect_rejections = 1;
    }
    if (suspect_rejections < 2) return;
    spdlog::error("ship: stream {} batch [{}, {}) rejected twice ({}): dropped, recorded as a gap",
                  oldest.stream, oldest.first_seq, oldest.end_seq, errc_name(code));
    metrics.gaps.fetch_add(1, std::memory_order_relaxed);
    if (hooks.on_gap)
      hooks.on_gap(nlohmann::json{{"reason", "batch rejected by the collector"},
                                  {"source", "spool"},
                                  {"error", errc_name(code)},
                                  {"stream", oldest.stream},
                                  {"first_seq", oldest.first_seq},
                                  {"end_seq", oldest.end_seq},
                                  {"records", oldest.records}}
                       .dump());
    spool.ack(oldest.stream, oldest.end_seq);
    suspect.reset();
    suspect_rejections = 0;
  }

  net::awaitable<void> watchdog() {
    net::steady_timer t(io);
    const auto period =
        std::min<std::chrono::milliseconds>(opt.ack_timeout / 4, std::chrono::milliseconds(1000));
    for (;;) {
      t.expires_after(period);
      auto [ec] = co_await t.async_wait(use_nothrow);
      if (ec) co_return;
      const auto now = std::chrono::steady_clock::now();
      if (!in_flight.empty() && now - last_progress > opt.ack_timeout) {
        spdlog::warn("ship: no ACK for {} ms with {} batches in flight; reconnecting",
                     opt.ack_timeout.count(), in_flight.size());
        co_return;
      }
      if (finishing && now >= deadline) co_return;
    }
  }

  net::awaitable<Outcome> session(const std::string& addr) {
    auto hp = parse_host_port(addr);
    if (!hp) co_return Outcome::kFailed;
    const std::string host = hp->host, port = std::to_string(hp->port);
    net::steady_timer timer(io);
    tcp::resolver resolver(io);
    timer.expires_after(opt.connect_timeout);
    auto resolved =
        co_await (resolver.async_resolve(host, port, use_nothrow) || timer.async_wait(use_nothrow));
    if (resolved.index() != 0) {
      connect_failed("ship: resolving {} timed out", addr);
      co_return Outcome::kFailed;
    }
    auto [rec, endpoints] = std::get<0>(resolved);
    if (rec) {
      connect_failed("ship: cannot resolve {}: {}", addr, rec.message());
      co_return Outcome::kFailed;
    }
    socket.emplace(io);
    auto connected = co_await (net::async_connect(*socket, endpoints, use_nothrow) ||
                               timer.async_wait(use_nothrow));
    if (connected.index() != 0 || std::get<0>(std::get<0>(connected))) {
      if (connected.index() != 0)
        connect_failed("ship: connecting to {} timed out", addr);
      else
        connect_failed("ship: cannot connect to {}: {}", addr,
                       std::get<0>(std::get<0>(connected)).message());
      socket.reset();
      co_return Outcome::kFailed;
    }
    tcp::socket& s = *socket;
    error_code ignored;
    s.set_option(tcp::no_delay(true), ignored);
    s.set_option(net::socket_base::keep_alive(true), ignored);

    std::string frame, payload;
    append_frame(frame, FrameType::kHello, encode_hello(opt.hello));
    if (auto ec = co_await send(s, frame)) {
      spdlog::warn("ship: sending HELLO to {} failed: {}", addr, ec.message());
      socket.reset();
      co_return Outcome::kFailed;
    }
    timer.expires_after(opt.handshake_timeout);
    auto answer = co_await (read_frame(s, payload) || timer.async_wait(use_nothrow));
    if (answer.index() != 0) {
      spdlog::warn("ship: no WELCOME from {} within {} ms", addr, opt.handshake_timeout.count());
      socket.reset();
      co_return Outcome::kFailed;
    }
    auto [aec, type] = std::get<0>(answer);
    if (aec || type != FrameType::kWelcome) {
      if (!aec && type == FrameType::kError) {
        metrics.collector_errors.fetch_add(1, std::memory_order_relaxed);
        if (auto err = decode_error(payload))
          spdlog::error("ship: {} refused HELLO: {} ({}): {}", addr, static_cast<int>(err->code),
                        errc_name(err->code), err->message);
      } else {
        spdlog::warn("ship: handshake with {} failed: {}", addr,
                     aec ? aec.message() : std::string("unexpected ") + frame_type_name(type));
      }
      socket.reset();
      co_return Outcome::kFailed;
    }
    auto welcome = decode_welcome(payload);
    if (!welcome) {
      spdlog::error("ship: malformed WELCOME from {}", addr);
      socket.reset();
      co_return Outcome::kFailed;
    }
    for (const auto& pos : welcome->streams) {
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
    cursor = spool.begin();
    session_sent_end.clear();
    in_flight.clear();
    in_flight_bytes = 0;
    last_progress = std::chrono::steady_clock::now();
    goodbye_sent = false;
    wake_pending = true;

    co_await (writer(s) || reader(s) || watchdog());

    is_connected = false;
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
            deadline - std::chrono::steady_clock::now());
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
  net::co_spawn(impl->io, impl->run(), [impl](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::critical("ship: network coroutine failed: {}", ex.what());
    }
    std::lock_guard lock(impl->done_mu);
    impl->done = true;
    impl->done_cv.notify_all();
  });
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
    impl->goodbye_at = goodbye_at;
    impl->deadline = deadline;
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
  });
  {
    std::unique_lock lock(impl->done_mu);
    impl->done_cv.wait_for(lock, std::chrono::seconds(2), [&] { return impl->done; });
  }
  impl->io.stop();
  impl->thread.join();
}

}  // namespace blackbox::agent
