#include "collector/ingest/ingest_writer.h"

#include <spdlog/spdlog.h>

#include <bit>
#include <chrono>

namespace blackbox::collector {

namespace {

std::size_t request_bytes(const WriteRequest& r) {
  if (auto* b = std::get_if<BatchRequest>(&r)) return b->batch.bytes.size();
  return 256;
}

WriteOutcome rejected(Errc code, std::string message) {
  WriteOutcome o;
  o.ec = make_error_code(code);
  o.message = std::move(message);
  return o;
}

}  // namespace

void LatencyHistogram::record(std::uint64_t micros) {
  const auto b = std::min<std::size_t>(std::bit_width(micros), buckets.size() - 1);
  buckets[b].fetch_add(1, std::memory_order_relaxed);
}

double LatencyHistogram::quantile_seconds(double q) const {
  std::uint64_t total = 0;
  for (const auto& b : buckets) total += b.load(std::memory_order_relaxed);
  if (total == 0) return 0;
  const auto want = static_cast<std::uint64_t>(q * static_cast<double>(total));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    seen += buckets[i].load(std::memory_order_relaxed);
    if (seen > want) return static_cast<double>(std::uint64_t{1} << i) / 1e6;
  }
  return static_cast<double>(std::uint64_t{1} << (buckets.size() - 1)) / 1e6;
}

IngestWriter::IngestWriter(Store& store, const Clock& clock, Metrics& m, WriterOptions options)
    : store_(store), clock_(clock), options_(options), ledger_(store, clock, options.ledger) {
  c_.records = &m.counter("blackbox_collector_records_stored_total", "Records stored");
  c_.batches = &m.counter("blackbox_collector_batches_stored_total", "Batches stored");
  c_.bytes = &m.counter("blackbox_collector_bytes_stored_total", "Batch bytes stored");
  c_.dup_batches = &m.counter("blackbox_collector_duplicate_batches_total",
                              "Batches received again and not stored twice");
  c_.dup_records = &m.counter("blackbox_collector_duplicate_records_total",
                              "Records received again and not stored twice");
  c_.gaps = &m.counter("blackbox_collector_gaps_total", "Sequence gap ranges recorded");
  c_.gap_records =
      &m.counter("blackbox_collector_gap_records_total", "Sequence numbers in recorded gaps");
  c_.groups = &m.counter("blackbox_collector_write_groups_total", "RocksDB writes (group commits)");
  c_.write_us = &m.counter("blackbox_collector_write_micros_total",
                           "Time spent in RocksDB writes, microseconds");
  c_.write_errors =
      &m.counter("blackbox_collector_write_errors_total", "Failed RocksDB writes (fatal)");
  c_.retryable_errors =
      &m.counter("blackbox_collector_write_retryable_errors_total",
                 "RocksDB writes that failed with a retryable error (disk full, busy, out of file "
                 "descriptors): ingest paused, nothing acknowledged");
  c_.paused_refused = &m.counter("blackbox_collector_ingest_paused_refused_total",
                                 "Requests refused while ingest was paused");
  auto paused = paused_gauge_;
  m.gauge("blackbox_collector_ingest_paused",
          "1 while ingest is paused by a retryable storage error (e.g. data disk full)",
          [paused] { return paused->load() ? 1.0 : 0.0; });
  auto lat = latency_;
  m.gauge("blackbox_collector_write_latency_seconds{quantile=\"0.5\"}",
          "Group-commit write latency (bucket upper bound)",
          [lat] { return lat->quantile_seconds(0.5); });
  m.gauge("blackbox_collector_write_latency_seconds{quantile=\"0.99\"}",
          "Group-commit write latency (bucket upper bound)",
          [lat] { return lat->quantile_seconds(0.99); });
  ledger_.register_metrics(m);
}

Result<std::unique_ptr<IngestWriter>> IngestWriter::start(Store& store, const Clock& clock,
                                                          Metrics& metrics, WriterOptions options) {
  std::unique_ptr<IngestWriter> w(new IngestWriter(store, clock, metrics, options));
  if (auto ok = w->ledger_.load(); !ok) return ok.error();
  w->thread_ = std::thread([p = w.get()] { p->run(); });
  return w;
}

