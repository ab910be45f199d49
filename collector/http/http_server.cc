#include "collector/http/http_server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <mutex>
#include <thread>

#include "collector/http/api_json.h"
#include "schemas/last_resort.h"

namespace blackbox::collector::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);
// How long stop() may wait for the ingest watcher (it waits on the store between checks).
constexpr auto kWatcherStopCheck = std::chrono::milliseconds(100);

struct HttpServer::Impl {
  HttpServerOptions options;
  Api api;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  net::thread_pool workers;
  std::thread io_thread;
  std::atomic<std::uint32_t> connections{0};
  std::atomic<std::uint32_t> pending{0};
  std::atomic<bool> stopping{false};
  std::once_flag stopped;
  std::uint16_t port = 0;
  std::atomic<std::uint64_t>* busy_rejects;
  std::atomic<std::uint64_t>* escaped;
  // Follow long polls waiting for the ingest position to pass a value (I/O thread only).
  struct Waiter {
    net::steady_timer& timer;
    bool woken = false;
  };
  std::multimap<std::uint64_t, Waiter*> ingest_waiters;
  std::thread watcher;

  Impl(const HttpServerOptions& o, const Store& store, Metrics& metrics, const Clock& clock)
      : options(o), api(store, metrics, o.api, clock), workers(std::max(1u, o.worker_threads)) {
    busy_rejects = &metrics.counter("blackbox_query_busy_rejects_total",
                                    "Queries refused with 503 because the workers were full");
    escaped = &metrics.counter("blackbox_query_escaped_exceptions_total",
                               "Exceptions that reached an HTTP session's last line of defence");
  }

  net::awaitable<ApiResponse> run_query(const std::string& method, const std::string& target) {
    co_return co_await net::co_spawn(
        workers,
        [this, &method, &target]() -> net::awaitable<ApiResponse> {
          co_return api.handle(method, target);
        },
        net::use_awaitable);
  }

  // The one thread that waits on the store's ingest position (Store::wait_for_ingest, a
  // condition woken by every commit) for every waiting follow, so that a long poll holds
  // neither a query worker nor a thread of its own. Wakes them on the I/O thread.
  void watch_ingest() {
    std::uint64_t seen = api.store().last_ingest_seq();
    while (!stopping.load()) {
      const std::uint64_t now = api.store().wait_for_ingest(seen, kWatcherStopCheck);
      if (now == seen) continue;
      seen = now;
      net::post(ioc, [this, now] { wake_followers(now); });
    }
  }

  void wake_followers(std::uint64_t pos) {
    const auto end = ingest_waiters.lower_bound(pos);  // those waiting for a position < pos
    for (auto it = ingest_waiters.begin(); it != end; ++it) {
      it->second->woken = true;
      it->second->timer.cancel();
    }
    ingest_waiters.erase(ingest_waiters.begin(), end);
  }

  // Waits until the store's ingest position passes `after` (true) or `deadline` (false).
  net::awaitable<bool> wait_for_ingest(net::steady_timer& timer, std::uint64_t after,
                                       std::chrono::steady_clock::time_point deadline) {
    // A commit seen by the watcher before this registration is seen here: positions only grow.
    if (api.store().last_ingest_seq() > after) co_return true;
    Waiter w{timer};
    const auto it = ingest_waiters.emplace(after, &w);
    timer.expires_at(deadline);
    co_await timer.async_wait(kTuple);
    if (!w.woken) ingest_waiters.erase(it);
    co_return w.woken;
  }

  net::awaitable<ApiResponse> answer(const std::string& method, const std::string& target) {
    const auto started = std::chrono::steady_clock::now();
    net::steady_timer timer(ioc);
    for (;;) {
      if (pending.fetch_add(1) >= options.max_pending_queries) {
        pending.fetch_sub(1);
        busy_rejects->fetch_add(1, std::memory_order_relaxed);
        ApiResponse busy;
        busy.status = 503;
        busy.body = error_json("busy",
                               "the collector is running as many queries as it allows; retry "
                               "in a moment")
                        .dump() +
                    "\n";
        co_return busy;
      }
      ApiResponse r = co_await run_query(method, target);
      pending.fetch_sub(1);
      if (!r.poll_again || stopping.load() ||
          std::chrono::steady_clock::now() - started >= r.poll_wait)
        co_return r;
      if (!co_await wait_for_ingest(timer, r.poll_after, started + r.poll_wait) || stopping.load())
        co_return r;
    }
  }

