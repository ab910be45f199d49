#include "agent/pipeline/pipeline.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "schemas/streams.h"

namespace blackbox::agent {

Pipeline::Pipeline(PipelineOptions options, Spool& spool, const RecoveryReport& recovered,
                   AgentMetrics& metrics, const Clock& clock)
    : options_(std::move(options)),
      spool_(spool),
      metrics_(metrics),
      clock_(clock),
      input_(options_.files, recovered.state.files, recovered.fresh, metrics),
      cutter_(options_.cutter, pool_, metrics),
      sealer_(recovered.state, options_.compression_level) {}

Pipeline::~Pipeline() { stop(); }

void Pipeline::start() {
  writer_thread_ = std::thread([this] { writer_loop(); });
  sealer_thread_ = std::thread([this] { sealer_loop(); });
  // inotify discovery wakes the input loop as soon as a file appears (issue 10 item 1).
  input_.watch([this] {
    std::lock_guard lock(mu_);
    input_cv_.notify_all();
  });
  input_thread_ = std::thread([this] { input_loop(); });
}

void Pipeline::stop() {
  stopping_ = true;
  {
    std::lock_guard lock(mu_);
    input_cv_.notify_all();
  }
  cut_queue_.close();
  sealed_queue_.close();
  spool_.cancel_waits();
  {
    std::lock_guard lock(durable_mu_);
    durable_cv_.notify_all();
  }
  if (input_thread_.joinable()) input_thread_.join();
  input_.unwatch();  // its thread wakes us through mu_: ends before our members do
  if (sealer_thread_.joinable()) sealer_thread_.join();
  if (writer_thread_.joinable()) writer_thread_.join();
}

void Pipeline::fail(std::string_view what) {
  spdlog::critical("pipeline: {}: stopping; nothing after this point is acknowledged", what);
  failed_ = true;
  stopping_ = true;
  cut_queue_.close();
  sealed_queue_.close();
  std::lock_guard lock(durable_mu_);
  durable_cv_.notify_all();
}

std::uint64_t Pipeline::submit(CutBatch batch, TimePoint deadline) {
  std::unique_lock<std::timed_mutex> lock(submit_mu_, std::defer_lock);
  if (deadline == TimePoint::max()) {
    lock.lock();
  } else if (!lock.try_lock_until(deadline)) {
    return 0;
  }
  batch.ticket = last_ticket_ + 1;
  const bool queued = deadline == TimePoint::max()
                          ? cut_queue_.push(std::move(batch))
                          : cut_queue_.push_until(std::move(batch), deadline);
  if (!queued) return 0;
  return last_ticket_.fetch_add(1) + 1;
}

std::uint64_t Pipeline::append_record(std::uint32_t stream, RecordKind kind, Severity severity,
                                      std::string_view source, std::string_view body,
                                      TimePoint deadline) {
  if (stopping_) return 0;
  CutBatch batch;
  batch.stream = stream;
  batch.builder = pool_.get();
  RecordData r;
  r.kind = kind;
  r.severity = severity;
  r.event_time_ns = r.read_time_ns = clock_.wall_ns();
  r.source = source;
  r.line = body;
  batch.builder->add(r);
  if (kind == RecordKind::kGap) metrics_.gaps.fetch_add(1, std::memory_order_relaxed);
  auto ticket = submit(std::move(batch), deadline);
  if (ticket == 0)
    spdlog::warn("pipeline: a {} record could not be queued in time (spool full?)",
                 kind_name(kind));
  return ticket;
}

void Pipeline::cut(bool with_positions) {
  CutBatch batch;
  batch.stream = kStreamLogs;
  if (!cutter_.empty()) batch.builder = cutter_.take();
  if (with_positions) {
    batch.positions.emplace();
    input_.encode_positions(*batch.positions);
  }
  submit(std::move(batch));
}

void Pipeline::input_loop() {
  std::int64_t next_scan = 0;
  auto after_read = [this] {
    if (cutter_.full()) cut(true);
  };
  while (!stopping_) {
    std::int64_t steady = clock_.steady_ns();
    std::int64_t wall = clock_.wall_ns();
    cutter_.set_now(steady);
    if (steady >= next_scan) {
      input_.scan(cutter_, wall, steady);
      next_scan = steady + options_.glob_interval_ns;
    }
    input_.discover(cutter_, wall, steady);
    std::uint64_t bytes = input_.poll(cutter_, read_buffer_, wall, steady, after_read);

    bool flush, drain;
    {
      std::lock_guard lock(mu_);
      flush = flush_requested_;
      drain = drain_requested_;
    }
    if (drain) {
      // Files that appeared since the last scan count too: the last gasp reads what exists.
      input_.scan(cutter_, clock_.wall_ns(), clock_.steady_ns());
      input_.discover(cutter_, clock_.wall_ns(), clock_.steady_ns());
      input_.drain(cutter_, read_buffer_, clock_.wall_ns(), clock_.steady_ns(), after_read);
      cut(true);
      std::lock_guard lock(mu_);
      flushed_ticket_ = last_ticket_.load();
      inputs_drained_ = true;
      flush_requested_ = drain_requested_ = false;
      ++flush_generation_;
      input_cv_.notify_all();
      return;  // inputs stop here: nothing read after the last gasp
    }
    const bool dirty = input_.take_positions_dirty();
    if (cutter_.due(clock_.steady_ns()) || (flush && !cutter_.empty()) || dirty) cut(true);
    if (flush) {
      std::lock_guard lock(mu_);
      flushed_ticket_ = last_ticket_.load();
      flush_requested_ = false;
      ++flush_generation_;
      input_cv_.notify_all();
    }
    if (bytes == 0) {
      std::unique_lock lock(mu_);
      input_cv_.wait_for(lock, std::chrono::nanoseconds(options_.poll_interval_ns), [&] {
        return stopping_ || flush_requested_ || drain_requested_ || input_.discovery_pending();
      });
    }
  }
}

void Pipeline::sealer_loop() {
  while (true) {
    auto in = cut_queue_.pop_for(std::chrono::hours(24));
    if (!in) {
      if (cut_queue_.closed()) break;
      continue;
    }
    auto entry = free_entries_.pop_for(std::chrono::seconds(0));
    SealedEntry out = entry ? std::move(*entry) : SealedEntry{};
    if (auto r = sealer_.seal(*in, out); !r) {
      fail("sealer: cannot seal a batch: " + r.error().message());
      break;
    }
    pool_.put(std::move(in->builder));
    if (!sealed_queue_.push(std::move(out))) break;
  }
  sealed_queue_.close();
}

void Pipeline::writer_loop() {
  std::vector<SealedEntry> group;
  std::vector<SpoolAppend> appends;
  std::int64_t last_sync = clock_.steady_ns();
  while (true) {
    group.clear();
    sealed_queue_.pop_all_for(group, std::chrono::nanoseconds(options_.fsync_interval_ns));
    if (group.empty()) {
      if (sealed_queue_.closed()) break;
    }
    if (options_.fsync == FsyncPolicy::kInterval &&
        clock_.steady_ns() - last_sync >= options_.fsync_interval_ns) {
      if (auto s = spool_.sync(); !s) {
        fail("spool: fdatasync failed");
        return;
      }
      last_sync = clock_.steady_ns();
    }
    if (group.empty()) {
      spool_full_check_end();
      continue;
    }
    appends.clear();
    std::uint64_t bytes = 0, records = 0, batches = 0;
    for (const auto& e : group) {
      appends.push_back(SpoolAppend{e.batch, e.checkpoint, e.stream, e.end_seq});
      bytes += Spool::entry_bytes(appends.back());
      records += e.records;
      batches += e.batch.empty() ? 0 : 1;
    }
    // Back-pressure: while the spool is full, everything upstream waits (files included).
    // A group that does not fit goes one entry at a time, so the cap holds whatever it is.
    const std::size_t step = spool_.fits(bytes) ? appends.size() : 1;
    for (std::size_t i = 0; i < appends.size(); i += step) {
      std::span<const SpoolAppend> part(appends.data() + i, std::min(step, appends.size() - i));
      std::uint64_t part_bytes = 0;
      for (const auto& a : part) part_bytes += Spool::entry_bytes(a);
      if (!spool_.fits(part_bytes)) {
        metrics_.spool_full_waits.fetch_add(1, std::memory_order_relaxed);
        spool_full_begins("it holds spool.max_bytes", part);
      }
      if (!spool_.wait_for_space(part_bytes, stopping_)) return;  // stopping
      if (!append_with_retry(part)) return;
    }
    spool_full_check_end();
    if (on_spooled_) {
      for (const auto& e : group)
        if (auto head = batch_chain_hash(e.batch); !e.batch.empty() && head)
          on_spooled_(e.stream, e.end_seq, *head);
    }
    metrics_.records_spooled.fetch_add(records, std::memory_order_relaxed);
    metrics_.bytes_spooled.fetch_add(bytes, std::memory_order_relaxed);
    metrics_.batches_spooled.fetch_add(batches, std::memory_order_relaxed);
    {
      std::lock_guard lock(durable_mu_);
      durable_ticket_ = group.back().ticket;
      durable_cv_.notify_all();
    }
    // Recycled entries keep their buffers' capacity; past the free list's size they are freed.
    for (auto& e : group) free_entries_.try_push(e);
  }
}

bool Pipeline::append_with_retry(std::span<const SpoolAppend> part) {
  for (int attempt = 0;; ++attempt) {
    std::size_t done = 0;
    auto r = spool_.append(part, &done);
    if (r) {
      if (append_failing_) spdlog::warn("spool: appends work again after {} attempts", attempt + 1);
      append_failing_ = false;
      return true;
    }
    part = part.subspan(done);  // never append an entry twice
    if (to_errc(r.error()) == Errc::kFsyncFailed) {
      fail("spool: fdatasync failed");
      return false;
    }
    metrics_.spool_write_errors.fetch_add(1, std::memory_order_relaxed);
    if (to_errc(r.error()) == Errc::kDiskFull) {
      spool_full_begins("its disk is full", part);
    } else if (!append_failing_) {
      append_failing_ = true;
      spdlog::error("spool: append failed ({}); inputs wait, retrying every second",
                    r.error().message());
    }
    std::unique_lock lock(mu_);
    input_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_.load(); });
    if (stopping_) return false;
  }
}

