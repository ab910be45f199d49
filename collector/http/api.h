// Api: the query API's routing, parameter checking and answers, without any networking (the
// HttpServer feeds it; tests call it directly). It maps each request onto the query engine
// (collector/query/) and the engine's typed results onto JSON; it holds no query logic.
// Every endpoint is documented in query/README.md. Errors are {"error":{"code","message"}}
// with a status code:
//   400 bad_parameter | bad_time | bad_regex | bad_cursor   404 not_found
//   405 method_not_allowed   500 internal | storage_error   503 busy (HttpServer)
// Thread-safe: handle() may run on several worker threads at once (each call builds its own
// filter and decompressor; the Store is thread-safe).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "collector/query/records_page.h"
#include "collector/query/scan_pool.h"
#include "collector/store/store.h"
#include "collector/store/window_time.h"
#include "schemas/clock.h"
#include "schemas/limits.h"
#include "schemas/metrics.h"

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
};

// Logs and counts the damaged batches answers skipped, each once (api.cc).
class UnreadableLog;

class Api {
 public:
  Api(const Store& store, Metrics& metrics, ApiOptions options, const Clock& clock);
  ~Api();

  ApiResponse handle(std::string_view method, std::string_view target) const;

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
};

}  // namespace blackbox::collector::http