  net::awaitable<void> session(tcp::socket socket) {
    struct Count {
      std::atomic<std::uint32_t>& n;
      ~Count() { n.fetch_sub(1); }
    } count{connections};
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::empty_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      stream.expires_after(options.idle_timeout);
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      if (ec) {
        if (ec == bhttp::error::header_limit) {
          co_await reply(
              stream, 431, 11, false,
              error_json("request_too_large", "the request header is too large").dump() + "\n",
              "application/json");
        } else if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout &&
                   ec != net::error::operation_aborted && ec != net::error::eof &&
                   ec != net::error::connection_reset) {
          co_await reply(
              stream, 400, 11, false,
              error_json("bad_request", "malformed HTTP request: " + ec.message()).dump() + "\n",
              "application/json");
        }
        break;
      }
      auto req = parser.release();
      const bool keep_alive = req.keep_alive() && !stopping.load();
      ApiResponse r = co_await answer(std::string(req.method_string()), std::string(req.target()));
      if (!co_await reply(stream, r.status, req.version(), keep_alive, std::move(r.body),
                          r.content_type) ||
          !keep_alive)
        break;
    }
    beast::error_code ignored;  // the peer may be gone already: nothing left to tell it
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  net::awaitable<bool> reply(beast::tcp_stream& stream, unsigned status, unsigned version,
                             bool keep_alive, std::string body, const std::string& content_type) {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), version};
    res.set(bhttp::field::server, "blackbox-collector");
    res.set(bhttp::field::content_type, content_type);
    res.set(bhttp::field::cache_control, "no-store");
    res.keep_alive(keep_alive);
    res.body() = std::move(body);
    res.prepare_payload();
    stream.expires_after(options.io_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream, res, kTuple);
    co_return !ec;
  }

  net::awaitable<void> accept_loop() {
    net::steady_timer backoff(ioc);
    while (!stopping.load()) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
        spdlog::warn("http: accept failed: {}", ec.message());
        backoff.expires_after(std::chrono::milliseconds(100));  // EMFILE and friends
        co_await backoff.async_wait(kTuple);
        continue;
      }
      if (connections.fetch_add(1) >= options.max_connections) {
        connections.fetch_sub(1);
        beast::error_code ignored;  // refusing: a reset is the answer
        socket.close(ignored);
        continue;
      }
      net::co_spawn(ioc, session(std::move(socket)), LastResort("http: session", escaped));
    }
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::port() const { return impl_->port; }

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerOptions& options,
                                                      const Store& store, Metrics& metrics,
                                                      const Clock& clock) {
  auto impl = std::make_unique<Impl>(options, store, metrics, clock);
  beast::error_code ec;
  const auto address = net::ip::make_address(options.host, ec);
  if (ec) {
    spdlog::error("http: '{}' is not an IP address to listen on", options.host);
    return Err(Errc::kInvalidArgument);
  }
  const tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    spdlog::error("http: cannot listen on {}:{}: {}", options.host, options.port, ec.message());
    return Err(Errc::kIo);
  }
  impl->port = impl->acceptor.local_endpoint().port();
  spdlog::info("http on {}:{}", options.host, impl->port);
  Impl* s = impl.get();
  net::co_spawn(s->ioc, s->accept_loop(), LastResort("http: accept loop", s->escaped));
  s->io_thread = std::thread([s] { s->ioc.run(); });
  s->watcher = std::thread([s] { s->watch_ingest(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::stop() {
  if (!impl_) return;
  Impl& s = *impl_;
  std::call_once(s.stopped, [&s] {
    s.stopping.store(true);
    if (s.watcher.joinable()) s.watcher.join();
    net::post(s.ioc, [&s] {
      beast::error_code ignored;  // already closed is fine
      s.acceptor.close(ignored);
    });
    s.ioc.stop();
    if (s.io_thread.joinable()) s.io_thread.join();
    s.workers.stop();
    s.workers.join();
  });
}

}  // namespace blackbox::collector::http
