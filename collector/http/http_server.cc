#include "collector/http/http_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
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
#include <boost/beast/ssl.hpp>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "collector/http/api_json.h"
#include "collector/server/tls_context.h"
#include "schemas/last_resort.h"

namespace blackbox::collector::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);
// How long stop() may wait for the ingest watcher (it waits on the store between checks).
constexpr auto kWatcherStopCheck = std::chrono::milliseconds(100);

struct HttpServer::Impl {
  HttpServerOptions options;
  Api api;
  // Per client address, I/O thread only (declared before ioc: coroutine frames destroyed with
  // the io_context still give their connections and turns back here).
  struct Client {
    std::uint32_t connections = 0;
    std::uint32_t running = 0;               // queries holding a turn
    std::deque<net::steady_timer*> waiting;  // queries waiting for a turn, oldest first
  };
  std::map<net::ip::address, Client> clients;
  // A connection reading a request (waiting for one, or mid-header): the ones that may be
  // closed to make room for a new connection, oldest first.
  struct Reading {
    beast::tcp_stream* stream;
    bool evicted = false;
  };
  std::list<Reading*> readers;
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
  std::atomic<std::uint64_t>* refused_max;         // connections refused: every one busy
  std::atomic<std::uint64_t>* refused_per_client;  // ... the client has too many open
  std::atomic<std::uint64_t>* evicted;             // closed while reading, to make room
  std::atomic<std::uint64_t>* accepted;
  std::atomic<std::uint64_t>* tls_failures;  // HTTPS handshakes that failed
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
    const char* refused_help = "HTTP connections refused at accept, by reason";
    refused_max = &metrics.counter(
        "blackbox_query_connections_refused_total{reason=\"max_connections\"}", refused_help);
    refused_per_client = &metrics.counter(
        "blackbox_query_connections_refused_total{reason=\"per_client\"}", refused_help);
    accepted = &metrics.counter("blackbox_query_connections_accepted_total",
                                "HTTP connections accepted (and not refused)");
    tls_failures = &metrics.counter("blackbox_query_tls_handshake_failures_total",
                                    "HTTPS connections whose TLS handshake failed (a plain-HTTP "
                                    "client, an untrusted certificate, a timeout)");
    evicted = &metrics.counter("blackbox_query_connections_evicted_total",
                               "HTTP connections waiting for (or sending) a request that were "
                               "closed to make room for a new one at max_connections");
  }

  std::uint32_t turns_per_client() const {
    if (options.max_queries_per_client > 0) return options.max_queries_per_client;
    return options.worker_threads > 1 ? options.worker_threads - 1 : 1;
  }

  // Waits until `client` may run a query: at most turns_per_client() at once, first come first
  // served within the client, so a greedy client queues behind itself (on the I/O thread,
  // holding no worker and no pending slot). Give the turn back with end_turn().
  net::awaitable<void> take_turn(const net::ip::address& client) {
    Client& c = clients[client];
    if (c.running < turns_per_client() && c.waiting.empty()) {
      ++c.running;
      co_return;
    }
    net::steady_timer turn(ioc, net::steady_timer::time_point::max());
    c.waiting.push_back(&turn);
    struct Leave {  // only if this frame is destroyed while waiting (stop)
      Impl& s;
      const net::ip::address& client;
      net::steady_timer* t;
      ~Leave() {
        auto c = s.clients.find(client);
        if (c == s.clients.end()) return;
        auto& q = c->second.waiting;
        if (auto it = std::find(q.begin(), q.end(), t); it != q.end()) q.erase(it);
      }
    } leave{*this, client, &turn};
    co_await turn.async_wait(kTuple);  // end_turn() hands its turn over by cancelling this
  }

  void end_turn(const net::ip::address& client) {
    auto it = clients.find(client);
    if (it == clients.end()) return;
    Client& c = it->second;
    if (!c.waiting.empty()) {  // hand the turn over: `running` stays
      c.waiting.front()->cancel();
      c.waiting.pop_front();
      return;
    }
    --c.running;
    forget_if_idle(it);
  }

  void forget_if_idle(std::map<net::ip::address, Client>::iterator it) {
    if (it->second.connections == 0 && it->second.running == 0 && it->second.waiting.empty())
      clients.erase(it);
  }

  net::awaitable<ApiResponse> run_query(const ApiRequest& request) {
    co_return co_await net::co_spawn(
        workers,
        [this, &request]() -> net::awaitable<ApiResponse> { co_return api.handle(request); },
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

  net::awaitable<ApiResponse> answer(const net::ip::address& client, const ApiRequest& request) {
    const auto started = std::chrono::steady_clock::now();
    net::steady_timer timer(ioc);
    struct Turn {
      Impl& s;
      const net::ip::address& client;
      ~Turn() { s.end_turn(client); }
    };
    for (;;) {
      ApiResponse r;
      {
        co_await take_turn(client);
        Turn turn{*this, client};
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
        r = co_await run_query(request);
        pending.fetch_sub(1);
      }
      if (!r.poll_again || stopping.load() ||
          std::chrono::steady_clock::now() - started >= r.poll_wait)
        co_return r;
      if (!co_await wait_for_ingest(timer, r.poll_after, started + r.poll_wait) || stopping.load())
        co_return r;
    }
  }

  // Reads one request: waits up to idle_timeout for its first byte, then the whole request
  // must arrive within header_timeout (a slow sender is cut off). While reading, the connection
  // is in `readers` and may be evicted to make room (then: operation_aborted).
  template <class Stream>
  net::awaitable<beast::error_code> read_request(Stream& stream, beast::flat_buffer& buffer,
                                                 bhttp::request_parser<bhttp::empty_body>& parser) {
    Reading reading{&beast::get_lowest_layer(stream)};
    const auto it = readers.insert(readers.end(), &reading);
    struct Unlist {
      std::list<Reading*>& l;
      std::list<Reading*>::iterator it;
      const Reading& r;
      ~Unlist() {
        if (!r.evicted) l.erase(it);
      }
    } unlist{readers, it, reading};
    if (buffer.size() == 0) {
      beast::get_lowest_layer(stream).expires_after(options.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
      if (ec) co_return ec;
      buffer.commit(n);
    }
    beast::get_lowest_layer(stream).expires_after(options.header_timeout);
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    co_return ec;
  }

  net::awaitable<void> session(tcp::socket socket, net::ip::address client) {
    struct Count {
      Impl& s;
      const net::ip::address& client;
      ~Count() {
        s.connections.fetch_sub(1);
        if (auto it = s.clients.find(client); it != s.clients.end()) {
          --it->second.connections;
          s.forget_if_idle(it);
        }
      }
    } count{*this, client};
    beast::tcp_stream tcp(std::move(socket));
    if (!options.tls) {
      co_await serve(tcp, client);
      beast::error_code ignored;  // the peer may be gone already: nothing left to tell it
      tcp.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    // HTTPS: the handshake must finish within header_timeout, like a request's header.
    beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp), *options.tls->context());
    beast::get_lowest_layer(tls).expires_after(options.header_timeout);
    auto [ec] = co_await tls.async_handshake(ssl::stream_base::server, kTuple);
    if (ec) {
      tls_failures->fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("http: TLS handshake with {} failed: {}", client.to_string(), ec.message());
      co_return;
    }
    co_await serve(tls, client);
    beast::get_lowest_layer(tls).expires_after(options.header_timeout);
    // close_notify, best effort: the peer may be gone (its error changes nothing)
    auto [shutdown_ec] = co_await tls.async_shutdown(kTuple);
    (void)shutdown_ec;
  }

  // Requests and answers on one connection (plain or TLS) until either side ends it.
  template <class Stream>
  net::awaitable<void> serve(Stream& stream, const net::ip::address& client) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::empty_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      auto ec = co_await read_request(stream, buffer, parser);
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
      const std::string method(req.method_string()), target(req.target()),
          authorization(req[bhttp::field::authorization]), peer(client.to_string());
      const ApiRequest request{method, target, authorization, peer};
      ApiResponse r = co_await answer(client, request);
      if (!co_await reply(stream, r.status, req.version(), keep_alive, std::move(r.body),
                          r.content_type, r.www_authenticate) ||
          !keep_alive)
        break;
    }
  }

  template <class Stream>
  net::awaitable<bool> reply(Stream& stream, unsigned status, unsigned version, bool keep_alive,
                             std::string body, const std::string& content_type,
                             const std::string& www_authenticate = {}) {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), version};
    res.set(bhttp::field::server, "blackbox-collector");
    res.set(bhttp::field::content_type, content_type);
    if (!www_authenticate.empty()) res.set(bhttp::field::www_authenticate, www_authenticate);
    res.set(bhttp::field::cache_control, "no-store");
    res.keep_alive(keep_alive);
    res.body() = std::move(body);
    res.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(options.io_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream, res, kTuple);
    co_return !ec;
  }

  // Closes the connection that has waited longest for (or in) a request; false if every
  // connection is busy with a query. Its session ends with operation_aborted.
  bool evict_oldest_reader() {
    if (readers.empty()) return false;
    Reading* r = readers.front();
    readers.pop_front();
    r->evicted = true;
    beast::error_code ignored;  // closing: the session sees operation_aborted
    r->stream->socket().close(ignored);
    evicted->fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  // Answers 503 with `message` and closes, best effort, without blocking the I/O thread.
  static void refuse(tcp::socket& socket, const std::string& message) {
    bhttp::response<bhttp::string_body> res{bhttp::status::service_unavailable, 11};
    res.set(bhttp::field::server, "blackbox-collector");
    res.set(bhttp::field::content_type, "application/json");
    res.keep_alive(false);
    res.body() = error_json("busy", message).dump() + "\n";
    res.prepare_payload();
    beast::error_code ignored;  // a peer that does not read it gets the close alone
    socket.non_blocking(true, ignored);
    bhttp::write(socket, res, ignored);
    socket.close(ignored);
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
      beast::error_code ec2;
      const auto client = socket.remote_endpoint(ec2).address();
      if (ec2) continue;  // gone already
      Client& c = clients[client];
      if (c.connections >= options.max_connections_per_client) {
        refused_per_client->fetch_add(1, std::memory_order_relaxed);
        refuse(socket, "too many connections from " + client.to_string() + " (at most " +
                           std::to_string(options.max_connections_per_client) +
                           "); close idle ones or retry later");
        forget_if_idle(clients.find(client));
        continue;
      }
      if (connections.load() >= options.max_connections && !evict_oldest_reader()) {
        refused_max->fetch_add(1, std::memory_order_relaxed);
        refuse(socket, "the collector is answering as many connections as it allows; retry later");
        forget_if_idle(clients.find(client));
        continue;
      }
      connections.fetch_add(1);
      ++c.connections;
      accepted->fetch_add(1, std::memory_order_relaxed);
      net::co_spawn(ioc, session(std::move(socket), client), LastResort("http: session", escaped));
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
  spdlog::info("http on {}:{}{}", options.host, impl->port, options.tls ? " (https)" : "");
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
