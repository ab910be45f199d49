#include "agent/pipeline/sealer.h"

#include <spdlog/spdlog.h>

namespace blackbox::agent {

Sealer::Sealer(const Checkpoint& recovered, int compression_level)
    : compressor_(compression_level), streams_(recovered.streams) {
  encode_file_positions(positions_, recovered.files);
}

StreamState& Sealer::stream_state(std::uint32_t stream) {
  for (auto& s : streams_)
    if (s.stream == stream) return s;
  streams_.push_back(StreamState{stream, 0, kZeroHash});
  return streams_.back();
}

void Sealer::raise_floor(std::uint32_t stream, std::uint64_t next_seq, const ChainHash& head) {
  std::lock_guard lock(floor_mu_);
  for (auto& f : floors_) {
    if (f.stream == stream) {
      if (next_seq > f.next_seq) f = StreamState{stream, next_seq, head};
      return;
    }
  }
  floors_.push_back(StreamState{stream, next_seq, head});
}

Result<void> Sealer::seal(CutBatch& in, SealedEntry& out) {
  out.batch.clear();
  out.checkpoint.clear();
  out.stream = in.stream;
  out.end_seq = 0;
  out.records = 0;
  out.ticket = in.ticket;
  if (in.builder && !in.builder->empty()) {
    StreamState& st = stream_state(in.stream);
    {
      std::lock_guard lock(floor_mu_);
      for (const auto& f : floors_) {
        if (f.stream == in.stream && f.next_seq > st.next_seq) {
          spdlog::warn(
              "sealer: stream {} jumps from seq {} to {}: the collector already holds "
              "those (agent state was lost)",
              in.stream, st.next_seq, f.next_seq);
          st.next_seq = f.next_seq;
          st.head = f.head;
        }
      }
    }
    const std::uint32_t count = in.builder->record_count();
    // The codec grows its output to the compression bound (≈ the raw size) before it knows
    // the result; sealing into one scratch buffer and copying the (~5× smaller) batch out
    // keeps the entries that queue up for the writer small.
    scratch_.clear();
    auto h = in.builder->seal(in.stream, st.next_seq, st.head, &compressor_, scratch_);
    if (!h) return h.error();
    out.batch.assign(scratch_);
    st.next_seq = h->end_seq();
    st.head = h->hash;
    out.end_seq = h->end_seq();
    out.records = count;
  }
  if (in.positions) positions_ = std::move(*in.positions);
  encode_stream_states(out.checkpoint, streams_);
  out.checkpoint.append(positions_);
  return {};
}

}  // namespace blackbox::agent
