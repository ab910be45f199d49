#include "agent/inputs/file_tailer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "schemas/gap_body.h"
#include "schemas/record.h"

namespace blackbox::agent {

char* ReadBuffer::reserve(std::size_t n) {
  if (n > capacity_) {
    data_.reset(new char[n + kPadding]);
    std::memset(data_.get() + n, 0, kPadding);
    capacity_ = n;
  }
  return data_.get();
}

FileTailer::FileTailer(std::string path, UniqueFd fd, FileId id, std::uint64_t offset,
                       bool mid_line, const TailerOptions& options)
    : path_(std::move(path)),
      fd_(std::move(fd)),
      id_(id),
      options_(options),
      read_offset_(offset),
      mid_line_(mid_line) {
  if (auto fp = read_fingerprint(fd_.get(), options_.fingerprint_bytes)) fp_ = *fp;
}

Result<FileTailer::ReadStats> FileTailer::read(LineSink& sink, ReadBuffer& buffer,
                                               std::size_t budget, std::int64_t wall_ns,
                                               std::int64_t steady_ns) {
  ReadStats st;
  while (st.bytes < budget) {
    const std::size_t p = pending_.size();
    char* buf = buffer.reserve(p + options_.chunk_bytes);
    ssize_t n = ::pread(fd_.get(), buf + p, options_.chunk_bytes, static_cast<off_t>(read_offset_));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Err(Errc::kIo);
    }
    if (n == 0) {
      st.eof = true;
      break;
    }
    if (p > 0) std::memcpy(buf, pending_.data(), p);
    read_offset_ += static_cast<std::uint64_t>(n);
    st.bytes += static_cast<std::uint64_t>(n);
    last_data_ns_ = steady_ns;
    st.lines += split_lines(sink, buf, p + static_cast<std::size_t>(n), p, wall_ns);
    if (!pending_.empty()) pending_since_ns_ = steady_ns;
  }
  return st;
}

std::uint64_t FileTailer::split_lines(LineSink& sink, const char* buf, std::size_t end,
                                      std::size_t scan_from, std::int64_t wall_ns) {
  std::uint64_t count = 0;
  std::size_t start = 0;
  std::size_t pos = scan_from;
  while (pos < end) {
    const void* nl = std::memchr(buf + pos, '\n', end - pos);
    if (!nl) break;
    const auto e = static_cast<std::size_t>(static_cast<const char*>(nl) - buf);
    emit_line(sink, std::string_view(buf + start, e - start), wall_ns, count);
    start = pos = e + 1;
  }
  // Keep at most max_line_bytes of an unfinished line: the rest goes out as split pieces.
  const std::size_t max = options_.max_line_bytes;
  while (end - start > max) {
    sink.on_line(path_, std::string_view(buf + start, max),
                 record_flags::kSplitHead | (mid_line_ ? record_flags::kSplitTail : 0), wall_ns);
    mid_line_ = true;
    start += max;
    ++count;
  }
  pending_.assign(buf + start, end - start);
  return count;
}

void FileTailer::emit_line(LineSink& sink, std::string_view line, std::int64_t wall_ns,
                           std::uint64_t& count) {
  const std::size_t max = options_.max_line_bytes;
  while (line.size() > max) {
    sink.on_line(path_, line.substr(0, max),
                 record_flags::kSplitHead | (mid_line_ ? record_flags::kSplitTail : 0), wall_ns);
    mid_line_ = true;
    line.remove_prefix(max);
    ++count;
  }
  sink.on_line(path_, line, mid_line_ ? record_flags::kSplitTail : 0, wall_ns);
  mid_line_ = false;
  ++count;
}

bool FileTailer::flush_partial(LineSink& sink, std::int64_t wall_ns, std::int64_t steady_ns,
                               bool force) {
  if (pending_.empty()) return false;
  if (!force && steady_ns - pending_since_ns_ < options_.partial_timeout_ns) return false;
  sink.on_line(path_, pending_, record_flags::kPartial | (mid_line_ ? record_flags::kSplitTail : 0),
               wall_ns);
  mid_line_ = true;
  pending_.clear();
  return true;
}

Result<FileChange> FileTailer::check() {
  struct stat st;
  if (::fstat(fd_.get(), &st) != 0) return Err(Errc::kIo);
  if (st.st_nlink == 0) return FileChange::kDeleted;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < read_offset_) return FileChange::kTruncated;
  if (fp_.len < options_.fingerprint_bytes && size > fp_.len) {
    // The file grew past the fingerprinted prefix: check the old prefix, then extend it.
    auto same = fingerprint_matches(fd_.get(), fp_);
    if (!same) return same.error();
    if (!*same) return FileChange::kTruncated;
    auto fp = read_fingerprint(fd_.get(), options_.fingerprint_bytes);
    if (!fp) return fp.error();
    fp_ = *fp;
    return FileChange::kNone;
  }
  if (fp_.len > 0) {
    auto same = fingerprint_matches(fd_.get(), fp_);
    if (!same) return same.error();
    if (!*same) return FileChange::kTruncated;
  }
  return FileChange::kNone;
}

void FileTailer::restart_after_truncation(LineSink& sink, std::int64_t wall_ns,
                                          std::int64_t steady_ns) {
  flush_partial(sink, wall_ns, steady_ns, true);
  GapBody gap(gap_reason::kTruncated, path_);
  gap.offset = read_offset_;
  gap.note =
      "bytes written after the last read and before the truncation are not in this file any more";
  sink.on_gap(path_, encode_gap_body(gap), wall_ns);
  read_offset_ = 0;
  mid_line_ = false;
  fp_ = {};
  if (auto fp = read_fingerprint(fd_.get(), options_.fingerprint_bytes)) fp_ = *fp;
}

Result<std::uint64_t> FileTailer::size() const {
  struct stat st;
  if (::fstat(fd_.get(), &st) != 0) return Err(Errc::kIo);
  return static_cast<std::uint64_t>(st.st_size);
}

FilePosition FileTailer::position() const {
  FilePosition p;
  p.path = path_;
  p.dev = id_.dev;
  p.ino = id_.ino;
  p.fp_len = fp_.len;
  p.fp_crc = fp_.crc;
  p.offset = emitted_offset();
  p.flags = mid_line_ ? position_flags::kMidLine : 0;
  return p;
}

}  // namespace blackbox::agent
