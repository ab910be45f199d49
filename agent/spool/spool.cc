#include "agent/spool/spool.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "agent/spool/segment_format.h"
#include "agent/spool/segment_scanner.h"
#include "schemas/batch.h"

namespace blackbox::agent {

namespace fs = std::filesystem;

struct Spool::Segment {
  std::uint64_t id = 0;
  std::string path;
  UniqueFd fd;
  std::uint64_t size = 0;      // bytes written (writer) — guarded by mu_ once published
  std::uint64_t readable = 0;  // bytes the shipper may read
  bool sealed = false;         // no more appends
  SeqEnds ends;                // per stream: end (exclusive) of its last batch in here
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

}  // namespace

Spool::Spool(SpoolOptions options)
    : options_(std::move(options)), quarantine_dir_(options_.dir + "/quarantine") {}

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

Result<std::unique_ptr<Spool>> Spool::open(const SpoolOptions& options, RecoveryReport& report) {
  std::unique_ptr<Spool> spool(new Spool(options));
  std::error_code ec;
  fs::create_directories(spool->quarantine_dir_, ec);
  if (ec) {
    spdlog::error("spool: cannot create {}: {}", spool->quarantine_dir_, ec.message());
    return Err(Errc::kIo);
  }
  report = RecoveryReport{};
  if (auto r = spool->recover(report); !r) return r.error();
  return spool;
}

Result<void> Spool::recover(RecoveryReport& report) {
  std::vector<std::uint64_t> ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    auto name = entry.path().filename().string();
    if (auto id = parse_segment_file_name(name)) {
      ids.push_back(*id);
    } else if (name.ends_with(".tmp")) {
      fs::remove(entry.path(), ec);  // an interrupted quarantine rewrite: the original remains
    }
  }
  if (ec) {
    spdlog::error("spool: cannot list {}: {}", options_.dir, ec.message());
    return Err(Errc::kIo);
  }
  std::sort(ids.begin(), ids.end());

  std::string last_cp;
  std::vector<std::shared_ptr<Segment>> found;
  std::vector<std::shared_ptr<Segment>> empty;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto seg = std::make_shared<Segment>();
    seg->id = ids[i];
    seg->path = join(options_.dir, segment_file_name(ids[i]));
    seg->fd = UniqueFd(::open(seg->path.c_str(), O_RDWR | O_CLOEXEC));
    if (!seg->fd) {
      spdlog::error("spool: segment {}: cannot open: {}", seg->path, std::strerror(errno));
      return Err(Errc::kIo);
    }
    std::size_t batches = 0;
    auto visit = [&](std::uint64_t, const EntryHeader& h, std::string_view, std::string_view body) {
      auto cp = body.substr(h.batch_len);
      if (decode_checkpoint(cp)) last_cp.assign(cp);
      if (h.type == EntryType::kBatch) {
        auto bh = parse_batch_header(body.substr(0, h.batch_len));
        if (bh) {
          raise(seg->ends, bh->stream, bh->end_seq());
          ++batches;
        }
      }
    };
    auto scan = scan_segment(seg->fd.get(), visit);
    if (!scan) return scan.error();
    const bool last = i + 1 == ids.size();
    if (!scan->damage.empty()) {
      if (last && scan->entries == 0) {
        spdlog::warn(
            "spool: segment {}: nothing valid in its {} bytes (torn at creation); "
            "removed",
            seg->path, scan->file_size);
        report.truncated_bytes += scan->file_size;
        ::unlink(seg->path.c_str());
        continue;
      }
      if (last && scan->torn_tail_only()) {
        spdlog::warn("spool: segment {}: torn tail of {} bytes at offset {} truncated", seg->path,
                     scan->damage[0].bytes, scan->valid_end);
        if (::ftruncate(seg->fd.get(), static_cast<off_t>(scan->valid_end)) != 0)
          return Err(Errc::kIo);
        if (auto s = sync_data(seg->fd.get()); !s) return s.error();
        report.truncated_bytes += scan->damage[0].bytes;
        scan->file_size = scan->valid_end;
      } else {
        for (const auto& d : scan->damage) {
          spdlog::error(
              "spool: segment {}: {} damaged bytes at offset {}: quarantined, reported "
              "as a gap",
              seg->path, d.bytes, d.offset);
          report.damage.push_back({seg->id, d.offset, d.bytes});
        }
        if (auto q = quarantine(*seg); !q) return q.error();
        struct stat st;
        if (::fstat(seg->fd.get(), &st) != 0) return Err(Errc::kIo);
        scan->file_size = static_cast<std::uint64_t>(st.st_size);
      }
    }
    seg->size = seg->readable = scan->file_size;
    seg->sealed = true;
    if (batches == 0) {
      empty.push_back(seg);
      continue;
    }
    report.batches += batches;
    found.push_back(seg);
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
  next_id_ = ids.empty() ? 0 : ids.back() + 1;
  if (auto r = roll(); !r) return r.error();
  for (const auto& seg : empty) ::unlink(seg->path.c_str());
  if (!empty.empty()) {
    if (auto r = sync_dir(options_.dir); !r) return r.error();
  }
  return {};
}

