// Test helpers for spool tests: batches sealed as the sealer would, and checkpoints whose file
// offset is derived from the stream's next sequence (so a test can check they travel together).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>

#include "agent/spool/checkpoint.h"
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

}  // namespace blackbox::agent::testing
