#include "agent/inputs/file_input.h"

#include <fcntl.h>
#include <glob.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "schemas/gap_body.h"

namespace blackbox::agent {

FileInput::FileInput(FileInputOptions options, const std::vector<FilePosition>& resume, bool fresh,
                     AgentMetrics& metrics)
    : options_(std::move(options)), metrics_(metrics), fresh_(fresh) {
  for (const auto& p : resume) resume_[FileId{p.dev, p.ino}] = p;
}

void FileInput::scan(LineSink& sink, std::int64_t wall_ns, std::int64_t steady_ns) {
  std::vector<std::pair<std::string, FileId>> matched;
  std::unordered_set<FileId, FileIdHash> seen;
  for (const auto& pattern : options_.globs) {
    glob_t g{};
    int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
    if (rc == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) {
        struct stat st;
        if (::stat(g.gl_pathv[i], &st) != 0 || !S_ISREG(st.st_mode)) continue;
        FileId id{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
        if (seen.insert(id).second) matched.emplace_back(g.gl_pathv[i], id);
      }
    }
    ::globfree(&g);
  }
  std::sort(matched.begin(), matched.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [id, tracked] : files_) {
    if (seen.count(id)) {
      tracked.rotated_since_ns = 0;
    } else if (tracked.rotated_since_ns == 0) {
      tracked.rotated_since_ns = steady_ns;
      metrics_.rotations.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("files: {} is no longer at a matched path (rotated or deleted)",
                    tracked.tailer->path());
    }
  }
  for (const auto& [path, id] : matched) {
    if (files_.count(id)) continue;
    if (files_.size() >= options_.max_open_files) {
      if (!warned_max_open_)
        spdlog::warn("files: max_open_files ({}) reached; {} waits for a free slot",
                     options_.max_open_files, path);
      warned_max_open_ = true;
      break;
    }
    open_file(path, id, sink, wall_ns);
  }
  first_scan_ = false;
}

void FileInput::open_file(const std::string& path, FileId id, LineSink& sink,
                          std::int64_t wall_ns) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    spdlog::warn("files: cannot open {}: {}", path, std::strerror(errno));
    return;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return;
  FileId actual{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  if (!(actual == id)) return;  // replaced between glob and open: the next scan sees it
  const auto size = static_cast<std::uint64_t>(st.st_size);

  std::uint64_t offset = 0;
  bool mid_line = false;
  std::string source = path;
  auto it = resume_.find(id);
  if (it != resume_.end()) {
    const FilePosition& p = it->second;
    auto same = fingerprint_matches(fd.get(), Fingerprint{p.fp_len, p.fp_crc});
    if (same && *same && size >= p.offset) {
      offset = p.offset;
      mid_line = (p.flags & position_flags::kMidLine) != 0;
      source = p.path;
    } else if (same && *same) {
      GapBody gap(gap_reason::kTruncatedWhileStopped, p.path);
      gap.offset = p.offset;
      gap.size = size;
      sink.on_gap(p.path, encode_gap_body(gap), wall_ns);
      metrics_.truncations.fetch_add(1, std::memory_order_relaxed);
      source = p.path;
    }
    // Otherwise the inode was reused by another file: a new file, read from its beginning.
    resume_.erase(it);
  } else if (first_scan_ && fresh_ && options_.read_from == ReadFrom::kEnd) {
    offset = size;
    positions_dirty_ = true;
  }
  spdlog::info("files: following {} from offset {}", source, offset);
  files_[id] = Tracked{
      std::make_unique<FileTailer>(source, std::move(fd), id, offset, mid_line, options_.tailer),
      0};
  order_.push_back(id);
  metrics_.files_opened.fetch_add(1, std::memory_order_relaxed);
}

void FileInput::close_file(FileId id) {
  auto it = files_.find(id);
  if (it == files_.end()) return;
  spdlog::info("files: closed {} at offset {}", it->second.tailer->path(),
               it->second.tailer->read_offset());
  files_.erase(it);
  order_.erase(std::remove(order_.begin(), order_.end(), id), order_.end());
  metrics_.files_closed.fetch_add(1, std::memory_order_relaxed);
  positions_dirty_ = true;
  warned_max_open_ = false;
}

std::uint64_t FileInput::poll(LineSink& sink, ReadBuffer& buffer, std::int64_t wall_ns,
                              std::int64_t steady_ns, const std::function<void()>& after_read) {
  std::uint64_t total = 0;
  std::vector<FileId> to_close;
  for (const FileId id : order_) {
    Tracked& tracked = files_.at(id);
    FileTailer& t = *tracked.tailer;
    auto r = t.read(sink, buffer, options_.tailer.chunk_bytes, wall_ns, steady_ns);
    if (!r) {
      metrics_.read_errors.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("files: read of {} failed: {}", t.path(), std::strerror(errno));
      continue;
    }
    total += r->bytes;
    metrics_.bytes_read.fetch_add(r->bytes, std::memory_order_relaxed);
    metrics_.lines_read.fetch_add(r->lines, std::memory_order_relaxed);
    if (r->lines > 0) after_read();
    if (!r->eof) continue;

    auto change = t.check();
    if (!change) continue;
    if (*change == FileChange::kTruncated) {
      spdlog::info("files: {} was truncated at offset {}; reading it again from 0", t.path(),
                   t.read_offset());
      metrics_.truncations.fetch_add(1, std::memory_order_relaxed);
      metrics_.gaps.fetch_add(1, std::memory_order_relaxed);
      if (t.has_pending()) metrics_.partial_lines.fetch_add(1, std::memory_order_relaxed);
      t.restart_after_truncation(sink, wall_ns, steady_ns);
      after_read();
      continue;
    }
    const bool gone = *change == FileChange::kDeleted;
    const bool rotated_idle = tracked.rotated_since_ns != 0 &&
                              steady_ns - tracked.rotated_since_ns >= options_.rotate_wait_ns &&
                              steady_ns - t.last_data_steady_ns() >= options_.rotate_wait_ns;
    if (t.flush_partial(sink, wall_ns, steady_ns, gone || rotated_idle)) {
      metrics_.partial_lines.fetch_add(1, std::memory_order_relaxed);
      after_read();
    }
    if (gone || rotated_idle) to_close.push_back(id);
  }
  for (const FileId id : to_close) close_file(id);
  return total;
}

void FileInput::drain(LineSink& sink, ReadBuffer& buffer, std::int64_t wall_ns,
                      std::int64_t steady_ns, const std::function<void()>& after_read) {
  for (const FileId id : order_) {
    FileTailer& t = *files_.at(id).tailer;
    // Read up to the size the file has now: a writer still appending cannot hold us forever.
    auto size = t.size();
    const std::uint64_t target = size ? *size : 0;
    while (t.read_offset() < target) {
      auto r = t.read(sink, buffer, options_.tailer.chunk_bytes, wall_ns, steady_ns);
      if (!r) break;
      metrics_.bytes_read.fetch_add(r->bytes, std::memory_order_relaxed);
      metrics_.lines_read.fetch_add(r->lines, std::memory_order_relaxed);
      if (r->lines > 0) after_read();
      if (r->eof) break;
    }
    if (t.flush_partial(sink, wall_ns, steady_ns, true)) {
      metrics_.partial_lines.fetch_add(1, std::memory_order_relaxed);
      after_read();
    }
  }
}

void FileInput::encode_positions(std::string& out) const {
  std::vector<FilePosition> positions;
  positions.reserve(order_.size());
  for (const FileId id : order_) positions.push_back(files_.at(id).tailer->position());
  encode_file_positions(out, positions);
}

bool FileInput::take_positions_dirty() {
  bool d = positions_dirty_;
  positions_dirty_ = false;
  return d;
}

}  // namespace blackbox::agent
