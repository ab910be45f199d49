// The file input: expands glob patterns, follows every matching file with a FileTailer and
// deals with what happens to log files — new files, rotation by rename (the old file is read
// to its end, then closed once idle), copytruncate and in-place truncation (restart at 0 with
// a gap record), deletion while open (read to the end, closed at once), inode reuse (caught
// by the fingerprint). Resumes from checkpointed positions. Input thread only.
//
// Discovery is by inotify when watch() was called (DirWatcher: a file is opened the moment it
// appears, and followed through renames), with the glob scan as the fallback. A file is
// followed once by identity (FileId) whatever names it appears under (`app.log*` matches the
// rotated names too); a file closed after rotation resumes from where it was if it shows up
// again. Compressed files (by name or magic bytes) are never read as text. Losses the input
// can know of become gap records: a file that vanished before it could be opened, an inotify
// queue overflow, a file with data that cannot be opened or read.
//
// Sources that cannot be read (permissions, a directory or FIFO where a file was expected, a
// dangling symlink, read errors) are reported once per episode — a warning when it starts, an
// info line when it ends — and counted (sources_unreadable gauge, episodes counter, the
// "source_unreadable" health condition).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/agent_metrics.h"
#include "agent/inputs/dir_watcher.h"
#include "agent/inputs/file_identity.h"
#include "agent/inputs/file_tailer.h"
#include "agent/inputs/line_sink.h"
#include "agent/spool/checkpoint.h"
#include "schemas/gap_body.h"

namespace blackbox::agent {

enum class ReadFrom { kBeginning, kEnd };

struct FileInputOptions {
  std::vector<std::string> globs;
  // Where to start on a file found by the first scan after a start with no saved state.
  // Every other file not in the saved state (created later, or rotated in) starts at 0.
  ReadFrom read_from = ReadFrom::kBeginning;
  TailerOptions tailer;
  std::int64_t rotate_wait_ns = 10'000'000'000;  // keep a rotated-away file this long idle
  std::size_t max_open_files = 512;
};

class FileInput {
 public:
  // `resume`: positions from the spool's last checkpoint; `fresh`: there was no saved state.
  FileInput(FileInputOptions options, const std::vector<FilePosition>& resume, bool fresh,
            AgentMetrics& metrics);

  // Starts inotify discovery: `wake` is called (from another thread) when discover() has
  // work. Call before the input thread starts.
  void watch(std::function<void()> wake);
  // Stops inotify discovery (joins the watcher thread, after which `wake` is never called).
  void unwatch() { watcher_.reset(); }
  // Whether discover() has work (any thread).
  bool discovery_pending() const { return watcher_ && watcher_->pending(); }
  // Adopts the files the watcher opened, writes gap records for those it could not, and
  // rescans at once after an overflow. Call after the first scan().
  void discover(LineSink& sink, std::int64_t wall_ns, std::int64_t steady_ns);

  // Expands the globs: opens new files, marks files no longer at any matched path as rotated.
  void scan(LineSink& sink, std::int64_t wall_ns, std::int64_t steady_ns);
  // One pass over the open files: up to one chunk from each, `after_read` after each read
  // (the caller may cut a batch there: positions are consistent between reads). Handles end
  // of file: partial-line timeouts, truncation, deletion, closing rotated files. Returns the
  // bytes read.
  std::uint64_t poll(LineSink& sink, ReadBuffer& buffer, std::int64_t wall_ns,
                     std::int64_t steady_ns, const std::function<void()>& after_read);
  // Last gasp: reads every file up to its size now and emits unfinished lines as partial.
  void drain(LineSink& sink, ReadBuffer& buffer, std::int64_t wall_ns, std::int64_t steady_ns,
             const std::function<void()>& after_read);
  // The positions to checkpoint with the records emitted so far.
  void encode_positions(std::string& out) const;
  std::size_t open_files() const { return files_.size(); }
  // Positions changed without records (start at end, a file closed): worth a state entry.
  bool take_positions_dirty();

 private:
  struct Tracked {
    std::unique_ptr<FileTailer> tailer;
    std::int64_t rotated_since_ns = 0;  // 0: still at a matched path
    bool read_failing = false;          // in an episode of failed reads
  };
  struct Unreadable {
    std::string why;
    bool seen = false;  // reported again by the current scan
  };
  // Opens `path` (expected to be `id`) and follows it; reports it unreadable if it cannot.
  void open_file(const std::string& path, FileId id, std::uint64_t size, LineSink& sink,
                 std::int64_t wall_ns);
  // Follows the open `fd` (identity `id`), its records under `source`.
  // Follows the open `fd` of `path` (identity `id`), its records under `name` (or its saved
  // source) — unless it is compressed, or max_open_files is reached.
  void adopt(const std::string& path, const std::string& name, UniqueFd fd, FileId id,
             LineSink& sink, std::int64_t wall_ns);
  void close_file(FileId id);
  void read_failed(Tracked& tracked, int err, LineSink& sink, std::int64_t wall_ns);
  void emit_gap(LineSink& sink, const GapBody& gap, std::int64_t wall_ns);
  // One warning per episode (and a gap record when `size` bytes are known to be there).
  void report_unreadable(const std::string& path, const std::string& why, std::uint64_t size,
                         LineSink& sink, std::int64_t wall_ns);
  void update_unreadable(std::int64_t wall_ns);
  void check_pattern(const std::string& pattern, bool matched_any);

  FileInputOptions options_;
  AgentMetrics& metrics_;
  std::unordered_map<FileId, FilePosition, FileIdHash> resume_;
  std::unordered_map<FileId, Tracked, FileIdHash> files_;
  std::vector<FileId> order_;  // stable reading order
  bool fresh_;
  bool first_scan_ = true;
  bool positions_dirty_ = false;
  bool warned_max_open_ = false;
  std::unique_ptr<DirWatcher> watcher_;
  // Compressed files skipped: id → (path, seen by this scan). The path guards inode reuse.
  std::unordered_map<FileId, std::pair<std::string, bool>, FileIdHash> compressed_;
  std::unordered_map<std::string, Unreadable> unreadable_;  // path → episode
  std::unordered_map<std::string, bool> pattern_warned_;    // glob → warned it finds nothing
  std::size_t read_failing_ = 0;                            // tailed files whose reads fail
};

}  // namespace blackbox::agent
