// WriterRegistry: one instance, one writer (DESIGN.md contract 5). Two agents that claim the
// same instance id at once (a cloned machine-id) would write two different histories into the
// same (instance, stream, sequence) keys: each would take the other's WELCOME positions as its
// own acknowledgements and drop its spool. So the collector lets one connection at a time write
// an instance, and tells which is which by the HELLO's boot id and hostname:
//
//   - no live writer: the connection becomes the writer;
//   - a live writer from the same boot and host: the new connection replaces it (the agent
//     reconnected and the old connection is stale); the old one is evicted;
//   - a live writer from another boot or host: refused, with a message naming the writer;
//   - a boot that was refused while the writer proved alive afterwards (it sent a frame after
//     the refusal) is a second machine, not a reboot waiting for its stale connection to time
//     out: it stays refused after the writer leaves, so that it does not take the other
//     machine's positions for its own. Only a new instance id (or a collector restart: this
//     memory is not persisted) lets it in.
//
// Threads: any; one mutex. Callbacks (evict) are called without the lock held.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace blackbox::collector {

// Who a connection says it is (from its HELLO) and where it comes from.
struct WriterIdentity {
  std::string boot_id;
  std::string hostname;
  std::string agent_version;
  std::string peer;  // address:port
};

class WriterRegistry {
 public:
  // A connection claiming an instance. `frames` counts the frames it received (liveness: read
  // by the registry); `evict` asks it to close (called at most once, any thread).
  struct Claimant {
    std::uint64_t connection = 0;  // unique per connection
    WriterIdentity identity;
    std::shared_ptr<const std::atomic<std::uint64_t>> frames;
    std::function<void()> evict;
  };

  // Makes `c` the writer of `instance`, or says why not: an empty string when granted, else
  // the refusal message for the ERROR frame (what went wrong, what to do).
  std::string claim(const std::string& instance, Claimant c);
  // `connection` no longer writes `instance` (no-op unless it is the writer). Idempotent.
  void release(const std::string& instance, std::uint64_t connection);

 private:
  struct Refused {
    std::uint64_t writer = 0;         // the writer's connection when refused
    std::uint64_t writer_frames = 0;  // its frame count then
  };
  struct Entry {
    std::optional<Claimant> writer;
    std::map<std::string, Refused> refused;  // boot → while a writer was live
    std::set<std::string> contested;         // boots proven to be another machine
    std::string contested_by;                // the writer that proved it (for the message)
  };
  static std::string key(const WriterIdentity& id) { return id.boot_id + '\n' + id.hostname; }
  // Moves refusals the leaving writer outlived into `contested`.
  static void settle(Entry& e);

  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

// "boot B (host H, agent V, from P)"
std::string describe(const WriterIdentity& id);

}  // namespace blackbox::collector
