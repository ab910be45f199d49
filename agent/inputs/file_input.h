// The file input: expands glob patterns, follows every matching file with a FileTailer and
// deals with what happens to log files — new files, rotation by rename (the old file is read
// to its end, then closed once idle), copytruncate and in-place truncation (restart at 0 with
// a gap record), deletion while open (read to the end, closed at once), inode reuse (caught
// by the fingerprint). Resumes from checkpointed positions. Input thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/agent_metrics.h"
#include "agent/inputs/file_identity.h"
#include "agent/inputs/file_tailer.h"
#include "agent/inputs/line_sink.h"
#include "agent/spool/checkpoint.h"

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
  };
  void open_file(const std::string& path, FileId id, LineSink& sink, std::int64_t wall_ns);
  void close_file(FileId id);

  FileInputOptions options_;
  AgentMetrics& metrics_;
  std::unordered_map<FileId, FilePosition, FileIdHash> resume_;
  std::unordered_map<FileId, Tracked, FileIdHash> files_;
  std::vector<FileId> order_;  // stable reading order
  bool fresh_;
  bool first_scan_ = true;
  bool positions_dirty_ = false;
  bool warned_max_open_ = false;
};

}  // namespace blackbox::agent
