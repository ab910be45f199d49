// ServerOptions: the knobs of the agent-facing TCP server (defaults documented here are the
// collector's defaults; config.h maps the TOML keys onto them).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "collector/server/peer_identity.h"
#include "schemas/limits.h"

namespace blackbox::collector {

class ServerTls;
class Enroller;

struct ServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 7700;             // 0 = any free port
  std::size_t max_connections = 10'000;  // more are answered ERROR kBusy and closed
  // File descriptors the rest of the process may need (RocksDB's table files, WAL and logs,
  // the HTTP API's connections, threads' eventfds): the effective connection cap is at most
  // the open-file soft limit minus this (Server logs both figures; see fd_limit.h).
  std::size_t reserved_fds = 0;
  // A connection must send HELLO within this.
  std::chrono::milliseconds hello_timeout{10'000};
  // Longest silence between frames (agents heartbeat well within it).
  std::chrono::milliseconds idle_timeout{90'000};
  // Once a frame's first byte arrived, the whole frame must arrive within this: slow senders
  // (a byte a second) are dropped.
  std::chrono::milliseconds frame_timeout{15'000};
  // A write to the agent (ACK, ...) must finish within this.
  std::chrono::milliseconds write_timeout{30'000};
  // On shutdown, how long sessions get to receive their last ACKs.
  std::chrono::milliseconds drain_timeout{5'000};
  // Frame bytes held in memory (read, not yet written) over all connections, and per
  // connection: when reached, sockets are not read (backpressure).
  std::size_t max_inflight_bytes = 512u << 20;
  std::size_t max_connection_inflight_bytes = 64u << 20;
  // Frames before HELLO are at most this long (unauthenticated peers get little memory).
  std::uint32_t max_hello_frame_bytes = 64u << 10;
  Limits limits;
  bool index_words = true;
  std::int64_t time_skew_ns = 86'400'000'000'000;  // IndexerOptions::time_skew_ns
  // Worker threads that verify and index batches off the I/O threads (0 = one per core), and
  // how many batches may be queued or indexed at once over all connections (then sessions
  // stop reading until a slot frees).
  unsigned index_threads = 0;
  std::size_t index_queue_depth = 1024;
  // Tests only: runs on an index worker before each batch is indexed.
  std::function<void(std::string_view instance)> before_index;
  // If set, HELLO.token must be hex HMAC-SHA256(auth_secret, instance_id).
  std::string auth_secret;
  // If set, the port speaks TLS only (tls_context.h); with its client CA, `identity` says which
  // instance ids a client certificate may write as (peer_identity.h).
  std::shared_ptr<ServerTls> tls;
  CertIdentityOptions identity;
  // Key authentication by enrolled instance keys (enrollment.h); null or without secrets:
  // HELLOs with auth "key" are refused. When it has secrets and auth_secret is empty, every
  // HELLO must use auth "key".
  std::shared_ptr<Enroller> enroller;
};

}  // namespace blackbox::collector
