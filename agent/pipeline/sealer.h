// Seals cut batches: compresses them once (zstd), assigns each stream's next sequence
// numbers and chains each batch to the previous one of its stream, and builds the checkpoint
// that is spooled with it (stream states after the batch + file positions). Sealer thread
// only, except raise_floor().
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/spool/checkpoint.h"
#include "schemas/batch.h"
#include "schemas/result.h"
#include "schemas/zstd_codec.h"

namespace blackbox::agent {

// A batch cut by a producer (input thread, lifecycle events), on its way to the sealer.
struct CutBatch {
  std::uint32_t stream = 0;
  std::unique_ptr<BatchBuilder> builder;  // null or empty: a state entry (positions only)
  std::optional<std::string> positions;   // encoded file positions; nullopt: unchanged
  std::uint64_t ticket = 0;               // submission order, for flush waits
};

// A sealed batch (or state entry) and its checkpoint, ready to append to the spool.
struct SealedEntry {
  std::string batch;  // empty for a state entry
  std::string checkpoint;
  std::uint32_t stream = 0;
  std::uint64_t end_seq = 0;
  std::uint32_t records = 0;
  std::uint64_t ticket = 0;
};

class Sealer {
 public:
  Sealer(const Checkpoint& recovered, int compression_level);

  // Seals `in` into `out` (whose buffers are reused). Errors: kCompressFailed (fatal: the
  // records stay unspooled and their file positions uncommitted).
  [[nodiscard]] Result<void> seal(CutBatch& in, SealedEntry& out);

  // The collector already holds `stream` up to next_seq (chained at `head`): sequences below
  // must not be used again (the agent's own state was lost). Thread-safe.
  void raise_floor(std::uint32_t stream, std::uint64_t next_seq, const ChainHash& head);

 private:
  StreamState& stream_state(std::uint32_t stream);

  ZstdCompressor compressor_;
  std::string scratch_;  // sealing room: compressBound-sized, so entries stay right-sized
  std::vector<StreamState> streams_;
  std::string positions_;  // last encoded file positions
  mutable std::mutex floor_mu_;
  std::vector<StreamState> floors_;
};

}  // namespace blackbox::agent
