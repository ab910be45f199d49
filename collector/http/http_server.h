// HttpServer: serves the query API (api.h) and GET /metrics over HTTP/1.1 with Boost.Beast.
//
// Threads: one I/O thread of its own runs the acceptor and every connection (C++20
// coroutines; with a single thread no strand is needed), and a small worker pool runs the
// queries, so neither the agents' I/O threads nor the ingest writer ever wait for a reader.
// Bounds: connections (max_connections; beyond it the connection that has waited longest for
// a request is closed to make room, or, when every connection is busy with a query, the new one
// is refused), connections per client address (max_connections_per_client, beyond: 503 and
// close), queries queued or running on the workers (max_pending_queries, beyond: 503 busy),
// queries running per client address (max_queries_per_client: a greedy client's further
// queries wait behind its own, holding no worker, so it never fills the workers or the pending
// count in front of others), request header size, a header deadline once a request has started
// (slow senders), a deadline on every read and write, and the per-answer limits of ApiOptions
// (records, bytes, wall time). Refused connections are counted by reason
// (blackbox_query_connections_refused_total). A follow long
// poll with nothing new waits on the I/O thread, holding no worker, until one watcher thread
// sees the store's ingest position move (Store::wait_for_ingest, woken by every commit); then
// the query runs again.
// Asio stays inside http_server.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "collector/http/api.h"
#include "collector/store/store.h"
#include "schemas/clock.h"
#include "schemas/http_api.h"
#include "schemas/metrics.h"
#include "schemas/result.h"

namespace blackbox::collector {
class ServerTls;
}

namespace blackbox::collector::http {

struct HttpServerOptions {
  std::string host = "127.0.0.1";         // listen address (HOST of --http HOST:PORT)
  std::uint16_t port = kDefaultHttpPort;  // 0 = any free port (tests)
  std::uint32_t worker_threads = 2;       // threads running queries
  std::uint32_t max_connections = 256;
  std::uint32_t max_connections_per_client = 32;  // per client IP address
  std::uint32_t max_pending_queries = 64;         // queued or running on the workers
  // Queries one client address runs at once (0 = worker_threads - 1, at least 1): a worker
  // stays free for everyone else.
  std::uint32_t max_queries_per_client = 0;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds io_timeout{30'000};      // write one answer
  std::chrono::milliseconds header_timeout{10'000};  // a started request must be read within
  std::chrono::milliseconds idle_timeout{120'000};   // keep-alive connection with no request
  // HTTPS with this context (collector/server/tls_context.h; its reload() takes effect for new
  // connections); nullptr = plain HTTP. The handshake must finish within header_timeout.
  std::shared_ptr<ServerTls> tls;
  ApiOptions api;
};

class HttpServer {
 public:
  // Binds host:port, logs "http on HOST:PORT" (the bound port; " (https)" with TLS), starts
  // the threads.
  // `store`, `metrics` and `clock` must outlive the server.
  // Errors: kInvalidArgument (bad address), kIo (cannot bind: port in use, permissions).
  [[nodiscard]] static Result<std::unique_ptr<HttpServer>> start(const HttpServerOptions& options,
                                                                 const Store& store,
                                                                 Metrics& metrics,
                                                                 const Clock& clock);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t port() const;
  // Closes the listener and every connection, waits for the threads. Any thread; idempotent.
  void stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace blackbox::collector::http
