#include "collector/server/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

#include "collector/server/fd_limit.h"
#include "collector/server/session.h"
#include "schemas/last_resort.h"

namespace blackbox::collector {

namespace net = boost::asio;
using net::ip::tcp;

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

// Answers a connection over the cap: ERROR kBusy, best effort, without blocking.
void refuse_busy(tcp::socket& s, std::size_t cap) {
  std::string f;
  append_frame(f, FrameType::kError,
               encode_error(ErrorFrame{Errc::kBusy,
                                       "collector at its connection cap (" + std::to_string(cap) +
                                           "; server.max_connections and the open-file limit); "
                                           "retry later"}));
  boost::system::error_code ec;
  s.non_blocking(true, ec);
  net::const_buffer b(f.data(), f.size());
  s.send(b, 0, ec);
  s.close(ec);
}

net::awaitable<void> accept_loop(tcp::acceptor& acceptor, net::io_context& io,
                                 std::shared_ptr<SessionContext> ctx) {
  net::steady_timer pause(io);
  bool busy_logged = false;  // the cap's warning, once per episode
  for (;;) {
    auto strand = net::make_strand(io);
    auto [ec, socket] = co_await acceptor.async_accept(strand, kTuple);
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
      // EMFILE and friends: the condition passes as connections close; don't spin on it.
      spdlog::warn("server: accept: {}", ec.message());
      ctx->count_reject("accept_error");
      pause.expires_after(std::chrono::milliseconds(50));
      co_await pause.async_wait(kTuple);
      continue;
    }
    if (ctx->shutting_down) {
      boost::system::error_code ignored;
      socket.close(ignored);
      co_return;
    }
    if (ctx->connections.load() >= ctx->connection_cap) {
      ctx->count_reject("busy");
      if (!std::exchange(busy_logged, true))
        spdlog::warn(
            "server: {} agent connections open (the cap); refusing more with ERROR busy "
            "(rejects_total{{reason=\"busy\"}} counts them)",
            ctx->connection_cap);
      tcp::socket s(std::move(socket));
      refuse_busy(s, ctx->connection_cap);
      continue;
    }
    busy_logged = false;
    boost::system::error_code opt_ec;
    socket.set_option(tcp::no_delay(true), opt_ec);
    auto session = std::make_shared<Session>(tcp::socket(std::move(socket)), strand, ctx);
    ctx->add(session);
    session->start();
  }
}

}  // namespace

SessionContext::SessionContext(ServerOptions o, IngestWriter& w, Metrics& m)
    : options(std::move(o)),
      writer(w),
      budget(options.max_inflight_bytes),
      index_pool(IndexPoolOptions{
          options.index_threads, options.index_queue_depth,
          IndexerOptions{options.limits, options.index_words, options.time_skew_ns},
          options.before_index}),
      accepted(&m.counter("blackbox_collector_connections_accepted_total",
                          "Agent connections accepted")),
      closed(&m.counter("blackbox_collector_connections_closed_total", "Agent connections closed")),
      timeouts(&m.counter("blackbox_collector_timeouts_total",
                          "Connections dropped by a read or write deadline")),
      backpressure_waits(&m.counter("blackbox_collector_backpressure_waits_total",
                                    "Frames that waited for memory before being read")),
      frames(&m.counter("blackbox_collector_frames_received_total", "Frames received")),
      bytes_received(
          &m.counter("blackbox_collector_bytes_received_total", "Bytes received from agents")),
      escaped(&m.counter("blackbox_collector_rejects_total{reason=\"internal\"}",
                         "Frames, batches or connections rejected, by reason")),
      metrics(m) {}

void SessionContext::count_reject(std::string_view reason) {
  metrics
      .counter("blackbox_collector_rejects_total{reason=\"" + std::string(reason) + "\"}",
               "Frames, batches or connections rejected, by reason")
      .fetch_add(1, std::memory_order_relaxed);
}

void SessionContext::add(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(mu_);
  sessions_[s.get()] = s;
}

void SessionContext::remove(Session* s) {
  std::lock_guard lock(mu_);
  sessions_.erase(s);
}

std::vector<std::shared_ptr<Session>> SessionContext::sessions() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Session>> out;
  for (auto& [p, w] : sessions_)
    if (auto s = w.lock()) out.push_back(std::move(s));
  return out;
}

Server::Server(net::io_context& io, IngestWriter& writer, Metrics& metrics, ServerOptions options)
    : io_(io),
      ctx_(std::make_shared<SessionContext>(std::move(options), writer, metrics)),
      acceptor_(io) {
  const std::size_t configured = ctx_->options.max_connections;
  const FdLimit limit = open_file_limit();
  ctx_->connection_cap =
      ctx_->options.reserved_fds == 0
          ? configured
          : collector::connection_cap(configured, limit.soft, ctx_->options.reserved_fds);
  if (ctx_->connection_cap < configured)
    spdlog::warn(
        "server: at most {} agent connections (server.max_connections {}, open-file "
        "limit {}, {} reserved for RocksDB and the HTTP API); raise LimitNOFILE / "
        "ulimit -n for more",
        ctx_->connection_cap, configured, limit.soft, ctx_->options.reserved_fds);
  else
    spdlog::info("server: at most {} agent connections (open-file limit {}, {} reserved)",
                 ctx_->connection_cap, limit.soft, ctx_->options.reserved_fds);
  auto ctx = ctx_;
  metrics.gauge("blackbox_collector_connections", "Open agent connections",
                [ctx] { return static_cast<double>(ctx->connections.load()); });
  metrics.gauge("blackbox_collector_max_connections",
                "Effective cap on agent connections (max_connections within the open-file limit)",
                [ctx] { return static_cast<double>(ctx->connection_cap); });
  metrics.gauge("blackbox_collector_inflight_bytes",
                "Frame bytes read and not yet written (bounded by max_inflight_bytes)",
                [ctx] { return static_cast<double>(ctx->budget.used()); });
}

Server::~Server() { ctx_->index_pool.join(); }

Result<tcp::endpoint> Server::listen() {
  boost::system::error_code ec;
  auto addr = net::ip::make_address(ctx_->options.host, ec);
  if (ec) {
    spdlog::error("server: listen address {}: {}", ctx_->options.host, ec.message());
    return Err(Errc::kInvalidArgument);
  }
  tcp::endpoint ep(addr, ctx_->options.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    spdlog::error("server: listen on {}:{}: {}", ctx_->options.host, ctx_->options.port,
                  ec.message());
    return Err(Errc::kIo);
  }
  auto bound = acceptor_.local_endpoint(ec);
  if (ec) return Err(Errc::kIo);
  return bound;
}

void Server::start() {
  net::co_spawn(io_, accept_loop(acceptor_, io_, ctx_),
                LastResort("server: accept loop", ctx_->escaped));
}

void Server::shutdown() {
  ctx_->shutting_down = true;
  net::post(io_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
  for (auto& s : ctx_->sessions()) s->drain();
  ctx_->budget.wake_all();
}

}  // namespace blackbox::collector
