// Follows one file: reads it in large chunks at its own offset, finds lines with memchr and
// hands them to a LineSink as views into a shared read buffer (no copy, no syscall per line).
// Lines over max_line_bytes are cut into pieces flagged kSplitHead / kSplitTail; a line that
// stays without its newline past partial_timeout is emitted with kPartial (its rest, when it
// comes, is a kSplitTail continuation). Tracks how far records have been emitted — the
// position that is checkpointed — and notices truncation and deletion.
// Not thread-safe: owned and driven by the input thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/inputs/file_identity.h"
#include "agent/inputs/line_sink.h"
#include "agent/spool/checkpoint.h"
#include "agent/util/unique_fd.h"
#include "schemas/limits.h"
#include "schemas/result.h"

namespace blackbox::agent {

struct TailerOptions {
  std::size_t chunk_bytes = 256 * 1024;  // one read() call
  std::uint32_t max_line_bytes = kDefaultMaxLineBytes;
  std::int64_t partial_timeout_ns = 1'000'000'000;  // emit a newline-less tail after this
  std::uint32_t fingerprint_bytes = 1024;
};

// Scratch space shared by the tailers of one thread: a pending line plus one chunk, followed
// by padding so that parsers (simdjson) may read a little past a line's end.
class ReadBuffer {
 public:
  static constexpr std::size_t kPadding = 64;
  // At least `n` usable bytes (+ kPadding). Contents are not preserved.
  char* reserve(std::size_t n);

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
};

enum class FileChange { kNone, kTruncated, kDeleted };

class FileTailer {
 public:
  struct ReadStats {
    std::uint64_t bytes = 0;
    std::uint64_t lines = 0;
    bool eof = false;
  };

  // Follows `fd` (open on `path`, identity `id`) from `offset`; `mid_line` when that offset
  // is inside a line whose beginning was already emitted.
  FileTailer(std::string path, UniqueFd fd, FileId id, std::uint64_t offset, bool mid_line,
             const TailerOptions& options);

  // Reads up to about `budget` bytes and emits every complete line. Errors: kIo.
  [[nodiscard]] Result<ReadStats> read(LineSink& sink, ReadBuffer& buffer, std::size_t budget,
                                       std::int64_t wall_ns, std::int64_t steady_ns);
  // Emits the pending newline-less tail when it has not grown for partial_timeout, or at
  // once when `force`. Returns whether a record was emitted.
  bool flush_partial(LineSink& sink, std::int64_t wall_ns, std::int64_t steady_ns, bool force);
  // At end of file: was the file truncated (shorter than our offset, or its first bytes
  // changed) or deleted? Also extends the fingerprint as the file grows.
  [[nodiscard]] Result<FileChange> check();
  // After kTruncated: emits the pending tail as partial and a gap record, restarts at 0.
  void restart_after_truncation(LineSink& sink, std::int64_t wall_ns, std::int64_t steady_ns);

  // The file's size now. Errors: kIo.
  [[nodiscard]] Result<std::uint64_t> size() const;
  FilePosition position() const;
  const std::string& path() const { return path_; }
  FileId id() const { return id_; }
  std::uint64_t read_offset() const { return read_offset_; }
  std::uint64_t emitted_offset() const { return read_offset_ - pending_.size(); }
  bool has_pending() const { return !pending_.empty(); }
  std::int64_t last_data_steady_ns() const { return last_data_ns_; }

 private:
  std::uint64_t split_lines(LineSink& sink, const char* buf, std::size_t end, std::size_t scan_from,
                            std::int64_t wall_ns);
  void emit_line(LineSink& sink, std::string_view line, std::int64_t wall_ns, std::uint64_t& count);

  std::string path_;
  UniqueFd fd_;
  FileId id_;
  TailerOptions options_;
  Fingerprint fp_;
  std::uint64_t read_offset_;
  bool mid_line_;
  std::string pending_;  // read, not yet emitted: the start of an unfinished line
  std::int64_t pending_since_ns_ = 0;
  std::int64_t last_data_ns_ = 0;
};

}  // namespace blackbox::agent