void Pipeline::spool_full_begins(std::string_view cause, std::span<const SpoolAppend> waiting) {
  if (spool_full_) return;
  spool_full_ = true;
  spool_full_since_ns_ = clock_.steady_ns();
  std::uint64_t bytes = 0;
  for (const auto& a : waiting) bytes += Spool::entry_bytes(a);
  const std::string message = fmt::format(
      "spool full: {}; {} bytes spooled (spool.max_bytes {}), {} bytes free on its disk; "
      "{} entries ({} bytes) and the inputs behind them wait, nothing is dropped; writing "
      "resumes by itself as the collector acknowledges or space returns",
      cause, spool_.bytes(), spool_.max_bytes(), spool_.free_disk_bytes(), waiting.size(), bytes);
  spdlog::warn("spool: {}", message);
  metrics_.health.set("spool_full", Health::Level::kDegraded, message, clock_.wall_ns());
}

void Pipeline::spool_full_check_end() {
  if (!spool_full_ || !spool_.has_headroom()) return;
  spool_full_ = false;
  spdlog::warn("spool: no longer full after {} ms; inputs resumed ({} bytes spooled, {} bytes free)",
               (clock_.steady_ns() - spool_full_since_ns_) / 1'000'000, spool_.bytes(),
               spool_.free_disk_bytes());
  metrics_.health.clear("spool_full");
}

