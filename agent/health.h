// The agent's health: named conditions that components raise while something is wrong and
// clear when it ends (a full spool, an unreadable source, shipping that makes no progress).
// Served as JSON at GET /health by the metrics server (200 while nothing is failing, 503
// otherwise), so a load balancer, systemd or a person can see why an agent is unwell.
//
// Thread-safe; set()/clear() are cheap when nothing changes, but still take a mutex: call them
// on state changes (an episode starting or ending), never per line.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace blackbox::agent {

class Health {
 public:
  enum class Level { kOk, kDegraded, kFailing };

  // Raises (or updates) `condition` with a message for a person. `since_ns` (wall clock) is
  // kept from the first set() of an episode.
  void set(std::string_view condition, Level level, std::string message, std::int64_t now_ns);
  // Ends the episode of `condition`; a no-op when it was not raised.
  void clear(std::string_view condition);

  // The worst level raised (kOk when none).
  Level level() const;
  bool is_set(std::string_view condition) const;
  // {"status":"ok"|"degraded"|"failing","conditions":[{"name","level","message","since"}...]}
  // with conditions sorted by name and "since" as UTC ISO 8601.
  std::string to_json() const;

 private:
  struct Condition {
    Level level = Level::kOk;
    std::string message;
    std::int64_t since_ns = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, Condition, std::less<>> conditions_;
};

std::string_view to_string(Health::Level level);

}  // namespace blackbox::agent
