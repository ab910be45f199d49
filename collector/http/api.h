// Api: the query API's routing, parameter checking and answers, without any networking (the
// HttpServer feeds it; tests call it directly). It maps each request onto the query engine
// (collector/query/) and the engine's typed results onto JSON; it holds no query logic.
// Every endpoint is documented in query/README.md. Errors are {"error":{"code","message"}}
// with a status code:
//   400 bad_parameter | bad_time | bad_regex | bad_cursor   404 not_found
//   401 unauthorized (no or unknown bearer token; WWW-Authenticate: Bearer)   403 forbidden
//   (a read token on an admin action)   405 method_not_allowed   500 internal | storage_error
//   503 busy (HttpServer) | read_only
// Access control (access.h): with a TokenTable every endpoint but GET /v1/health needs a
// bearer token, `read` for queries and /metrics, `admin` for the admin actions (admin.h);
// each refusal is logged (method, path, peer, token name — never the token; at most
// kDenialLogBurst lines a minute, then a count) and counted
// (blackbox_query_auth_denied_total{reason="missing_token"|"bad_token"|"forbidden"}).
// Thread-safe: handle() may run on several worker threads at once (each call builds its own
// filter and decompressor; the Store is thread-safe).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "collector/http/access.h"
#include "collector/query/records_page.h"
#include "collector/query/scan_pool.h"
#include "collector/store/store.h"
#include "collector/store/window_time.h"
#include "schemas/clock.h"
#include "schemas/limits.h"
#include "schemas/metrics.h"

namespace blackbox::collector {
class IngestWriter;
}

namespace blackbox::collector::http {

struct ApiOptions {
  // Per answer: records (the largest `limit`), approximate JSON bytes, wall time.
  query::PageLimits page{10'000, 8u << 20, std::chrono::seconds(2)};
  std::size_t default_page_records = 1000;  // `limit` when absent
  std::size_t max_tail = 10'000;            // largest `tail`
  std::uint32_t max_context = 100;          // largest `before` / `after`
  std::chrono::milliseconds default_follow_wait{20'000};
  std::chrono::milliseconds max_follow_wait{60'000};
  Limits limits;  // wire limits for decoding stored batches
  // Threads that help a grep decompress batches in parallel (shared by all queries); 0 = none.
  unsigned scan_helpers = 1;
  // The collector's storage.time_skew: records further from their read time are windowed by
  // read time and flagged "time_skewed" (collector/store/window_time.h).
  std::int64_t time_skew_ns = kDefaultTimeSkewNs;
  // Bearer tokens (access.h); nullptr = no access control (collector_http.h allows that only
  // on a loopback address, or with --insecure).
  std::shared_ptr<const TokenTable> tokens;
  // The admin endpoints (admin.h) write through these: the collector's store (nullptr = admin
  // actions answer 503) and its ingest writer for the audit records (nullptr = committed
  // directly: only when no writer runs, as in tests of the Api alone).
  Store* admin_store = nullptr;
  IngestWriter* audit_writer = nullptr;
};

// One request as the HttpServer read it.
struct ApiRequest {
  std::string_view method;
  std::string_view target;
  std::string_view authorization;  // the Authorization header, "" when absent
  std::string_view peer;           // client address (logs, audit records)
};

struct ApiResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Long poll (follow): nothing new yet. The caller may ask again with the same target once
  // the store's ingest position passes `poll_after` (Store::wait_for_ingest), until
  // `poll_wait` has passed since the first call, then send this (empty) answer.
  bool poll_again = false;
  std::chrono::milliseconds poll_wait{0};
  std::uint64_t poll_after = 0;
  std::string www_authenticate;  // sent as WWW-Authenticate when set (401)
};

// Logs and counts the damaged batches answers skipped, each once (api.cc).
class UnreadableLog;
// Logs refused requests, rate-limited (api.cc).
class DenialLog;
inline constexpr int kDenialLogBurst = 20;

class Api {
 public:
  Api(const Store& store, Metrics& metrics, ApiOptions options, const Clock& clock);
  ~Api();

  ApiResponse handle(const ApiRequest& request) const;
  // A request without Authorization header from no particular peer (tests).
  ApiResponse handle(std::string_view method, std::string_view target) const {
    return handle(ApiRequest{method, target, {}, {}});
  }

  const ApiOptions& options() const { return options_; }
  const Store& store() const { return store_; }

 private:
  struct Counters {
    std::atomic<std::uint64_t>* requests;
    std::atomic<std::uint64_t>* client_errors;
    std::atomic<std::uint64_t>* server_errors;
    std::atomic<std::uint64_t>* records_returned;
    std::atomic<std::uint64_t>* batches_read;
    std::atomic<std::uint64_t>* batches_skipped;
    std::atomic<std::uint64_t>* raw_bytes_scanned;
  };

  const Store& store_;
  Metrics& metrics_;
  ApiOptions options_;
  const Clock& clock_;
  Counters counters_;
  std::unique_ptr<query::ScanPool> pool_;
  std::unique_ptr<UnreadableLog> unreadable_log_;
  std::unique_ptr<DenialLog> denial_log_;
};

}  // namespace blackbox::collector::http
