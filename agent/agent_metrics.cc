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
      BLACKBOX_COUNTER(termination_notices, "Termination notices received") {}

#undef BLACKBOX_COUNTER

}  // namespace blackbox::agent
