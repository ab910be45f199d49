#include "collector/ingest/ingest_writer.h"

#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <bit>
#include <chrono>
#include <cstring>

#include "collector/store/codec.h"
#include "collector/store/keys.h"
#include "collector/store/store_internals.h"
#include "schemas/bytes.h"

namespace blackbox::collector {

using keys::Cf;

namespace {

// Offset of the chain hash in a batch header (schemas/batch.h).
constexpr std::size_t kBatchHashOffset = 84;

rocksdb::Slice sl(std::string_view s) { return {s.data(), s.size()}; }

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
    : store_(store),
      db_(store.internals()),
      clock_(clock),
      options_(options),
      ledger_(store.internals(), clock, options.ledger) {
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
  auto lat = latency_;
  m.gauge("blackbox_collector_write_latency_seconds{quantile=\"0.5\"}",
          "Group-commit write latency (bucket upper bound)",
          [lat] { return lat->quantile_seconds(0.5); });
  m.gauge("blackbox_collector_write_latency_seconds{quantile=\"0.99\"}",
          "Group-commit write latency (bucket upper bound)",
          [lat] { return lat->quantile_seconds(0.99); });
}

Result<std::unique_ptr<IngestWriter>> IngestWriter::start(Store& store, const Clock& clock,
                                                          Metrics& metrics, WriterOptions options) {
  std::unique_ptr<IngestWriter> w(new IngestWriter(store, clock, metrics, options));
  if (auto ok = w->ledger_.load(); !ok) return ok.error();
  w->ingest_seq_ = store.last_ingest_seq();
  {
    std::string v;
    auto st = w->db_.db()->Get({}, w->db_.cf(Cf::kMeta), sl(keys::kFleetSpanKey), &v);
    if (st.ok() && v.size() == 8) w->fleet_max_span_ = bytes::load_le<std::int64_t>(v.data());
  }
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

std::size_t IngestWriter::queued_requests() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void IngestWriter::submit(WriteRequest&& request, Completion&& done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queued_bytes_ += request_bytes(request);
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
      queued_bytes_ -= bytes;
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
  rocksdb::WriteBatch wb;
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
  if (wb.Count() == 0) return;

  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  const auto t0 = std::chrono::steady_clock::now();
  auto st = db_.db()->Write(wo, &wb);
  const auto us = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  c_.groups->fetch_add(1, std::memory_order_relaxed);
  c_.write_us->fetch_add(us, std::memory_order_relaxed);
  latency_->record(us);
  if (!st.ok()) {
    // Durability unknown: never acknowledge, stop (STYLE.md §4 "fatal").
    spdlog::critical("ingest: RocksDB write of {} requests failed: {}; refusing further writes",
                     group.size(), st.ToString());
    c_.write_errors->fetch_add(1);
    failed_ = true;
    for (auto& p : group) p.outcome = rejected(Errc::kFsyncFailed, "collector storage failed");
    if (on_fatal_) on_fatal_();
    return;
  }
  db_.publish_ingest_seq(ingest_seq_);
  c_.records->fetch_add(records, std::memory_order_relaxed);
  c_.batches->fetch_add(batches, std::memory_order_relaxed);
  c_.bytes->fetch_add(bytes, std::memory_order_relaxed);
}

void IngestWriter::apply(Pending& p, rocksdb::WriteBatch& wb) {
  WriteOutcome& out = p.outcome;
  std::visit(
      [&](auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, HelloRequest>) {
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
        } else {
          ledger_.tick(wb);
        }
      },
      p.request);
}

void IngestWriter::apply_batch(BatchRequest& r, WriteOutcome& out, rocksdb::WriteBatch& wb) {
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
  const std::string key = keys::batch_key(r.instance, h.stream, h.first_seq);
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
      rocksdb::PinnableSlice v;
      auto st = db_.db()->Get({}, db_.cf(Cf::kBatches), key, &v);
      if (st.ok() && v.size() >= kBatchHashOffset + 32) {
        ChainHash hh;
        std::memcpy(hh.data(), v.data() + kBatchHashOffset, hh.size());
        stored = hh;
      } else if (!st.ok() && !st.IsNotFound()) {
        out = rejected(status_errc(st, "duplicate check"), "collector storage read failed");
        return;
      }
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
    auto st = wb.Put(db_.cf(Cf::kGaps), keys::gap_key(r.instance, h.stream, g.from_seq),
                     codec::encode_gap(g));
    if (!st.ok()) spdlog::error("ingest: gap: {}", st.ToString());
    e->info.gaps += 1;
    e->info.gap_records += g.to_seq - g.from_seq;
    c_.gaps->fetch_add(1, std::memory_order_relaxed);
    c_.gap_records->fetch_add(g.to_seq - g.from_seq, std::memory_order_relaxed);
    spdlog::warn("ingest: instance {} stream {}: gap [{}, {})", r.instance, h.stream, g.from_seq,
                 g.to_seq);
  }
  store_batch(*e, r, wb);
  group_keys_.emplace(key, h.hash);
  StreamHead next{h.stream, h.end_seq(), h.hash, h.first_seq};
  ledger_.put_head(*e, next, wb);
  ack_head(next);
}

void IngestWriter::store_batch(Ledger::Entry& e, BatchRequest& r, rocksdb::WriteBatch& wb) {
  const BatchHeader& h = r.batch.header;
  BatchIndexEntry& entry = r.batch.entry;
  entry.instance = r.instance;
  entry.ingest_seq = ++ingest_seq_;
  entry.ingest_time_ns = clock_.wall_ns();

  auto put = [&](Cf cf, const std::string& k, std::string_view v) {
    auto st = wb.Put(db_.cf(cf), k, sl(v));
    if (!st.ok()) spdlog::error("ingest: put {}: {}", keys::cf_name(cf), st.ToString());
  };
  put(Cf::kBatches, keys::batch_key(r.instance, h.stream, h.first_seq), r.batch.bytes);
  std::string v;
  codec::encode_index_entry(v, entry, /*with_words=*/true);
  put(Cf::kTimeIndex, keys::time_index_key(r.instance, h.min_time_ns, h.stream, h.first_seq), v);
  v.clear();
  codec::encode_index_entry(v, entry, /*with_words=*/false);
  put(Cf::kFleetTime, keys::fleet_time_key(h.min_time_ns, r.instance, h.stream, h.first_seq), v);
  v.clear();
  codec::encode_ingest_ref(v, entry);
  put(Cf::kIngestLog, keys::ingest_log_key(entry.ingest_seq), v);
  for (const auto& s : r.batch.snapshots)
    put(Cf::kSnapshots, keys::snapshot_key(r.instance, s.time_ns, s.seq),
        codec::encode_snapshot_ref(s.batch_first_seq));
  for (const auto& n : r.batch.notices)
    ledger_.on_termination_notice(e, n.time_ns, n.seq, n.reason, wb);

  InstanceInfo& info = e.info;
  info.records += h.record_count;
  info.batches += 1;
  info.stored_bytes += r.batch.bytes.size();
  info.min_event_ns = std::min(info.min_event_ns, h.min_time_ns);
  info.max_event_ns = std::max(info.max_event_ns, h.max_time_ns);
  // max >= min (the indexer checked every record lies in between); computed unsigned so that
  // extreme times can't overflow.
  const std::uint64_t uspan =
      static_cast<std::uint64_t>(h.max_time_ns) - static_cast<std::uint64_t>(h.min_time_ns);
  const std::int64_t span = static_cast<std::int64_t>(
      std::min<std::uint64_t>(uspan, static_cast<std::uint64_t>(kMaxTime)));
  info.max_batch_span_ns = std::max(info.max_batch_span_ns, span);
  if (span > fleet_max_span_) {
    fleet_max_span_ = span;
    std::string sv;
    bytes::put_le(sv, span);
    put(Cf::kMeta, std::string(keys::kFleetSpanKey), sv);
  }
}

}  // namespace blackbox::collector
