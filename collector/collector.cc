#include "collector/collector.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <thread>

#include "collector/ingest_security.h"
#include "collector/server/server.h"
#include "collector/server/tls_context.h"
#include "schemas/last_resort.h"

namespace blackbox::collector {

namespace net = boost::asio;

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

// Asks the writer to look for silent instances every interval, until the io_context stops.
net::awaitable<void> silence_ticks(IngestWriter& writer, std::chrono::milliseconds interval,
                                   const std::atomic<bool>& stopping) {
  net::steady_timer timer(co_await net::this_coro::executor);
  while (!stopping.load()) {
    timer.expires_after(interval);
    co_await timer.async_wait(kTuple);
    if (stopping.load()) break;
    writer.submit(TickRequest{}, [](WriteOutcome&&) {});
  }
}

// Waits until every session is gone or the drain deadline passes, then stops the io_context.
net::awaitable<void> finish_drain(Server& server, net::io_context& io,
                                  std::chrono::milliseconds drain) {
  net::steady_timer timer(co_await net::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + drain + std::chrono::seconds(1);
  while (server.connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(kTuple);
  }
  if (server.connections() > 0)
    spdlog::warn("collector: {} connections still open after the drain deadline",
                 server.connections());
  io.stop();
}

// SIGHUP: new connections get the reloaded certificates; a bad one keeps the old (one line).
void reload_on_hup(net::signal_set& hup, const std::vector<std::shared_ptr<ServerTls>>& all) {
  hup.async_wait([&hup, &all](const boost::system::error_code& ec, int) {
    if (ec) return;
    for (const auto& tls : all) {
      std::string why;
      if (auto ok = tls->reload(why); ok)
        spdlog::info("collector: SIGHUP: TLS certificate {} reloaded; new connections use it",
                     tls->options().cert_file);
      else
        spdlog::error(
            "collector: SIGHUP: TLS reload failed, keeping the previous certificate: {}", why);
    }
    reload_on_hup(hup, all);
  });
}

}  // namespace

Collector::Collector(const Config& config, const Clock* clock) : config_(config) {
  if (!clock) {
    own_clock_ = std::make_unique<SystemClock>();
    clock = own_clock_.get();
  }
  clock_ = clock;
}

Collector::~Collector() {
  // The writer and the enroller first: their last completions post to session strands of the
  // (stopped) io_context.
  if (enroller_) enroller_->stop();
  if (writer_) writer_->stop();
  server_.reset();
  io_.reset();
  writer_.reset();
  store_.reset();
}

Result<std::unique_ptr<Collector>> Collector::open(const Config& config, const Clock* clock) {
  std::unique_ptr<Collector> c(new Collector(config, clock));
  auto so = store_options(config);
  so.clock = c->clock_;
  auto store = Store::open(so);
  if (!store) return store.error();
  c->store_ = std::move(*store);
  for (const auto& inst : config.storage.legal_hold) {
    if (c->store_->legal_hold(inst)) continue;
    auto ok = c->store_->set_legal_hold(inst, true);
    if (!ok && to_errc(ok.error()) == Errc::kDiskFull) {
      // Read-only store: retention (compaction) does not run either, so nothing is deleted.
      spdlog::warn("collector: legal hold for {} not stored (the store is read-only)", inst);
    } else if (!ok) {
      return ok.error();
    }
  }
  if (auto h = c->store_->health(); h.read_only)
    spdlog::error(
        "collector: READ-ONLY start: the data disk {} is full ({} bytes free of {}): queries "
        "are answered, agents are refused (they keep their data and retry); free space on it "
        "and restart the collector to take data again",
        config.collector.data_dir, h.free_bytes, h.capacity_bytes);
  Store* sp = c->store_.get();
  c->metrics_.gauge("blackbox_collector_rocksdb_stall_seconds_total",
                    "Time RocksDB delayed or stopped writes",
                    [sp] { return static_cast<double>(sp->stall_micros()) / 1e6; });
  c->metrics_.gauge("blackbox_collector_rocksdb_write_stopped",
                    "1 while RocksDB stops writes (compaction behind)",
                    [sp] { return sp->write_stopped() ? 1.0 : 0.0; });
  auto writer = IngestWriter::start(*c->store_, *c->clock_, c->metrics_, writer_options(config));
  if (!writer) return writer.error();
  c->writer_ = std::move(*writer);
  std::string why;
  auto secret = auth_secret(config, why);
  if (!secret) {
    spdlog::error("collector: collector.auth_secret_file: {}", why);
    return secret.error();
  }
  auto tls = make_server_tls(config, why);  // ingest_security.h
  if (!tls) {
    spdlog::error("collector: [tls]: {}", why);
    return tls.error();
  }
  c->tls_ = *tls;
  auto opts = server_options(config);
  opts.auth_secret = *secret;
  opts.tls = c->tls_;
  opts.identity = cert_identity(config);
  auto enrollment = enrollment_options(config, why);
  if (!enrollment) {
    spdlog::error("collector: {}", why);
    return enrollment.error();
  }
  c->enroller_ =
      std::make_shared<Enroller>(*c->store_, *c->clock_, c->metrics_, std::move(*enrollment));
  opts.enroller = c->enroller_;
  c->io_ = std::make_unique<net::io_context>(static_cast<int>(config.collector.io_threads));
  c->server_ = std::make_unique<Server>(*c->io_, *c->writer_, c->metrics_, std::move(opts));
  // Refused connections by reason, present at 0 from the start so that an alert sees them
  // (the server counts them in the same family as it refuses: server.cc, session.cc).
  for (Errc refusal : {Errc::kBusy, Errc::kUnauthorized, Errc::kUnsupportedVersion, Errc::kTimeout,
                       Errc::kProtocolViolation, Errc::kMalformedFrame}) {
    c->metrics_.counter(
        "blackbox_collector_rejects_total{reason=\"" + std::string(errc_name(refusal)) + "\"}",
        "Frames, batches or connections rejected, by reason");
  }
  Collector* self = c.get();
  c->writer_->set_on_fatal([self] {
    self->exit_code_ = 1;
    self->stop();
  });
  return c;
}

Result<std::uint16_t> Collector::listen() {
  auto ep = server_->listen();
  if (!ep) return ep.error();
  std::string host = ep->address().to_string();
  if (ep->address().is_v6()) host = "[" + host + "]";
  spdlog::info("listening on {}:{}", host, ep->port());
  return ep->port();
}

std::size_t Collector::connections() const { return server_->connections(); }

std::atomic<std::uint64_t>* Collector::escaped_counter() {
  // The agent server's counter of internal errors (server.cc registers the same series).
  return &metrics_.counter("blackbox_collector_rejects_total{reason=\"internal\"}",
                           "Frames, batches or connections rejected, by reason");
}

void Collector::on_shutdown(std::function<void()> hook) { hooks_.push_back(std::move(hook)); }

void Collector::reload_on_sighup(std::shared_ptr<ServerTls> tls) {
  if (tls) reloaded_tls_.push_back(std::move(tls));
}

void Collector::stop() {
  if (stopping_.exchange(true)) return;
  net::post(*io_, [this] { begin_shutdown(); });
}

void Collector::begin_shutdown() {
  spdlog::info("collector: shutting down: no new connections; draining {} connections",
               server_->connections());
  server_->shutdown();
  for (auto& h : hooks_) h();
  net::co_spawn(
      *io_,
      finish_drain(*server_, *io_, std::chrono::milliseconds(config_.server.drain_timeout_ms)),
      LastResort("collector: drain", escaped_counter()));
}

int Collector::run() {
  server_->start();
  net::signal_set signals(*io_, SIGTERM, SIGINT);
  signals.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("collector: signal {}", sig);
    stop();
  });
  net::signal_set hup(*io_, SIGHUP);  // reloads the TLS certificates and keys
  if (tls_) reloaded_tls_.push_back(tls_);
  if (!reloaded_tls_.empty()) reload_on_hup(hup, reloaded_tls_);
  net::co_spawn(
      *io_,
      silence_ticks(*writer_, std::chrono::milliseconds(config_.lifecycle.silent_check_interval_ms),
                    stopping_),
      LastResort("collector: silence ticks", escaped_counter()));
  std::vector<std::thread> threads;
  for (std::uint32_t i = 1; i < config_.collector.io_threads; ++i)
    threads.emplace_back([this] { io_->run(); });
  io_->run();
  for (auto& t : threads) t.join();
  signals.cancel();
  hup.cancel();
  // Queued writes finish (their ACKs can no longer be sent; the agents resend and the
  // duplicates are recognised), then RocksDB closes with the Collector.
  writer_->stop();
  spdlog::info("collector: stopped");
  return exit_code_.load();
}

}  // namespace blackbox::collector
