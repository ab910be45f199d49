#include "agent/agent_metrics.h"

namespace blackbox::agent {

#define BLACKBOX_COUNTER(field, help) \
  field(registry.counter("blackbox_agent_" #field "_total", help))

AgentMetrics::AgentMetrics(Metrics& r)
    : registry(r),
      BLACKBOX_COUNTER(lines_read, "Lines (and line pieces) read from files"),
      BLACKBOX_COUNTER(bytes_read, "Bytes read from files"),
      BLACKBOX_COUNTER(lines_split, "Pieces of lines over max_line_bytes"),
      BLACKBOX_COUNTER(partial_lines, "Lines emitted without a newline (timeout, rotation, exit)"),
      BLACKBOX_COUNTER(json_lines, "Lines parsed as JSON objects"),
      BLACKBOX_COUNTER(files_opened, "Files opened for tailing"),
      BLACKBOX_COUNTER(files_closed, "Files closed (deleted or rotated away, read to the end)"),
      BLACKBOX_COUNTER(rotations, "Files seen rotated away from their path"),
      BLACKBOX_COUNTER(truncations, "Files seen truncated (copytruncate, in place)"),
      BLACKBOX_COUNTER(read_errors, "Failed reads of tailed files"),
      BLACKBOX_COUNTER(files_discovered, "Files opened on an inotify event"),
      BLACKBOX_COUNTER(files_vanished,
                       "Files that appeared and were gone before they could be opened (gaps)"),
      BLACKBOX_COUNTER(watch_overflows, "inotify queue overflows (each followed by a rescan)"),
      BLACKBOX_COUNTER(compressed_skipped, "Compressed files matched by a glob, not read as text"),
      BLACKBOX_COUNTER(sources_unreadable_episodes,
                       "Episodes of a configured source that cannot be read"),
      BLACKBOX_COUNTER(records_spooled, "Records durably appended to the spool"),
      BLACKBOX_COUNTER(bytes_spooled, "Bytes appended to the spool"),
      BLACKBOX_COUNTER(batches_spooled, "Batches appended to the spool"),
      BLACKBOX_COUNTER(spool_full_waits, "Times the spool was full and inputs waited"),
      BLACKBOX_COUNTER(spool_write_errors, "Failed spool appends (retried)"),
      BLACKBOX_COUNTER(batches_sent, "Batch frames sent, resends included"),
      BLACKBOX_COUNTER(bytes_sent, "Batch bytes sent, resends included"),
      BLACKBOX_COUNTER(records_acked, "Records acknowledged by the collector"),
      BLACKBOX_COUNTER(batches_acked, "Batches acknowledged by the collector"),
      BLACKBOX_COUNTER(resends, "Batches sent again after a reconnect"),
      BLACKBOX_COUNTER(connects, "Sessions established (WELCOME received)"),
      BLACKBOX_COUNTER(reconnects, "Sessions established after the first"),
      BLACKBOX_COUNTER(connect_failures, "Failed connection attempts and broken sessions"),
      BLACKBOX_COUNTER(heartbeats_sent, "Heartbeat frames sent"),
      BLACKBOX_COUNTER(collector_errors, "ERROR frames received from the collector"),
      BLACKBOX_COUNTER(gaps, "Gap records written (data known lost: spool damage, truncation)"),
      BLACKBOX_COUNTER(termination_notices, "Termination notices received") {
  registry.gauge("blackbox_agent_sources_unreadable",
                 "Configured sources (files, paths) that cannot be read right now",
                 [this] { return static_cast<double>(sources_unreadable.load()); });
}

#undef BLACKBOX_COUNTER

}  // namespace blackbox::agent
