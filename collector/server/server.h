// Server: the agent-facing TCP server. Accepts connections on an io_context run by the
// caller's I/O threads and gives each one a Session (session.h): one coroutine reading frames
// and one writing replies, on the connection's own strand. Owns the global MemoryBudget and the
// IndexPool whose worker threads verify and index batches (never the I/O threads).
//
// Threads: construct, listen() and start() from one thread before running the io_context;
// shutdown() and connections() from any thread. Destroy the Server before the io_context: its
// destructor waits for batches still being indexed (their results post to session strands).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "collector/ingest/ingest_writer.h"
#include "collector/server/index_pool.h"
#include "collector/server/memory_budget.h"
#include "collector/server/server_options.h"
#include "collector/server/writer_registry.h"
#include "schemas/metrics.h"

namespace blackbox::collector {

class Session;

// What sessions share. Lives as long as the Server.
struct SessionContext {
  ServerOptions options;
  IngestWriter& writer;
  MemoryBudget budget;  // frame bytes over all connections
  IndexPool index_pool;
  std::atomic<std::size_t> connections{0};
  // The effective cap: options.max_connections, lowered to fit the open-file limit minus
  // options.reserved_fds (computed once, when the Server is built; fd_limit.h).
  std::size_t connection_cap = 0;
  std::atomic<bool> shutting_down{false};
  std::atomic<std::uint64_t> next_connection_id{1};
  WriterRegistry writers;  // one writer per instance

  // Counters (metrics.h), registered once.
  std::atomic<std::uint64_t>* accepted;
  std::atomic<std::uint64_t>* closed;
  std::atomic<std::uint64_t>* timeouts;
  std::atomic<std::uint64_t>* backpressure_waits;
  std::atomic<std::uint64_t>* frames;
  std::atomic<std::uint64_t>* bytes_received;
  std::atomic<std::uint64_t>* escaped;  // exceptions caught by a coroutine's LastResort
  Metrics& metrics;
  void count_reject(std::string_view reason);

  // Live sessions, for shutdown.
  void add(const std::shared_ptr<Session>& s);
  void remove(Session* s);
  std::vector<std::shared_ptr<Session>> sessions();

  SessionContext(ServerOptions o, IngestWriter& w, Metrics& m);

 private:
  std::mutex mu_;
  std::map<Session*, std::weak_ptr<Session>> sessions_;
};

class Server {
 public:
  Server(boost::asio::io_context& io, IngestWriter& writer, Metrics& metrics,
         ServerOptions options);
  ~Server();

  // Binds the listening socket. Returns the bound endpoint (the real port when port = 0).
  // Errors: kIo (address in use, bad host).
  [[nodiscard]] Result<boost::asio::ip::tcp::endpoint> listen();
  // Starts accepting (co_spawns the accept loop on the io_context).
  void start();
  // Stops accepting and asks every session to finish: no more frames are read, in-flight
  // batches are acknowledged, then ERROR kUnavailable and close. Any thread.
  void shutdown();
  std::size_t connections() const { return ctx_->connections.load(); }
  // The effective cap on agent connections (see SessionContext::connection_cap).
  std::size_t connection_cap() const { return ctx_->connection_cap; }
  MemoryBudget& budget() { return ctx_->budget; }

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<SessionContext> ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace blackbox::collector