IngestWriter::~IngestWriter() { stop(); }

void IngestWriter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void IngestWriter::submit(WriteRequest&& request, Completion&& done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Pending{std::move(request), std::move(done), {}});
      cv_.notify_one();
      return;
    }
  }
  done(rejected(Errc::kUnavailable, "collector is shutting down"));
}

void IngestWriter::run() {
  std::vector<Pending> group;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      std::size_t bytes = 0;
      while (!queue_.empty() && group.size() < options_.max_group_requests &&
             (group.empty() ||
              bytes + request_bytes(queue_.front().request) <= options_.max_group_bytes)) {
        bytes += request_bytes(queue_.front().request);
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    commit(group);
    for (auto& p : group) p.done(std::move(p.outcome));
    group.clear();
  }
}

void IngestWriter::commit(std::vector<Pending>& group) {
  if (failed_) {
    for (auto& p : group) p.outcome = rejected(Errc::kFsyncFailed, "collector storage failed");
    return;
  }
  if (paused_ != Errc::kOk && !try_resume(group)) return;
  StoreWriteBatch wb = store_.write_batch();
  group_keys_.clear();
  std::uint64_t records = 0, batches = 0, bytes = 0;
  for (auto& p : group) {
    apply(p, wb);
    if (auto* b = std::get_if<BatchRequest>(&p.request);
        b && !p.outcome.ec && !p.outcome.duplicate) {
      records += b->batch.header.record_count;
      batches += 1;
      bytes += b->batch.bytes.size();
    }
  }
  ledger_.flush(wb);
  if (wb.empty()) return;

  const auto t0 = std::chrono::steady_clock::now();
  auto ok = store_.commit(std::move(wb), options_.sync ? CommitSync::kSync : CommitSync::kNoSync);
  const auto us = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  c_.groups->fetch_add(1, std::memory_order_relaxed);
  c_.write_us->fetch_add(us, std::memory_order_relaxed);
  latency_->record(us);
  if (!ok && classify(to_errc(ok.error())) == ErrorClass::kRetryable) {
    pause(group, to_errc(ok.error()));
    return;
  }
  if (!ok) {
    // Durability unknown: never acknowledge, stop (STYLE.md §4 "fatal").
    spdlog::critical("ingest: store commit of {} requests failed: {}; refusing further writes",
                     group.size(), ok.error().message());
    c_.write_errors->fetch_add(1);
    failed_ = true;
    for (auto& p : group) p.outcome = rejected(Errc::kFsyncFailed, "collector storage failed");
    if (on_fatal_) on_fatal_();
    return;
  }
  c_.records->fetch_add(records, std::memory_order_relaxed);
  c_.batches->fetch_add(batches, std::memory_order_relaxed);
  c_.bytes->fetch_add(bytes, std::memory_order_relaxed);
  if (paused_ != Errc::kOk) {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now() - paused_since_)
                          .count();
    spdlog::warn(
        "ingest: storage takes writes again after {} s ({} requests refused meanwhile, "
        "{} bytes free): acknowledging again",
        secs, paused_refused_, store_.health().free_bytes);
    paused_ = Errc::kOk;
    paused_gauge_->store(false);
  }
}

void IngestWriter::pause(std::vector<Pending>& group, Errc e) {
  c_.retryable_errors->fetch_add(1, std::memory_order_relaxed);
  // The group staged changes to the in-memory ledger that never reached the store.
  if (auto ok = ledger_.load(); !ok) {
    spdlog::critical(
        "ingest: reloading the ledger after a failed write: {}; refusing further "
        "writes",
        ok.error().message());
    failed_ = true;
    for (auto& p : group) p.outcome = rejected(Errc::kFsyncFailed, "collector storage failed");
    if (on_fatal_) on_fatal_();
    return;
  }
  if (paused_ == Errc::kOk) {
    const StoreHealth h = store_.health();
    spdlog::error(
        "ingest: PAUSED: {} ({}; {} bytes free of {} on the data dir): nothing is acknowledged; "
        "agents keep their data and retry; queries are still answered",
        e == Errc::kDiskFull ? "the data disk is full" : "storage is busy", h.reason, h.free_bytes,
        h.capacity_bytes);
    paused_since_ = std::chrono::steady_clock::now();
    paused_refused_ = 0;
  }
  paused_ = e;
  paused_gauge_->store(true);
  paused_refused_ += group.size();
  c_.paused_refused->fetch_add(group.size(), std::memory_order_relaxed);
  for (auto& p : group)
    p.outcome = rejected(e, e == Errc::kDiskFull ? "collector data disk full: retry later"
                                                 : "collector storage busy: retry later");
}