Result<void> Spool::quarantine(Segment& seg) {
  const std::string tmp = seg.path + ".tmp";
  UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (!out) return Err(errno_to_errc(errno));
  auto header = make_segment_header(seg.id);
  if (auto w = write_all(out.get(), header); !w) return w.error();
  Result<void> write_status;
  auto copy = [&](std::uint64_t, const EntryHeader&, std::string_view hb, std::string_view body) {
    if (!write_status) return;
    write_status = write_all(out.get(), hb);
    if (write_status) write_status = write_all(out.get(), body);
  };
  auto scan = scan_segment(seg.fd.get(), copy);
  if (!scan) return scan.error();
  if (!write_status) return write_status.error();
  if (auto s = sync_data(out.get()); !s) return s.error();
  // Keep the damaged original for forensics (a hard link: no copy), then replace it.
  const std::string kept =
      join(quarantine_dir_, segment_file_name(seg.id) + "." + std::to_string(now_ns()));
  if (::link(seg.path.c_str(), kept.c_str()) != 0)
    spdlog::warn("spool: cannot keep damaged {} as {}: {}", seg.path, kept, std::strerror(errno));
  if (::rename(tmp.c_str(), seg.path.c_str()) != 0) return Err(errno_to_errc(errno));
  if (auto s = sync_dir(options_.dir); !s) return s.error();
  seg.fd = std::move(out);
  seg.fd = UniqueFd(::open(seg.path.c_str(), O_RDWR | O_CLOEXEC));
  if (!seg.fd) return Err(errno_to_errc(errno));

  std::vector<fs::path> kept_files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(quarantine_dir_, ec)) kept_files.push_back(e.path());
  std::sort(kept_files.begin(), kept_files.end());
  while (kept_files.size() > options_.max_quarantined) {
    fs::remove(kept_files.front(), ec);
    kept_files.erase(kept_files.begin());
  }
  return {};
}

