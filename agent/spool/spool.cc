#include "agent/spool/spool.h"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>

#include "agent/spool/segment_format.h"
#include "agent/spool/segment_scanner.h"
#include "schemas/batch.h"

namespace blackbox::agent {

struct Spool::Segment {
  std::uint64_t id = 0;
  std::string path;
  UniqueFd fd;
  std::uint64_t size = 0;      // bytes written (writer) — guarded by mu_ once published
  std::uint64_t readable = 0;  // bytes the shipper may read
  bool sealed = false;         // no more appends
  bool torn = false;           // writer: a failed write left bytes past `size` (repair_tail)
  SeqEnds ends;                // per stream: end (exclusive) of its last batch in here
  std::optional<SpoolIdentity> identity;  // its writer; unknown in a version 1 segment
  std::uint64_t records = 0;              // recovery: records of its batches
};

namespace {

std::string join(const std::string& dir, const std::string& name) { return dir + "/" + name; }

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string empty_checkpoint() {
  std::string cp;
  encode_stream_states(cp, {});
  encode_file_positions(cp, {});
  return cp;
}

// The Result a spool call returns for a failed file operation (errno → Errc).
boost::system::error_code io_error(const boost::system::error_code& ec) {
  return Err(file_errc(ec));
}

}  // namespace

Spool::Spool(SpoolOptions options)
    : options_(std::move(options)),
      ops_(options_.file_ops ? *options_.file_ops : posix_file_ops()),
      quarantine_dir_(options_.dir + "/quarantine") {}

Spool::~Spool() = default;

std::uint64_t Spool::seq_end(const SeqEnds& v, std::uint32_t stream) {
  for (const auto& [s, e] : v)
    if (s == stream) return e;
  return 0;
}

void Spool::raise(SeqEnds& v, std::uint32_t stream, std::uint64_t end) {
  for (auto& [s, e] : v) {
    if (s == stream) {
      e = std::max(e, end);
      return;
    }
  }
  v.emplace_back(stream, end);
}

std::uint64_t Spool::entry_bytes(const SpoolAppend& e) {
  return kEntryHeaderBytes + e.batch.size() + e.checkpoint.size();
}

Result<void> Spool::sync_file(int fd, const std::string& path) {
  if (auto s = ops_.fdatasync(fd); !s) {
    spdlog::critical("spool: {}: fdatasync failed: {}", path, s.error().message());
    return Err(Errc::kFsyncFailed);
  }
  return {};
}

Result<void> Spool::sync_spool_dir() {
  if (auto s = ops_.sync_dir(options_.dir); !s) {
    spdlog::critical("spool: fsync of {} failed: {}", options_.dir, s.error().message());
    return Err(Errc::kFsyncFailed);
  }
  return {};
}

bool Spool::remove_file(const std::string& path, std::string_view what) {
  auto r = ops_.unlink(path);
  if (!r) {
    unlink_failures_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("spool: cannot remove {} {}: {}", what, path, r.error().message());
  }
  return r.has_value();
}

Result<std::unique_ptr<Spool>> Spool::open(const SpoolOptions& options, RecoveryReport& report) {
  std::unique_ptr<Spool> spool(new Spool(options));
  if (auto r = spool->ops_.create_dirs(spool->quarantine_dir_); !r) {
    spdlog::error("spool: cannot create {}: {}", spool->quarantine_dir_, r.error().message());
    return io_error(r.error());
  }
  report = RecoveryReport{};
  if (auto r = spool->recover(report); !r) return r.error();
  return spool;
}

// The ids of the segment files in the spool directory, sorted; stale temporaries removed.
Result<std::vector<std::uint64_t>> Spool::list_segments() {
  auto names = ops_.list_dir(options_.dir);
  if (!names) {
    spdlog::error("spool: cannot list {}: {}", options_.dir, names.error().message());
    return io_error(names.error());
  }
  std::vector<std::uint64_t> ids;
  for (const auto& name : *names) {
    if (auto id = parse_segment_file_name(name)) {
      ids.push_back(*id);
    } else if (name.ends_with(".tmp")) {
      // An interrupted quarantine rewrite (the original remains) or a segment whose creation
      // never completed (nothing was committed to it).
      remove_file(join(options_.dir, name), "stale temporary");
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<void> Spool::recover(RecoveryReport& report) {
  auto ids = list_segments();
  if (!ids) return ids.error();
  std::string last_cp;
  bool last_cp_foreign = false;  // the state comes from another instance's segment
  std::vector<std::shared_ptr<Segment>> found;
  std::vector<std::shared_ptr<Segment>> empty;
  for (std::size_t i = 0; i < ids->size(); ++i) {
    std::size_t batches = 0;
    const std::string cp_before = last_cp;
    auto seg = recover_segment((*ids)[i], i + 1 == ids->size(), last_cp, report, batches);
    if (!seg) return seg.error();
    if (!*seg) continue;  // torn at creation: removed
    if (last_cp != cp_before) last_cp_foreign = foreign(**seg);
    if (batches == 0) {
      empty.push_back(*seg);
      continue;
    }
    if (foreign(**seg)) {
      if (auto r = set_aside(**seg, batches, report); !r) return r;
      continue;
    }
    if (!(*seg)->identity) ++report.unlabelled_segments;
    report.batches += batches;
    found.push_back(*seg);
  }
  if (report.unlabelled_segments > 0)
    spdlog::warn(
        "spool: {} segments come from an agent that did not record who wrote them (format "
        "version 1): shipped as this instance's ({})",
        report.unlabelled_segments, options_.identity.instance_id);
  if (last_cp_foreign && !last_cp.empty()) {
    // Sequence numbers and chain heads are the other instance's: this one starts its own. The
    // file positions stay: the lines before them are in what was set aside.
    auto cp = decode_checkpoint(last_cp);
    last_cp.clear();
    encode_stream_states(last_cp, {});
    encode_file_positions(last_cp, cp->files);
    spdlog::warn(
        "spool: the saved state is another instance's: streams start afresh for {}, file "
        "positions are kept",
        options_.identity.instance_id);
  }

  if (!last_cp.empty()) {
    auto cp = decode_checkpoint(last_cp);
    report.state = std::move(*cp);  // decodable: only such checkpoints were kept
    report.fresh = false;
  } else {
    last_cp = empty_checkpoint();
  }
  for (const auto& seg : found) {
    for (const auto& [s, e] : seg->ends) raise(written_end_, s, e);
    total_bytes_ += seg->size;
    segments_.push_back(seg);
  }
  report.segments = found.size();

  // A fresh active segment carries the state forward; then the old empty ones may go.
  last_checkpoint_ = std::move(last_cp);
  next_id_ = ids->empty() ? 0 : ids->back() + 1;
  if (auto r = roll(); !r) return r.error();
  make_reserve();
  for (const auto& seg : empty) remove_file(seg->path, "empty segment");
  if (!empty.empty()) {
    if (auto r = sync_spool_dir(); !r) return r.error();
  }
  return {};
}

// Opens segment `id`, scans it (the last valid checkpoint goes to `last_cp`, the batch count
// to `batches`) and repairs it: a torn tail of the last segment is truncated, other damage
// quarantined and reported. Returns nullptr when the segment was removed (torn at creation).
Result<std::shared_ptr<Spool::Segment>> Spool::recover_segment(std::uint64_t id, bool last,
                                                               std::string& last_cp,
                                                               RecoveryReport& report,
                                                               std::size_t& batches) {
  auto seg = std::make_shared<Segment>();
  seg->id = id;
  seg->path = join(options_.dir, segment_file_name(id));
  auto fd = ops_.open(seg->path, OpenMode::kReadWrite);
  if (!fd) {
    spdlog::error("spool: segment {}: cannot open: {}", seg->path, fd.error().message());
    return io_error(fd.error());
  }
  seg->fd = std::move(*fd);
  auto visit = [&](std::uint64_t, const EntryHeader& h, std::string_view, std::string_view body) {
    if (h.type == EntryType::kIdentity) {
      if (auto who = decode_spool_identity(body)) seg->identity = std::move(*who);
      return;
    }
    auto cp = body.substr(h.batch_len);
    if (decode_checkpoint(cp)) last_cp.assign(cp);
    if (h.type == EntryType::kBatch) {
      auto bh = parse_batch_header(body.substr(0, h.batch_len));
      if (bh) {
        raise(seg->ends, bh->stream, bh->end_seq());
        seg->records += bh->record_count;
        ++batches;
      }
    }
  };
  auto scan = scan_segment(ops_, seg->fd.get(), visit);
  if (!scan) {
    spdlog::error("spool: segment {}: cannot read: {}", seg->path, scan.error().message());
    return io_error(scan.error());
  }
  if (!scan->damage.empty()) {
    if (last && scan->entries == 0) {
      spdlog::warn("spool: segment {}: nothing valid in its {} bytes (torn at creation); removed",
                   seg->path, scan->file_size);
      report.truncated_bytes += scan->file_size;
      remove_file(seg->path, "torn segment");
      return std::shared_ptr<Segment>();
    }
    if (last && scan->torn_tail_only()) {
      spdlog::warn("spool: segment {}: torn tail of {} bytes at offset {} truncated", seg->path,
                   scan->damage[0].bytes, scan->valid_end);
      if (auto t = ops_.ftruncate(seg->fd.get(), scan->valid_end); !t) {
        spdlog::error("spool: segment {}: cannot truncate: {}", seg->path, t.error().message());
        return io_error(t.error());
      }
      if (auto s = sync_file(seg->fd.get(), seg->path); !s) return s.error();
      report.truncated_bytes += scan->damage[0].bytes;
      scan->file_size = scan->valid_end;
    } else {
      for (const auto& d : scan->damage) {
        spdlog::error(
            "spool: segment {}: {} damaged bytes at offset {}: quarantined, reported as a gap",
            seg->path, d.bytes, d.offset);
        report.damage.push_back({seg->id, d.offset, d.bytes});
      }
      if (auto q = quarantine(*seg); !q) return q.error();
      auto size = ops_.file_size(seg->fd.get());
      if (!size) return io_error(size.error());
      scan->file_size = *size;
    }
  }
  seg->size = seg->readable = scan->file_size;
  seg->sealed = true;
  return seg;
}

bool Spool::foreign(const Segment& seg) const {
  return !options_.identity.instance_id.empty() && seg.identity &&
         !seg.identity->instance_id.empty() &&
         seg.identity->instance_id != options_.identity.instance_id;
}

Result<void> Spool::set_aside(const Segment& seg, std::size_t batches,
                              RecoveryReport& report) {
  std::string name = seg.identity->instance_id;
  std::replace(name.begin(), name.end(), '/', '_');
  if (name == "." || name == "..") name = "_" + name;
  const std::string dir = join(options_.dir + "/foreign", name);
  const std::string to = join(dir, segment_file_name(seg.id));
  if (auto r = ops_.create_dirs(dir); !r) {
    spdlog::error("spool: cannot create {}: {}", dir, r.error().message());
    return io_error(r.error());
  }
  if (auto r = ops_.rename(seg.path, to); !r) {
    spdlog::error("spool: cannot set {} aside as {}: {}", seg.path, to, r.error().message());
    return io_error(r.error());
  }
  if (auto s = ops_.sync_dir(dir); !s) {
    spdlog::critical("spool: fsync of {} failed: {}", dir, s.error().message());
    return Err(Errc::kFsyncFailed);
  }
  if (auto s = sync_spool_dir(); !s) return s.error();
  auto it = std::find_if(report.foreign.begin(), report.foreign.end(), [&](const auto& f) {
    return f.identity.instance_id == seg.identity->instance_id;
  });
  if (it == report.foreign.end()) it = report.foreign.emplace(report.foreign.end());
  it->identity = *seg.identity;
  it->moved_to = dir;
  ++it->segments;
  it->batches += batches;
  it->records += seg.records;
  it->bytes += seg.size;
  return {};
}

// Writes the segment header and every valid entry of `seg` to `out`.
Result<void> Spool::copy_valid_entries(Segment& seg, int out) {
  auto header = make_segment_header(seg.id);
  std::uint64_t offset = 0;
  auto put = [&](std::string_view a, std::string_view b) -> Result<void> {
    struct iovec iov[2] = {{const_cast<char*>(a.data()), a.size()},
                           {const_cast<char*>(b.data()), b.size()}};
    if (auto w = pwrite_all(ops_, out, iov, offset); !w) return w;
    offset += a.size() + b.size();
    return {};
  };
  if (auto w = put(header, {}); !w) return w;
  Result<void> write_status;
  auto copy = [&](std::uint64_t, const EntryHeader&, std::string_view hb, std::string_view body) {
    if (write_status) write_status = put(hb, body);
  };
  auto scan = scan_segment(ops_, seg.fd.get(), copy);
  if (!scan) return scan.error();
  return write_status;
}

Result<void> Spool::quarantine(Segment& seg) {
  const std::string tmp = seg.path + ".tmp";
  auto out = ops_.open(tmp, OpenMode::kCreateTruncate);
  if (!out) {
    spdlog::error("spool: cannot create {}: {}", tmp, out.error().message());
    return io_error(out.error());
  }
  if (auto w = copy_valid_entries(seg, out->get()); !w) {
    spdlog::error("spool: cannot rewrite {} as {}: {}", seg.path, tmp, w.error().message());
    return io_error(w.error());
  }
  if (auto s = sync_file(out->get(), tmp); !s) return s.error();
  // Keep the damaged original for forensics (a hard link: no copy), then replace it.
  const std::string kept =
      join(quarantine_dir_, segment_file_name(seg.id) + "." + std::to_string(now_ns()));
  if (auto l = ops_.link(seg.path, kept); !l)
    spdlog::warn("spool: cannot keep damaged {} as {}: {}", seg.path, kept, l.error().message());
  if (auto r = ops_.rename(tmp, seg.path); !r) {
    spdlog::error("spool: cannot replace {}: {}", seg.path, r.error().message());
    return io_error(r.error());
  }
  if (auto s = sync_spool_dir(); !s) return s.error();
  auto fd = ops_.open(seg.path, OpenMode::kReadWrite);
  if (!fd) return io_error(fd.error());
  seg.fd = std::move(*fd);
  prune_quarantine();
  return {};
}

// Keeps the newest max_quarantined damaged originals (names sort by time within a segment).
void Spool::prune_quarantine() {
  auto names = ops_.list_dir(quarantine_dir_);
  if (!names) {
    spdlog::warn("spool: cannot list {}: {}", quarantine_dir_, names.error().message());
    return;
  }
  std::sort(names->begin(), names->end());
  const std::size_t excess =
      names->size() > options_.max_quarantined ? names->size() - options_.max_quarantined : 0;
  for (std::size_t k = 0; k < excess; ++k)
    remove_file(join(quarantine_dir_, (*names)[k]), "quarantined copy");
}

// A failed write may have left part of an entry past seg.size (its truncation failed too):
// cut it off before anything else is written or the segment is sealed.
Result<void> Spool::repair_tail(Segment& seg) {
  if (!seg.torn) return {};
  if (auto t = ops_.ftruncate(seg.fd.get(), seg.size); !t) {
    spdlog::error("spool: segment {}: cannot cut a partial entry at {}: {}", seg.path, seg.size,
                  t.error().message());
    return Err(Errc::kIo);
  }
  seg.torn = false;
  return {};
}

Result<void> Spool::roll() {
  std::shared_ptr<Segment> old;
  {
    std::lock_guard lock(mu_);
    if (!segments_.empty()) old = segments_.back();
  }
  if (old) {
    if (auto r = repair_tail(*old); !r) return r;
  }
  if (old && options_.fsync == FsyncPolicy::kInterval && unsynced_bytes_ > 0) {
    // sync() only looks at the newest segments: leave no unsynced bytes behind a roll.
    if (auto s = sync_file(old->fd.get(), old->path); !s) return s.error();
    unsynced_bytes_ = 0;
  }
  if (old) {
    std::lock_guard lock(mu_);
    old->sealed = true;
  }
  const std::uint64_t id = next_id_++;
  auto seg = std::make_shared<Segment>();
  seg->id = id;
  seg->path = join(options_.dir, segment_file_name(id));
  // Written under a temporary name and renamed when complete: a segment whose creation failed
  // (a full disk) and could not be removed is a stale temporary at the next start, never a
  // damaged segment reported as a gap.
  const std::string tmp = seg->path + ".tmp";
  auto fd = ops_.open(tmp, OpenMode::kCreateExclusive);
  if (!fd) {
    spdlog::error("spool: cannot create segment {}: {}", tmp, fd.error().message());
    return io_error(fd.error());
  }
  seg->fd = std::move(*fd);
  auto header = make_segment_header(id);
  std::string who = encode_spool_identity(options_.identity);
  auto ih = make_entry_header(EntryType::kIdentity, {}, who);
  auto eh = make_entry_header(EntryType::kState, {}, last_checkpoint_);
  struct iovec iov[5] = {{header.data(), header.size()},
                         {ih.data(), ih.size()},
                         {who.data(), who.size()},
                         {eh.data(), eh.size()},
                         {last_checkpoint_.data(), last_checkpoint_.size()}};
  if (auto w = pwrite_all(ops_, seg->fd.get(), iov, 0); !w) {
    spdlog::error("spool: cannot write segment {}: {}", tmp, w.error().message());
    remove_file(tmp, "unfinished segment");
    return io_error(w.error());
  }
  if (options_.fsync != FsyncPolicy::kNever) {
    if (auto s = sync_file(seg->fd.get(), tmp); !s) return s.error();
  }
  if (auto r = ops_.rename(tmp, seg->path); !r) {
    spdlog::error("spool: cannot rename {} to {}: {}", tmp, seg->path, r.error().message());
    remove_file(tmp, "unfinished segment");
    return io_error(r.error());
  }
  if (options_.fsync != FsyncPolicy::kNever) {
    if (auto s = sync_spool_dir(); !s) return s.error();
  }
  seg->identity = options_.identity;
  seg->size = seg->readable =
      header.size() + ih.size() + who.size() + eh.size() + last_checkpoint_.size();
  std::lock_guard lock(mu_);
  total_bytes_ += seg->size;
  segments_.push_back(std::move(seg));
  return {};
}

std::uint64_t Spool::roll_bytes() const {
  return kSegmentHeaderBytes + 2 * kEntryHeaderBytes + 5 + options_.identity.instance_id.size() +
         options_.identity.boot_id.size() + last_checkpoint_.size();
}

bool Spool::wait_for_space(std::uint64_t bytes, const std::atomic<bool>& cancel, bool* waited) {
  const std::uint64_t roll_cost = roll_bytes();
  std::unique_lock lock(mu_);
  auto fits = [&] { return total_bytes_ + bytes + roll_cost <= options_.max_bytes; };
  if (waited) *waited = !fits();
  space_cv_.wait(lock, [&] { return fits() || cancel.load(); });
  return fits();
}

bool Spool::fits(std::uint64_t bytes) const {
  const std::uint64_t roll_cost = roll_bytes();
  std::lock_guard lock(mu_);
  return total_bytes_ + bytes + roll_cost <= options_.max_bytes;
}

void Spool::cancel_waits() {
  std::lock_guard lock(mu_);
  space_cv_.notify_all();
}

Result<void> Spool::append(std::span<const SpoolAppend> entries, std::size_t* appended) {
  std::size_t i = 0;
  bool released = false;
  if (appended) *appended = 0;
  while (i < entries.size()) {
    std::uint64_t size, sealed_batches;
    {
      std::lock_guard lock(mu_);
      size = segments_.back()->size;
      sealed_batches = segments_.back()->ends.size();
    }
    // Take entries up to the segment size; at least one once the segment is fresh.
    std::size_t j = i;
    std::uint64_t run = 0;
    while (j < entries.size() && (size + run + entry_bytes(entries[j]) <= options_.segment_bytes ||
                                  (j == i && sealed_batches == 0))) {
      run += entry_bytes(entries[j]);
      ++j;
    }
    if (j == i) {
      if (auto r = roll(); !r) return r;
      continue;
    }
    if (auto r = write_run(entries.subspan(i, j - i)); !r) {
      if (to_errc(r.error()) != Errc::kDiskFull || released) return r;
      auto freed = release_acked_active();
      if (!freed) return freed.error();
      if (!*freed) return r;
      released = true;  // once per call: the retry of this run goes into the fresh segment
      continue;
    }
    i = j;
    if (appended) *appended = i;
  }
  return {};
}

Result<void> Spool::write_run(std::span<const SpoolAppend> entries) {
  std::shared_ptr<Segment> seg;
  {
    std::lock_guard lock(mu_);
    seg = segments_.back();
  }
  std::vector<EntryHeaderBytes> headers(entries.size());
  std::vector<struct iovec> iov;
  iov.reserve(entries.size() * 3);
  std::uint64_t run = 0;
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const auto& e = entries[k];
    headers[k] = make_entry_header(e.batch.empty() ? EntryType::kState : EntryType::kBatch, e.batch,
                                   e.checkpoint);
    iov.push_back({headers[k].data(), headers[k].size()});
    if (!e.batch.empty()) iov.push_back({const_cast<char*>(e.batch.data()), e.batch.size()});
    iov.push_back({const_cast<char*>(e.checkpoint.data()), e.checkpoint.size()});
    run += entry_bytes(e);
  }
  if (auto r = repair_tail(*seg); !r) return r;
  if (auto w = pwrite_all(ops_, seg->fd.get(), iov, seg->size); !w) {
    // Leave no partial entry behind: the next append must start on a boundary.
    spdlog::error("spool: segment {}: write of {} bytes failed: {}", seg->path, run,
                  w.error().message());
    seg->torn = true;
    (void)repair_tail(*seg);  // on failure logged; the next append or roll tries again first
    return io_error(w.error());
  }
  unsynced_bytes_ += run;
  if (options_.fsync == FsyncPolicy::kAlways) {
    if (auto s = sync_file(seg->fd.get(), seg->path); !s) return s.error();
    unsynced_bytes_ = 0;
  }
  last_checkpoint_.assign(entries.back().checkpoint);
  std::function<void()> notify;
  {
    std::lock_guard lock(mu_);
    seg->size += run;
    seg->readable = seg->size;
    total_bytes_ += run;
    for (const auto& e : entries) {
      if (e.batch.empty()) continue;
      raise(seg->ends, e.stream, e.end_seq);
      raise(written_end_, e.stream, e.end_seq);
    }
    notify = on_publish_;
  }
  if (notify) notify();
  return {};
}

Result<void> Spool::sync() {
  if (unsynced_bytes_ == 0) return {};
  std::vector<std::shared_ptr<Segment>> segs;
  {
    std::lock_guard lock(mu_);
    segs.assign(segments_.begin(), segments_.end());
  }
  // Only the last two can hold unsynced bytes (a roll syncs unless the policy is kNever).
  for (std::size_t k = segs.size() >= 2 ? segs.size() - 2 : 0; k < segs.size(); ++k) {
    if (auto s = sync_file(segs[k]->fd.get(), segs[k]->path); !s) return s.error();
  }
  unsynced_bytes_ = 0;
  return {};
}

Result<void> Spool::trim() {
  auto r = release_acked_active();
  if (!r) return r.error();
  return {};
}

Result<bool> Spool::release_acked_active() {
  std::uint64_t old_id = 0, old_size = 0;
  {
    std::lock_guard lock(mu_);
    const Segment& active = *segments_.back();
    if (active.ends.empty() || !fully_acked_locked(active)) return false;
    old_id = active.id;
    old_size = active.size;
  }
  make_reserve();  // missing after an earlier failure: take the room now if there is any
  auto rolled = roll();
  if (!rolled && to_errc(rolled.error()) == Errc::kDiskFull && reserve_present_) {
    // The disk is full: the reserve makes room for the fresh segment, then comes back.
    spdlog::info("spool: disk full; using the reserve to let acknowledged segment {} go", old_id);
    if (remove_file(join(options_.dir, "reserve"), "reserve")) {
      reserve_present_ = false;
      rolled = roll();
    }
  }
  if (!rolled) {
    make_reserve();  // if the reserve went for nothing, take its room back at once
    return {boost::system::in_place_error, rolled.error()};
  }
  {
    std::lock_guard lock(mu_);
    delete_acked_locked();
  }
  spdlog::info("spool: acknowledged active segment {} ({} bytes) released", old_id, old_size);
  make_reserve();
  return true;
}

void Spool::make_reserve() {
  if (reserve_present_ || options_.reserve_bytes == 0) return;
  const std::uint64_t roll_cost = roll_bytes();
  const std::size_t bytes =
      static_cast<std::size_t>(std::max<std::uint64_t>(options_.reserve_bytes, 2 * roll_cost));
  const std::string path = join(options_.dir, "reserve");
  auto fd = ops_.open(path, OpenMode::kCreateTruncate);
  if (!fd) {
    spdlog::debug("spool: cannot create {}: {}", path, fd.error().message());
    return;
  }
  const std::string zeros(bytes, '\0');
  struct iovec iov[1] = {{const_cast<char*>(zeros.data()), zeros.size()}};
  if (auto w = pwrite_all(ops_, fd->get(), iov, 0); !w) {
    spdlog::debug("spool: cannot fill {}: {}", path, w.error().message());
    remove_file(path, "unfinished reserve");
    return;
  }
  reserve_present_ = true;
}

bool Spool::has_headroom() const {
  {
    std::lock_guard lock(mu_);
    if (total_bytes_ + options_.segment_bytes > options_.max_bytes) return false;
  }
  return free_disk_bytes() >= options_.segment_bytes;
}

std::uint64_t Spool::free_disk_bytes() const {
  struct statvfs st {};
  if (::statvfs(options_.dir.c_str(), &st) != 0) return 0;
  return std::uint64_t{st.f_bavail} * st.f_frsize;
}

SpoolCursor Spool::begin() const {
  std::lock_guard lock(mu_);
  return {segments_.front()->id, kSegmentHeaderBytes};
}

Result<ReadStatus> Spool::read_next(SpoolCursor& cursor, std::string& batch, BatchHeader& header) {
  for (;;) {
    std::shared_ptr<Segment> seg;
    std::uint64_t readable = 0;
    bool has_next = false;
    {
      std::lock_guard lock(mu_);
      auto it = std::find_if(segments_.begin(), segments_.end(),
                             [&](const auto& s) { return s->id >= cursor.segment; });
      if (it == segments_.end()) return ReadStatus::kEnd;
      if ((*it)->id != cursor.segment) cursor = {(*it)->id, kSegmentHeaderBytes};
      seg = *it;
      readable = seg->readable;
      has_next = std::next(it) != segments_.end() && seg->sealed;
    }
    if (cursor.offset >= readable) {
      if (!has_next) return ReadStatus::kEnd;
      cursor = {seg->id + 1, kSegmentHeaderBytes};
      continue;
    }
    char hb[kEntryHeaderBytes];
    auto n = pread_full_at(ops_, seg->fd.get(), hb, sizeof hb, cursor.offset);
    if (!n) {
      spdlog::error("spool: segment {}: read failed: {}", seg->path, n.error().message());
      return io_error(n.error());
    }
    std::string_view header_bytes(hb, sizeof hb);
    auto h = *n == sizeof hb ? parse_entry_header(header_bytes)
                             : Result<EntryHeader>(Err(Errc::kTruncated));
    if (!h || cursor.offset + h->total_len() > readable) {
      spdlog::error("spool: segment {}: unreadable entry at offset {}: rest of segment skipped",
                    seg->path, cursor.offset);
      cursor = {seg->id + 1, kSegmentHeaderBytes};
      return ReadStatus::kCorruptSkipped;
    }
    const std::uint64_t entry_offset = cursor.offset;
    cursor.offset += h->total_len();
    if (h->type != EntryType::kBatch) continue;
    batch.resize(static_cast<std::size_t>(h->body_len()));
    auto m = pread_full_at(ops_, seg->fd.get(), batch.data(), batch.size(),
                           entry_offset + kEntryHeaderBytes);
    if (!m) {
      spdlog::error("spool: segment {}: read failed: {}", seg->path, m.error().message());
      return io_error(m.error());
    }
    if (*m != batch.size() || !entry_crc_ok(*h, header_bytes, batch)) {
      spdlog::error("spool: segment {}: entry at offset {} fails its checksum: skipped", seg->path,
                    entry_offset);
      return ReadStatus::kCorruptSkipped;
    }
    batch.resize(h->batch_len);
    auto bh = parse_batch_header(batch);
    if (!bh) {
      spdlog::error("spool: segment {}: batch at offset {} does not parse: skipped", seg->path,
                    entry_offset);
      return ReadStatus::kCorruptSkipped;
    }
    if (bh->end_seq() <= acked_end(bh->stream)) continue;
    header = *bh;
    return ReadStatus::kBatch;
  }
}

void Spool::ack(std::uint32_t stream, std::uint64_t end_seq) {
  std::lock_guard lock(mu_);
  if (end_seq <= seq_end(acked_end_, stream)) return;
  raise(acked_end_, stream, end_seq);
  delete_acked_locked();
}

bool Spool::fully_acked_locked(const Segment& seg) const {
  for (const auto& [s, e] : seg.ends)
    if (e > seq_end(acked_end_, s)) return false;
  return true;
}

void Spool::delete_acked_locked() {
  bool freed = false;
  for (auto it = segments_.begin(); it != segments_.end();) {
    const auto& seg = **it;
    if (std::next(it) == segments_.end() || !seg.sealed || !fully_acked_locked(seg)) {
      ++it;
      continue;
    }
    if (!remove_file(seg.path, "acknowledged segment")) {
      ++it;  // kept: the next acknowledgement tries again
      continue;
    }
    total_bytes_ -= seg.size;
    freed = true;
    it = segments_.erase(it);
  }
  if (freed) space_cv_.notify_all();
}

void Spool::set_on_publish(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  on_publish_ = std::move(fn);
}

std::uint64_t Spool::bytes() const {
  std::lock_guard lock(mu_);
  return total_bytes_;
}

std::uint64_t Spool::acked_end(std::uint32_t stream) const {
  std::lock_guard lock(mu_);
  return seq_end(acked_end_, stream);
}

bool Spool::all_acked() const {
  std::lock_guard lock(mu_);
  for (const auto& [s, e] : written_end_)
    if (e > seq_end(acked_end_, s)) return false;
  return true;
}

}  // namespace blackbox::agent