bool IngestWriter::try_resume(std::vector<Pending>& group) {
  // Resume() fails fast while the disk is still full; RocksDB may also have resumed on its
  // own (its SstFileManager polls free space), in which case the commit below just works.
  auto ok = store_.resume();
  if (ok || to_errc(ok.error()) == Errc::kBusy) return true;  // Busy: its own recovery runs
  paused_refused_ += group.size();
  c_.paused_refused->fetch_add(group.size(), std::memory_order_relaxed);
  for (auto& p : group)
    p.outcome =
        rejected(paused_, paused_ == Errc::kDiskFull ? "collector data disk full: retry later"
                                                     : "collector storage busy: retry later");
  return false;
}

void IngestWriter::apply(Pending& p, StoreWriteBatch& wb) {
  WriteOutcome& out = p.outcome;
  std::visit(
      [&](auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, HelloRequest>) {
          if (r.enrolled) wb.put_lifecycle(r.hello.instance_id, *r.enrolled);
          out.welcome = ledger_.on_hello(r.hello, wb);
        } else if constexpr (std::is_same_v<T, BatchRequest>) {
          if (r.connection_failed && *r.connection_failed) {
            out = rejected(Errc::kProtocolViolation, "an earlier batch was rejected");
            return;
          }
          apply_batch(r, out, wb);
          if (out.ec && r.connection_failed) *r.connection_failed = true;
        } else if constexpr (std::is_same_v<T, HeartbeatRequest>) {
          if (auto* e = ledger_.find(r.instance)) {
            ledger_.on_seen(*e, wb);
            ledger_.on_heartbeat(*e, r.heartbeat);
          } else {
            out = rejected(Errc::kProtocolViolation, "HEARTBEAT before HELLO");
          }
        } else if constexpr (std::is_same_v<T, GoodbyeRequest>) {
          if (auto* e = ledger_.find(r.instance)) {
            ledger_.on_goodbye(*e, r.goodbye, wb);
          } else {
            out = rejected(Errc::kProtocolViolation, "GOODBYE before HELLO");
          }
        } else if constexpr (std::is_same_v<T, AuditRequest>) {
          wb.put_lifecycle(r.instance, r.event);
          spdlog::info("audit: instance {}: {} {}", r.instance, r.event.reason,
                       r.event.detail_json);
        } else {
          ledger_.tick(wb);
        }
      },
      p.request);
}

