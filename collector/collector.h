// Collector: the whole collector process wired together — Store, Metrics, IngestWriter (with
// the Ledger), the agent Server, the I/O threads and their io_context — so that main.cc stays a
// few lines and the HTTP query server (collector/http/) can be attached to the same objects:
//
//   auto c = Collector::open(config);          // opens RocksDB, starts the writer thread
//   auto port = (*c)->listen();                 // binds, logs "listening on HOST:PORT"
//   HttpServer http((*c)->io(), (*c)->store(), (*c)->metrics(), ...);
//   (*c)->on_shutdown([&] { http.stop(); });
//   return (*c)->run();                          // until SIGTERM/SIGINT or stop()
//
// SIGHUP reloads the ingest TLS certificate and key ([tls]).
// Shutdown (SIGTERM, SIGINT or stop()): stop accepting, let sessions take their last ACKs
// (drain_timeout), run the on_shutdown hooks, stop the I/O threads, finish queued writes, close
// RocksDB.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collector/config.h"
#include "collector/ingest/ingest_writer.h"
#include "collector/store/store.h"
#include "schemas/clock.h"
#include "schemas/metrics.h"

namespace boost::asio {
class io_context;
}

namespace blackbox::collector {

class Server;
class ServerTls;
class Enroller;

class Collector {
 public:
  // Opens the store at config.collector.data_dir, applies config legal holds, starts the
  // writer. `clock` (tests) must outlive the collector; nullptr = the system clock.
  [[nodiscard]] static Result<std::unique_ptr<Collector>> open(const Config& config,
                                                               const Clock* clock = nullptr);
  ~Collector();

  // Binds the agent listener and logs "listening on HOST:PORT". Returns the bound port.
  [[nodiscard]] Result<std::uint16_t> listen();

  // Runs the I/O threads (io_threads, the caller's included) until shutdown. Returns the
  // process exit code: 0 after a clean shutdown, 1 after a fatal storage error.
  int run();
  // Starts the shutdown. Any thread, idempotent.
  void stop();
  // Called on an I/O thread when shutdown starts (e.g. stop the HTTP server).
  void on_shutdown(std::function<void()> hook);
  // SIGHUP reloads this certificate and key too (the query API's HTTPS). Before run().
  void reload_on_sighup(std::shared_ptr<ServerTls> tls);

  const Config& config() const { return config_; }
  Store& store() { return *store_; }
  Metrics& metrics() { return metrics_; }
  IngestWriter& writer() { return *writer_; }
  boost::asio::io_context& io() { return *io_; }
  const Clock& clock() const { return *clock_; }
  std::size_t connections() const;

 private:
  Collector(const Config& config, const Clock* clock);
  void begin_shutdown();
  // Counts exceptions caught by a coroutine's LastResort.
  std::atomic<std::uint64_t>* escaped_counter();

  Config config_;
  std::unique_ptr<Clock> own_clock_;
  const Clock* clock_;
  Metrics metrics_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<IngestWriter> writer_;
  std::shared_ptr<Enroller> enroller_;  // key enrollment (server/enrollment.h)
  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<ServerTls> tls_;  // ingest TLS (null: plaintext); reloaded on SIGHUP
  std::vector<std::shared_ptr<ServerTls>> reloaded_tls_;  // every context SIGHUP reloads
  std::vector<std::function<void()>> hooks_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> exit_code_{0};
};

}  // namespace blackbox::collector
