// Serves the agent's metrics in the Prometheus text format at GET /metrics, and its Health as
// JSON at GET /health (200 unless a condition is failing, then 503), over plain HTTP
// (Boost.Beast, on its own small thread). Meant for 127.0.0.1: it has no authentication.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agent/health.h"
#include "schemas/metrics.h"
#include "schemas/result.h"

namespace blackbox::agent {

class MetricsServer {
 public:
  // Binds `listen` (HOST:PORT; port 0 picks one) and starts serving `registry` and `health`,
  // which must outlive the server. Logs "metrics listening on HOST:PORT". Errors: kInvalidArgument
  // (address), kIo (bind).
  [[nodiscard]] static Result<std::unique_ptr<MetricsServer>> start(const std::string& listen,
                                                                    const Metrics& registry,
                                                                    const Health& health);
  ~MetricsServer();
  std::uint16_t port() const;

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace blackbox::agent
