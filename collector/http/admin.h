// The admin endpoints of the query API (issue 12 items 2 and 4), and the read-only views of
// admin state. Each admin action changes the store at once (synced) and then writes its audit
// record: a LifecycleKind::kAdmin lifecycle event on the affected instance, reason = the action
// ("legal_hold", "release", "reenroll"), detail = {"actor": token name, "peer": client address,
// "forced": bool, ...}, through the collector's one writer thread (IngestWriter AuditRequest),
// like every other lifecycle event.
//
//   POST   /v1/instances/{id}/hold[?force=1]   admin   legal hold on; an instance the
//          collector never heard from is 404 unless force (an id it will see later, or whose
//          records came before the ledger existed)
//   DELETE /v1/instances/{id}/hold             admin   legal hold off (404: unknown and not held)
//   POST   /v1/instances/{id}/reenroll         admin   forget its enrolled key: its next HELLO
//          enrolls again (404: not enrolled)
//   GET    /v1/enrollments                     read    every enrolled instance key
//   GET    /v1/holds                           read    every instance on legal hold
//
// Threads: called on the HTTP worker threads (never the I/O thread); Store calls are
// thread-safe, and an audit waits for the writer's synced commit.
#pragma once

#include <string>
#include <string_view>

#include "collector/http/api.h"
#include "schemas/clock.h"

namespace blackbox::collector {
class IngestWriter;
}

namespace blackbox::collector::http {

// Who asked: the token's name ("" when the API has no tokens) and the client address.
struct Caller {
  std::string name;
  std::string peer;
};

class AdminApi {
 public:
  // `store` nullptr: every admin action answers 503 (a read-only API). `writer` nullptr: audit
  // records are committed directly — only when no ingest writer runs (tests of the Api alone).
  AdminApi(const Store& reader, Store* store, IngestWriter* writer, const Clock& clock)
      : reader_(reader), store_(store), writer_(writer), clock_(clock) {}

  ApiResponse hold(const std::string& id, bool on, bool force, const Caller& caller) const;
  ApiResponse reenroll(const std::string& id, const Caller& caller) const;
  ApiResponse enrollments() const;
  ApiResponse holds() const;

 private:
  const Store& reader_;
  Store* store_;
  IngestWriter* writer_;
  const Clock& clock_;
};

}  // namespace blackbox::collector::http
