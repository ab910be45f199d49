// The agent's counters, registered once in the shared Metrics registry and handed to each
// component by reference. Increment per chunk or per batch, never per line. Also carries the
// agent's Health, so every component that counts can raise a condition too.
#pragma once

#include <atomic>
#include <cstdint>

#include "agent/health.h"
#include "schemas/metrics.h"

namespace blackbox::agent {

struct AgentMetrics {
  explicit AgentMetrics(Metrics& registry);

  using Counter = std::atomic<std::uint64_t>;
  Metrics& registry;
  // inputs
  Counter& lines_read;
  Counter& bytes_read;
  Counter& lines_split;
  Counter& partial_lines;
  Counter& json_lines;
  Counter& files_opened;
  Counter& files_closed;
  Counter& rotations;
  Counter& truncations;
  Counter& read_errors;
  Counter& files_discovered;    // opened on an inotify event (before any glob scan saw them)
  Counter& files_vanished;      // appeared and were gone before they could be opened
  Counter& watch_overflows;     // inotify queue overflows (a rescan follows)
  Counter& compressed_skipped;  // compressed files matched by a glob and not read as text
  Counter& sources_unreadable_episodes;  // episodes of a source that cannot be read
  // spool
  Counter& records_spooled;
  Counter& bytes_spooled;
  Counter& batches_spooled;
  Counter& spool_full_waits;
  Counter& spool_write_errors;
  // shipping
  Counter& batches_sent;
  Counter& bytes_sent;
  Counter& records_acked;
  Counter& batches_acked;
  Counter& resends;
  Counter& connects;
  Counter& reconnects;
  Counter& connect_failures;
  Counter& heartbeats_sent;
  Counter& collector_errors;
  // losses made visible
  Counter& gaps;
  Counter& termination_notices;

  // Sources that cannot be read right now (gauge blackbox_agent_sources_unreadable).
  std::atomic<std::uint64_t> sources_unreadable{0};

  // Conditions served at GET /health (not a Prometheus metric).
  Health health;
};

}  // namespace blackbox::agent
