// Ships the spool to a collector (PROTOCOL.md §5): one TCP connection at a time (a list of
// collectors for failover), HELLO → WELCOME (drop what the collector already holds, resume
// from the first unacknowledged batch), batches sent as spooled and pipelined under a window,
// cumulative ACKs that delete spool segments, heartbeats, reconnects with exponential backoff
// and full jitter, unlimited retries; a watchdog raises "shipping_stalled" on the agent's
// health while data waits and no ACK advances (ShipperOptions::stall_timeout). The last gasp (finish) ships everything, waits for the
// ACKs and exchanges GOODBYEs before a deadline.
// Runs on its own network thread (Asio coroutines in shipper.cc only); the public methods
// may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/agent_metrics.h"
#include "agent/spool/spool.h"
#include "schemas/clock.h"
#include "schemas/ed25519.h"
#include "schemas/frame.h"
#include "schemas/limits.h"

namespace blackbox::agent {

class ClientTls;

struct ShipperOptions {
  std::vector<std::string> collectors;  // HOST:PORT
  Hello hello;
  // hello.auth "key" (PROTOCOL.md §5.1): the instance key that signs the collector's
  // CHALLENGE, and the fleet enrollment secret that MACs it (needed for the first HELLO only).
  std::shared_ptr<const Ed25519Key> instance_key;
  std::optional<std::string> enrollment_secret;
  std::uint32_t window_batches = 64;
  std::uint64_t window_bytes = 16u << 20;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds ack_timeout{30000};
  std::chrono::milliseconds heartbeat_interval{10000};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{30000};
  // Unacknowledged data and no ACK advancing for this long: the health condition
  // "shipping_stalled" (failing, GET /health answers 503) and one error line saying why, until
  // an ACK advances again or nothing is left to ship.
  std::chrono::milliseconds stall_timeout{300000};
  Limits limits;  // for frames read from the collector
  // Set: TLS to every collector (transport.h), handshake within handshake_timeout.
  std::shared_ptr<ClientTls> tls;
  // Every time the shipper reads (heartbeats, ACK timeout, last-gasp deadlines); nullptr: the
  // system clock. Not owned; must outlive the shipper. Its steady_ns() shares the epoch of
  // the TimePoints given to finish(). Asio timers still wait in real time: they only wake the
  // shipper to look at this clock again.
  const Clock* clock = nullptr;
};

struct ShipperHooks {
  // WELCOME said the collector holds a stream up to next_seq (the sealer must not reuse
  // sequences below it). Network thread.
  std::function<void(const StreamPosition&)> on_collector_position;
  // Spooled data was lost (unreadable entry, batch rejected by the collector): `gap_json`
  // describes it, to be written as a gap record. Network thread.
  std::function<void(std::string gap_json)> on_gap;
};

class Shipper {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  Shipper(ShipperOptions options, Spool& spool, AgentMetrics& metrics, ShipperHooks hooks);
  ~Shipper();
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  void start();
  // New data is readable in the spool (called from the spool writer's thread).
  void wake();
  // Last gasp: keeps shipping until everything spooled is acknowledged, then sends GOODBYE
  // (at `goodbye_at` at the latest, if connected) and waits for the collector's GOODBYE.
  // Blocks until done or `deadline`, then stops. True when all was acknowledged and the
  // GOODBYEs exchanged.
  bool finish(Goodbye goodbye, TimePoint goodbye_at, TimePoint deadline);
  // Stops at once (closes the connection, joins the thread).
  void stop();
  bool connected() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace blackbox::agent
