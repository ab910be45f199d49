// `blackbox-collector enrollments list|reset INSTANCE` (issue 12 item 2): the offline admin view
// of enrolled instance keys, run with the collector stopped (RocksDB allows one process). `reset`
// forgets an instance's key so that its next HELLO enrolls again (a rebuilt server keeping its
// id), and records an "admin" lifecycle event saying so. The running collector's equivalent is
// the query API's admin endpoint.
#pragma once

#include <iosfwd>
#include <string>

#include "collector/config.h"

namespace blackbox::collector {

// Prints one line per enrollment (instance, fingerprint, enrolled time, secret, peer) to `out`.
// Returns the process exit code (0; 1 when the store cannot be opened or read).
int enrollments_list_command(const Config& config, std::ostream& out, std::ostream& err);
// Deletes the enrollment of `instance`. 0; 1 when it has none or the store fails.
int enrollments_reset_command(const Config& config, const std::string& instance, std::ostream& out,
                              std::ostream& err);

}  // namespace blackbox::collector