bool Pipeline::wait_durable(std::uint64_t ticket, TimePoint deadline) {
  std::unique_lock lock(durable_mu_);
  return durable_cv_.wait_until(lock, deadline, [&] {
    return durable_ticket_ >= ticket || failed_.load();
  }) && !failed_;
}

bool Pipeline::flush(TimePoint deadline) {
  std::uint64_t ticket;
  {
    std::unique_lock lock(mu_);
    if (inputs_drained_) {
      ticket = last_ticket_.load();
    } else {
      const std::uint64_t gen = flush_generation_;
      flush_requested_ = true;
      input_cv_.notify_all();
      if (!input_cv_.wait_until(lock, deadline,
                                [&] { return flush_generation_ != gen || stopping_; }))
        return false;
      if (stopping_) return false;
      ticket = flushed_ticket_;
    }
  }
  return wait_durable(ticket, deadline);
}

bool Pipeline::drain_inputs(TimePoint deadline) {
  std::uint64_t ticket;
  {
    std::unique_lock lock(mu_);
    if (!inputs_drained_) {
      drain_requested_ = true;
      input_cv_.notify_all();
      if (!input_cv_.wait_until(lock, deadline, [&] { return inputs_drained_ || stopping_; }))
        return false;
      if (stopping_) return false;
    }
    ticket = flushed_ticket_;
  }
  return wait_durable(ticket, deadline);
}

}  // namespace blackbox::agent
