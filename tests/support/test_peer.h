// A small collector stand-in built from schemas/ only, for the agent's tests and benchmark:
// accepts HELLO, answers WELCOME (per-stream resume points from what it holds), decodes and
// verifies each batch (CRCs, hash, records), keeps the records by (stream, seq), notes
// duplicates, conflicts and chain breaks, ACKs, answers GOODBYE. Plain blocking sockets on
// 127.0.0.1, one thread per connection. All queries are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "schemas/frame.h"
#include "schemas/record.h"

namespace blackbox::agent::testing {

struct PeerRecord {
  RecordKind kind = RecordKind::kLog;
  Severity severity = Severity::kUnknown;
  std::uint8_t flags = 0;
  std::int64_t event_time_ns = 0;
  std::string source;
  std::string line;
  std::vector<std::pair<std::string, std::string>> fields;
};

struct TestPeerOptions {
  bool decode = true;             // false: check headers only and just ACK (benchmark sink)
  bool ack = true;                // false: hold ACKs (a stalled collector)
  bool welcome_positions = true;  // false: WELCOME claims nothing stored (forces resends)
  std::uint16_t port = 0;
};

struct PeerStats {
  std::uint64_t connections = 0;
  std::uint64_t hellos = 0;
  std::uint64_t batches = 0;              // BATCH frames received
  std::uint64_t duplicate_batches = 0;    // byte-identical re-deliveries
  std::uint64_t conflicting_batches = 0;  // same (stream, first_seq), different bytes
  std::uint64_t overlapping_batches = 0;  // seqs overlapping stored ones, other first_seq
  std::uint64_t chain_breaks = 0;         // prev_hash ≠ stored head at the next seq
  std::uint64_t invalid_batches = 0;      // decode/verify failures
  std::uint64_t heartbeats = 0;
  std::uint64_t goodbyes = 0;
  std::uint64_t records = 0;        // distinct (stream, seq) stored
  std::uint64_t log_lines = 0;      // of which kLog records of the logs stream
  std::uint64_t raw_bytes = 0;      // decompressed record bytes of stored batches
  std::uint64_t acked_records = 0;  // records of acknowledged batches (decode off too)
};

class TestPeer {
 public:
  explicit TestPeer(TestPeerOptions options = {});
  ~TestPeer();
  TestPeer(const TestPeer&) = delete;
  TestPeer& operator=(const TestPeer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // The collector goes away: listener and connections closed (connects are refused).
  void stop();
  // Comes back on the same port.
  void restart();
  void set_ack(bool ack);
  void set_welcome_positions(bool on);

  PeerStats stats() const;
  std::map<std::uint64_t, PeerRecord> records(std::uint32_t stream) const;
  std::size_t record_count(std::uint32_t stream) const;
  std::optional<Hello> last_hello() const;
  std::optional<Goodbye> last_goodbye() const;
  // Waits (condition variable, no sleep) until `pred` holds or `timeout` passes; `pred` runs
  // under the peer's lock after each change, so it may call nothing of the peer's.
  bool wait_until(const std::function<bool(const PeerStats&)>& pred,
                  std::chrono::milliseconds timeout) const;

 private:
  struct StreamStore {
    std::map<std::uint64_t, PeerRecord> records;
    std::map<std::uint64_t, std::pair<std::uint64_t, ChainHash>> batches;  // first → (end, hash)
    std::uint64_t next_seq = 0;
    ChainHash head{};
  };
  struct Conn {
    int fd = -1;
    std::thread thread;
  };

  void listen_on(std::uint16_t port);
  void accept_loop();
  void serve(int fd);
  bool handle_batch(int fd, std::string_view batch);

  TestPeerOptions options_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::thread accept_thread_;
  std::mutex conn_mu_;
  std::vector<std::unique_ptr<Conn>> conns_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  PeerStats stats_;
  std::map<std::uint32_t, StreamStore> streams_;
  std::optional<Hello> hello_;
  std::optional<Goodbye> goodbye_;
  bool ack_ = true;
  bool welcome_positions_ = true;
};

}  // namespace blackbox::agent::testing
