// Test helpers for spool tests: batches sealed as the sealer would, checkpoints whose file
// offset is derived from the stream's next sequence (so a test can check they travel together),
// the segment files of a spool directory, a quiet log.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <filesystem>
#include <set>
#include <span>
#include <string>

#include "agent/spool/checkpoint.h"
#include "agent/spool/segment_format.h"
#include "schemas/batch.h"

namespace blackbox::agent::testing {

// Seals batches of `records` lines for one stream, chained, as the sealer would.
class BatchMaker {
 public:
  explicit BatchMaker(std::uint32_t stream = 1) : stream_(stream) {}
  std::string next(int records, std::size_t line_bytes = 100) {
    BatchBuilder b;
    for (int i = 0; i < records; ++i) {
      std::string line(line_bytes, static_cast<char>('a' + (seq_ + i) % 26));
      RecordData r;
      r.source = "/var/log/x.log";
      r.line = line;
      b.add(r);
    }
    std::string out;
    auto h = b.seal(stream_, seq_, head_, nullptr, out);
    EXPECT_TRUE(h);
    seq_ = h->end_seq();
    head_ = h->hash;
    return out;
  }
  std::uint64_t seq() const { return seq_; }
  std::uint32_t stream() const { return stream_; }

 private:
  std::uint32_t stream_;
  std::uint64_t seq_ = 0;
  ChainHash head_{};
};

inline std::string checkpoint_for(std::uint64_t next_seq, std::uint64_t offset) {
  std::string cp;
  StreamState s{1, next_seq, {}};
  encode_stream_states(cp, std::span<const StreamState>(&s, 1));
  FilePosition f{"/var/log/x.log", 1, 2, 0, 0, offset, 0};
  encode_file_positions(cp, std::span<const FilePosition>(&f, 1));
  return cp;
}

// Silences the log while it lives (fault loops log hundreds of expected errors).
class QuietLogs {
 public:
  QuietLogs() : level_(spdlog::get_level()) { spdlog::set_level(spdlog::level::off); }
  ~QuietLogs() { spdlog::set_level(level_); }
  QuietLogs(const QuietLogs&) = delete;
  QuietLogs& operator=(const QuietLogs&) = delete;

 private:
  spdlog::level::level_enum level_;
};

// The ids of the segment files in `dir`.
inline std::set<std::uint64_t> segment_ids(const std::string& dir) {
  std::set<std::uint64_t> ids;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (auto id = parse_segment_file_name(e.path().filename().string())) ids.insert(*id);
  return ids;
}

}  // namespace blackbox::agent::testing