// One function on purpose: it is the decision table of collector/README.md ("Ingest
// decisions"), row by row, and reads best top to bottom beside it.
void IngestWriter::apply_batch(BatchRequest& r, WriteOutcome& out, StoreWriteBatch& wb) {
  Ledger::Entry* e = ledger_.find(r.instance);
  if (!e) {
    out = rejected(Errc::kProtocolViolation, "BATCH before HELLO");
    return;
  }
  const BatchHeader& h = r.batch.header;
  auto head_it = e->heads.find(h.stream);
  if (head_it == e->heads.end() && e->heads.size() >= options_.max_streams_per_instance) {
    out = rejected(Errc::kInvalidArgument, "too many streams for one instance (max " +
                                               std::to_string(options_.max_streams_per_instance) +
                                               ")");
    return;
  }
  StreamHead head = head_it != e->heads.end() ? head_it->second : StreamHead{h.stream, 0, {}, 0};
  ledger_.on_seen(*e, wb);
  auto key = std::make_tuple(r.instance, h.stream, h.first_seq);
  auto ack_head = [&](const StreamHead& hd) {
    if (hd.next_seq > 0) out.ack = AckEntry{hd.stream, hd.next_seq - 1};
  };

  if (h.first_seq < head.next_seq) {
    // Below the head: a re-delivery (same key, same hash), or a batch that overlaps stored
    // records. Nothing below the head is ever stored twice.
    std::optional<ChainHash> stored;
    if (auto g = group_keys_.find(key); g != group_keys_.end()) {
      stored = g->second;
    } else {
      auto found = store_.stored_batch_hash(r.instance, h.stream, h.first_seq);
      if (!found) {
        out = rejected(to_errc(found.error()), "collector storage read failed");
        return;
      }
      stored = *found;
    }
    if (stored) {
      if (*stored != h.hash) {
        out = rejected(Errc::kChainMismatch,
                       "batch " + std::to_string(h.first_seq) + " of stream " +
                           std::to_string(h.stream) +
                           " differs from the stored batch with the same first sequence");
        return;
      }
    } else if (h.end_seq() > head.next_seq) {
      out = rejected(Errc::kProtocolViolation,
                     "batch [" + std::to_string(h.first_seq) + "," + std::to_string(h.end_seq()) +
                         ") of stream " + std::to_string(h.stream) +
                         " overlaps stored records below " + std::to_string(head.next_seq) +
                         "; batches are never re-cut");
      return;
    }
    out.duplicate = true;
    c_.dup_batches->fetch_add(1, std::memory_order_relaxed);
    c_.dup_records->fetch_add(h.record_count, std::memory_order_relaxed);
    ack_head(head);
    return;
  }

  if (h.first_seq == head.next_seq) {
    if (h.prev_hash != head.head) {
      out = rejected(Errc::kChainMismatch, "batch " + std::to_string(h.first_seq) + " of stream " +
                                               std::to_string(h.stream) +
                                               ": prev hash is not the stored chain head " +
                                               to_hex(head.head));
      return;
    }
  } else {
    // A hole: the records [next_seq, first_seq) never reached us. Keep it visible; the chain
    // restarts at this batch (its prev hash can't be checked against anything we hold).
    GapRange g{h.stream, head.next_seq, h.first_seq, clock_.wall_ns(),
               "sequence gap: batch starts after the stored head"};
    wb.put_gap(r.instance, g);
    e->info.gaps += 1;
    e->info.gap_records += g.to_seq - g.from_seq;
    c_.gaps->fetch_add(1, std::memory_order_relaxed);
    c_.gap_records->fetch_add(g.to_seq - g.from_seq, std::memory_order_relaxed);
    spdlog::warn("ingest: instance {} stream {}: gap [{}, {})", r.instance, h.stream, g.from_seq,
                 g.to_seq);
  }
  store_batch(*e, r, wb);
  group_keys_.emplace(std::move(key), h.hash);
  StreamHead next{h.stream, h.end_seq(), h.hash, h.first_seq};
  ledger_.put_head(*e, next, wb);
  ack_head(next);
}

void IngestWriter::store_batch(Ledger::Entry& e, BatchRequest& r, StoreWriteBatch& wb) {
  const BatchHeader& h = r.batch.header;
  BatchIndexEntry& entry = r.batch.entry;
  entry.instance = r.instance;
  entry.ingest_time_ns = clock_.wall_ns();
  wb.put_batch(entry, r.batch.bytes);
  for (const auto& s : r.batch.snapshots) wb.put_snapshot(r.instance, s, entry.ingest_time_ns);
  for (const auto& n : r.batch.notices)
    ledger_.on_termination_notice(e, n.time_ns, n.seq, n.reason, wb);
  ledger_.on_agent_gaps(r.batch.gap_reasons);

  InstanceInfo& info = e.info;
  info.records += h.record_count;
  info.batches += 1;
  info.stored_bytes += r.batch.bytes.size();
  info.min_event_ns = std::min(info.min_event_ns, entry.min_time_ns);  // window times
  info.max_event_ns = std::max(info.max_event_ns, entry.max_time_ns);
  info.max_read_ns = std::max(info.max_read_ns, r.batch.max_read_time_ns);
  info.max_batch_span_ns = std::max(info.max_batch_span_ns, entry.time_span_ns());
}

}  // namespace blackbox::collector
