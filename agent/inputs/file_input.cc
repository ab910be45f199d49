#include "agent/inputs/file_input.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <glob.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "schemas/gap_body.h"

namespace blackbox::agent {
namespace {
constexpr std::size_t kMaxClosedPositions = 4096;
}  // namespace

FileInput::FileInput(FileInputOptions options, const std::vector<FilePosition>& resume, bool fresh,
                     AgentMetrics& metrics)
    : options_(std::move(options)), metrics_(metrics), fresh_(fresh) {
  for (const auto& p : resume) resume_[FileId{p.dev, p.ino}] = p;
}

void FileInput::watch(std::function<void()> wake) {
  watcher_ = std::make_unique<DirWatcher>(options_.globs, std::move(wake));
  if (!watcher_->active()) watcher_.reset();
}

void FileInput::discover(LineSink& sink, std::int64_t wall_ns, std::int64_t steady_ns) {
  if (!watcher_ || !watcher_->pending()) return;
  Discoveries d = watcher_->take();
  for (auto& f : d.opened) {
    if (files_.count(f.id)) continue;  // followed already: once by identity
    adopt(f.path, f.source, std::move(f.fd), f.id, sink, wall_ns);
    if (files_.count(f.id)) metrics_.files_discovered.fetch_add(1, std::memory_order_relaxed);
  }
  for (const auto& name : d.vanished) {
    metrics_.files_vanished.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("files: {} appeared and was gone before it could be opened; gap record written",
                 name);
    GapBody gap(gap_reason::kVanishedBeforeRead, name);
    gap.note =
        "created, then deleted or moved out of the watched directories before the agent could "
        "open it; its size is unknown";
    emit_gap(sink, gap, wall_ns);
  }
  if (d.overflow) {
    metrics_.watch_overflows.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn(
        "files: the inotify queue overflowed; rescanning now (files created and "
        "removed meanwhile may be missed: gap record written)");
    std::string where;
    for (const auto& g : options_.globs) where += (where.empty() ? "" : " ") + g;
    GapBody gap(gap_reason::kWatchOverflow, where);
    gap.note = "file events were lost; files that appeared and vanished meanwhile were not read";
    emit_gap(sink, gap, wall_ns);
    scan(sink, wall_ns, steady_ns);
  }
}

void FileInput::emit_gap(LineSink& sink, const GapBody& gap, std::int64_t wall_ns) {
  sink.on_gap(gap.source, encode_gap_body(gap), wall_ns);
  metrics_.gaps.fetch_add(1, std::memory_order_relaxed);
}

// Expands every glob, reports what it finds that cannot be followed (once per episode), marks
// followed files no longer at a matched path as rotated and opens the new ones.
void FileInput::scan(LineSink& sink, std::int64_t wall_ns, std::int64_t steady_ns) {
  if (watcher_) watcher_->refresh();
  for (auto& [path, u] : unreadable_) u.seen = false;
  for (auto& [id, c] : compressed_) c.second = false;
  struct Match {
    std::string path;
    FileId id;
    std::uint64_t size;
  };
  std::vector<Match> matched;
  std::unordered_set<FileId, FileIdHash> seen;
  for (const auto& pattern : options_.globs) {
    glob_t g{};
    bool any_file = false;
    if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) {
        const std::string path = g.gl_pathv[i];
        struct stat st;
        if (::stat(path.c_str(), &st) != 0) {
          report_unreadable(
              path,
              fmt::format("cannot be resolved ({}); a dangling symlink?", std::strerror(errno)), 0,
              sink, wall_ns);
          continue;
        }
        if (S_ISDIR(st.st_mode)) {
          report_unreadable(path,
                            fmt::format("is a directory; to tail the files in it write \"{}/*\" "
                                        "(or a narrower pattern such as \"{}/*.log\") in "
                                        "files.paths",
                                        path, path),
                            0, sink, wall_ns);
          continue;
        }
        if (!S_ISREG(st.st_mode)) {
          report_unreadable(path,
                            "is not a regular file (a FIFO, socket or device); the file input "
                            "reads regular files only: remove it from files.paths",
                            0, sink, wall_ns);
          continue;
        }
        any_file = true;
        FileId id{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
        if (seen.insert(id).second)
          matched.push_back(Match{path, id, static_cast<std::uint64_t>(st.st_size)});
      }
    }
    ::globfree(&g);
    check_pattern(pattern, any_file);
  }
  std::sort(matched.begin(), matched.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
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
  for (const auto& m : matched) {
    if (files_.count(m.id)) continue;
    // Skipped as compressed, unless its inode now holds another file (a new name).
    if (auto c = compressed_.find(m.id); c != compressed_.end() && c->second.first == m.path) {
      c->second.second = true;
      continue;
    }
    if (files_.size() >= options_.max_open_files) {
      if (!warned_max_open_)
        spdlog::warn("files: max_open_files ({}) reached; {} waits for a free slot",
                     options_.max_open_files, m.path);
      warned_max_open_ = true;
      break;
    }
    open_file(m.path, m.id, m.size, sink, wall_ns);
  }
  std::erase_if(compressed_, [](const auto& c) { return !c.second.second; });
  // Episodes not reported again by this scan are over.
  for (auto it = unreadable_.begin(); it != unreadable_.end();) {
    if (it->second.seen) {
      ++it;
      continue;
    }
    spdlog::info("files: {} is readable now (or gone); it {}", it->first, it->second.why);
    it = unreadable_.erase(it);
  }
  update_unreadable(wall_ns);
  first_scan_ = false;
}

void FileInput::check_pattern(const std::string& pattern, bool matched_any) {
  if (matched_any) {
    pattern_warned_.erase(pattern);
    return;
  }
  if (pattern_warned_.count(pattern)) return;
  pattern_warned_[pattern] = true;
  const auto slash = pattern.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : pattern.substr(0, slash + 1);
  struct stat st;
  if (dir.find_first_of("*?[") == std::string::npos &&
      (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
    spdlog::warn(
        "files: \"{}\" matches nothing: {} is not a directory that exists; fix "
        "files.paths (files there are picked up once it exists)",
        pattern, dir);
  } else {
    spdlog::info("files: \"{}\" matches no readable file yet; files created later are picked up",
                 pattern);
  }
}

void FileInput::report_unreadable(const std::string& path, const std::string& why,
                                  std::uint64_t size, LineSink& sink, std::int64_t wall_ns) {
  auto [it, fresh] = unreadable_.try_emplace(path);
  it->second.seen = true;
  if (!fresh && it->second.why == why) return;
  it->second.why = why;
  metrics_.sources_unreadable_episodes.fetch_add(1, std::memory_order_relaxed);
  if (size > 0) {
    spdlog::warn(
        "files: {} {}; its {} bytes are not collected while this lasts (gap record "
        "written; warned once until it changes)",
        path, why, size);
    GapBody gap(gap_reason::kSourceUnreadable, path);
    gap.size = size;
    gap.note = path + " " + why;
    emit_gap(sink, gap, wall_ns);
  } else {
    spdlog::warn("files: {} {} (warned once until it changes)", path, why);
  }
}

void FileInput::update_unreadable(std::int64_t wall_ns) {
  const std::size_t n = unreadable_.size() + read_failing_;
  metrics_.sources_unreadable.store(n, std::memory_order_relaxed);
  if (n == 0) {
    metrics_.health.clear("source_unreadable");
    return;
  }
  std::string example;
  if (!unreadable_.empty())
    example = unreadable_.begin()->first + " " + unreadable_.begin()->second.why;
  else
    example = "reads of a followed file fail";
  metrics_.health.set("source_unreadable", Health::Level::kDegraded,
                      fmt::format("{} source(s) cannot be read, e.g. {}", n, example), wall_ns);
}

void FileInput::open_file(const std::string& path, FileId id, std::uint64_t size, LineSink& sink,
                          std::int64_t wall_ns) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) {
    report_unreadable(path, fmt::format("cannot be opened ({})", std::strerror(errno)), size, sink,
                      wall_ns);
    return;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return;
  FileId actual{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  if (!(actual == id)) return;  // replaced between glob and open: the next scan sees it
  adopt(path, path, std::move(fd), id, sink, wall_ns);
}

void FileInput::adopt(const std::string& path, const std::string& name, UniqueFd fd, FileId id,
                      LineSink& sink, std::int64_t wall_ns) {
  if (is_compressed(path, fd.get())) {
    compressed_[id] = {path, true};
    metrics_.compressed_skipped.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("files: {} is compressed; not read as text", path);
    return;
  }
  if (files_.size() >= options_.max_open_files) {
    if (!warned_max_open_)
      spdlog::warn("files: max_open_files ({}) reached; {} waits for a free slot",
                   options_.max_open_files, path);
    warned_max_open_ = true;
    return;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return;
  const auto size = static_cast<std::uint64_t>(st.st_size);

  std::uint64_t offset = 0;
  bool mid_line = false;
  std::string source = name;
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
  if (it->second.read_failing) --read_failing_;
  // A file rotated away may come back under a matched name (`app.log*`, a rename chain), and
  // the watcher may still hold an fd it opened on a file since read to its end and deleted:
  // either then resumes where it was instead of being read twice (the fingerprint tells a
  // reused inode apart). Bounded: the oldest are dropped.
  if (resume_.size() >= kMaxClosedPositions) resume_.erase(resume_.begin());
  resume_[id] = it->second.tailer->position();
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
      const int err = errno;
      metrics_.read_errors.fetch_add(1, std::memory_order_relaxed);
      if (!tracked.read_failing) read_failed(tracked, err, sink, wall_ns);
      continue;
    }
    if (tracked.read_failing) {
      tracked.read_failing = false;
      --read_failing_;
      spdlog::info("files: reads of {} work again (at offset {})", t.path(), t.read_offset());
      update_unreadable(wall_ns);
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

void FileInput::read_failed(Tracked& tracked, int err, LineSink& sink, std::int64_t wall_ns) {
  FileTailer& t = *tracked.tailer;
  tracked.read_failing = true;
  ++read_failing_;
  metrics_.sources_unreadable_episodes.fetch_add(1, std::memory_order_relaxed);
  auto size = t.size();
  spdlog::warn(
      "files: reads of {} fail at offset {} ({}); retrying; what it holds past that "
      "offset is not collected while this lasts (gap record written; warned once)",
      t.path(), t.read_offset(), std::strerror(err));
  GapBody gap(gap_reason::kSourceUnreadable, t.path());
  gap.offset = t.read_offset();
  if (size) gap.size = *size;
  if (size && *size > t.read_offset()) gap.lost_bytes = *size - t.read_offset();
  gap.note = fmt::format("read failed: {}", std::strerror(err));
  emit_gap(sink, gap, wall_ns);
  update_unreadable(wall_ns);
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
