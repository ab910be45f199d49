// Wires the agent's parts together for one run and sequences its life: recover the spool,
// start the pipeline (inputs → spool) and the shipper (spool → collector), the metrics and
// control endpoints, write the lifecycle records, wait for a signal, and on SIGTERM run the
// last gasp (DESIGN.md contract 7) within shutdown_deadline. Holds no logic of the parts.
#pragma once

#include "agent/config.h"

namespace blackbox::agent {

// Runs the agent until SIGTERM/SIGINT (which the caller must have blocked in every thread).
// Returns the process exit code: 0 after a last gasp, 1 when it cannot start, 3 on a fatal
// error (failed fsync).
int run_agent(const Config& config, const char* version);

}  // namespace blackbox::agent