Result<void> Spool::roll() {
  std::shared_ptr<Segment> old;
  {
    std::lock_guard lock(mu_);
    if (!segments_.empty()) old = segments_.back();
  }
  if (old && options_.fsync == FsyncPolicy::kInterval && unsynced_bytes_ > 0) {
    // sync() only looks at the newest segments: leave no unsynced bytes behind a roll.
    if (auto s = sync_data(old->fd.get()); !s) return s;
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
  seg->fd = UniqueFd(::open(seg->path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (!seg->fd) {
    spdlog::error("spool: cannot create segment {}: {}", seg->path, std::strerror(errno));
    return Err(errno_to_errc(errno));
  }
  auto header = make_segment_header(id);
  auto eh = make_entry_header(EntryType::kState, {}, last_checkpoint_);
  struct iovec iov[3] = {{header.data(), header.size()},
                         {eh.data(), eh.size()},
                         {last_checkpoint_.data(), last_checkpoint_.size()}};
  if (auto w = writev_all(seg->fd.get(), iov, 3); !w) {
    ::unlink(seg->path.c_str());
    return w.error();
  }
  if (options_.fsync != FsyncPolicy::kNever) {
    if (auto s = sync_data(seg->fd.get()); !s) return s.error();
    if (auto s = sync_dir(options_.dir); !s) return s.error();
  }
  seg->size = seg->readable = header.size() + eh.size() + last_checkpoint_.size();
  std::lock_guard lock(mu_);
  total_bytes_ += seg->size;
  segments_.push_back(std::move(seg));
  return {};
}

bool Spool::wait_for_space(std::uint64_t bytes, const std::atomic<bool>& cancel, bool* waited) {
  const std::uint64_t roll_cost = kSegmentHeaderBytes + kEntryHeaderBytes + last_checkpoint_.size();
  std::unique_lock lock(mu_);
  auto fits = [&] { return total_bytes_ + bytes + roll_cost <= options_.max_bytes; };
  if (waited) *waited = !fits();
  space_cv_.wait(lock, [&] { return fits() || cancel.load(); });
  return fits();
}

bool Spool::fits(std::uint64_t bytes) const {
  const std::uint64_t roll_cost = kSegmentHeaderBytes + kEntryHeaderBytes + last_checkpoint_.size();
  std::lock_guard lock(mu_);
  return total_bytes_ + bytes + roll_cost <= options_.max_bytes;
}

void Spool::cancel_waits() {
  std::lock_guard lock(mu_);
  space_cv_.notify_all();
}

Result<void> Spool::append(std::span<const SpoolAppend> entries, std::size_t* appended) {
  std::size_t i = 0;
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
    if (auto r = write_run(entries.subspan(i, j - i)); !r) return r;
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
  if (::lseek(seg->fd.get(), static_cast<off_t>(seg->size), SEEK_SET) < 0) return Err(Errc::kIo);
  if (auto w = writev_all(seg->fd.get(), iov.data(), static_cast<int>(iov.size())); !w) {
    // Leave no partial entry behind: the next append must start on a boundary.
    int saved = errno;
    if (::ftruncate(seg->fd.get(), static_cast<off_t>(seg->size)) != 0)
      spdlog::error("spool: segment {}: cannot undo a failed write: {}", seg->path,
                    std::strerror(errno));
    spdlog::error("spool: segment {}: write of {} bytes failed: {}", seg->path, run,
                  std::strerror(saved));
    return w;
  }
  unsynced_bytes_ += run;
  if (options_.fsync == FsyncPolicy::kAlways) {
    if (auto s = sync_data(seg->fd.get()); !s) {
      spdlog::critical("spool: segment {}: fdatasync failed: {}", seg->path, std::strerror(errno));
      return s;
    }
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
    if (auto s = sync_data(segs[k]->fd.get()); !s) {
      spdlog::critical("spool: segment {}: fdatasync failed: {}", segs[k]->path,
                       std::strerror(errno));
      return s;
    }
  }
  unsynced_bytes_ = 0;
  return {};
}

Result<void> Spool::trim() {
  {
    std::lock_guard lock(mu_);
    if (segments_.back()->ends.empty()) return {};
    for (const auto& [s, e] : written_end_)
      if (e > seq_end(acked_end_, s)) return {};
  }
  if (auto r = roll(); !r) return r;
  std::lock_guard lock(mu_);
  delete_acked_locked();
  return {};
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
    auto n = pread_full(seg->fd.get(), hb, sizeof hb, cursor.offset);
    if (!n) return n.error();
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
    auto m =
        pread_full(seg->fd.get(), batch.data(), batch.size(), entry_offset + kEntryHeaderBytes);
    if (!m) return m.error();
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
    if (::unlink(seg.path.c_str()) != 0)
      spdlog::warn("spool: cannot remove acknowledged segment {}: {}", seg.path,
                   std::strerror(errno));
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

std::uint64_t Spool::written_end(std::uint32_t stream) const {
  std::lock_guard lock(mu_);
  return seq_end(written_end_, stream);
}

bool Spool::all_acked() const {
  std::lock_guard lock(mu_);
  for (const auto& [s, e] : written_end_)
    if (e > seq_end(acked_end_, s)) return false;
  return true;
}

}  // namespace blackbox::agent
