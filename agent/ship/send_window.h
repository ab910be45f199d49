// The shipper's per-connection bookkeeping and decisions, free of I/O so that tests drive it
// with a ManualClock (PROTOCOL.md §5): which batches are in flight (a window by count and by
// bytes), which part of an ACK to trust (never more than this connection sent: a confused
// collector must not make the agent delete what it never received), when a rejected batch is
// given up (rejected twice in a row: dropped, reported as a gap), and when a connection has
// gone too long without an ACK. Not thread-safe: the shipper's network thread owns it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "schemas/batch.h"
#include "schemas/clock.h"
#include "schemas/result.h"

namespace blackbox::agent {

// One batch sent and not yet acknowledged.
struct InFlight {
  std::uint32_t stream = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t end_seq = 0;  // exclusive
  std::uint32_t records = 0;
  std::uint64_t bytes = 0;
};

struct SendWindowOptions {
  std::uint32_t max_batches = 64;
  std::uint64_t max_bytes = 16u << 20;
  std::int64_t ack_timeout_ns = 30'000'000'000;  // in flight and no ACK for this long: stalled
};

// What an ACK did.
struct AckOutcome {
  std::uint64_t trusted_end = 0;  // acknowledge the spool below this (exclusive)
  bool clamped = false;           // the ACK claimed more than was sent: cut to what was
  std::uint64_t claimed_end = 0;  // what the ACK claimed (exclusive)
  std::uint64_t batches = 0;      // in-flight batches it completed
  std::uint64_t records = 0;
};

class SendWindow {
 public:
  // `clock` must outlive the window.
  SendWindow(SendWindowOptions options, const Clock& clock);

  // A batch-level rejection code: the bytes of one batch are bad and resending them cannot
  // help (as opposed to a connection-level refusal: credentials, identity, protocol).
  static bool is_batch_rejection(Errc e);

  // A new connection: nothing in flight and nothing sent on it yet; the ACK timer starts now.
  // Resend counting and a pending rejection survive (they span connections).
  void start_session();
  // Another batch may be sent: fewer than max_batches in flight and under max_bytes.
  bool has_room() const;
  // Batch `h` (`bytes` long) was sent. Returns true when it was sent before (a resend).
  bool on_sent(const BatchHeader& h, std::uint64_t bytes);
  // An ACK: the collector holds `stream` up to `highest_seq` (inclusive; UINT64_MAX: nothing
  // yet, ignored → nullopt). Completes the batches it covers, restarts the ACK timer, clears a
  // pending rejection it covers.
  std::optional<AckOutcome> on_ack(std::uint32_t stream, std::uint64_t highest_seq);
  // The collector rejected a batch (is_batch_rejection) with batches in flight: the oldest is
  // the likely culprit. Returns it when it was also the one rejected the last time: give it
  // up (acknowledge locally, report a gap). Nothing in flight: nullopt.
  std::optional<InFlight> on_rejection();
  // Batches are in flight and no ACK came for ack_timeout: the connection is stalled.
  bool ack_overdue() const;

  std::size_t in_flight() const { return in_flight_.size(); }
  std::uint64_t in_flight_bytes() const { return in_flight_bytes_; }
  // Highest end (exclusive) sent on this connection for `stream`; 0 if none.
  std::uint64_t sent_end(std::uint32_t stream) const;

 private:
  using SeqEnds = std::vector<std::pair<std::uint32_t, std::uint64_t>>;

  SendWindowOptions options_;
  const Clock& clock_;
  std::deque<InFlight> in_flight_;
  std::uint64_t in_flight_bytes_ = 0;
  std::int64_t last_progress_ns_ = 0;
  SeqEnds session_sent_end_;  // this connection
  SeqEnds max_sent_end_;      // every connection: resends
  std::optional<InFlight> suspect_;
  int suspect_rejections_ = 0;
};

}  // namespace blackbox::agent
