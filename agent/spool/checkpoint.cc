#include "agent/spool/checkpoint.h"

#include "schemas/bytes.h"

namespace blackbox::agent {

namespace {
constexpr std::size_t kStreamStateBytes = 4 + 8 + 32;
constexpr std::size_t kMinFileBytes = 1 + 8 + 8 + 4 + 4 + 8 + 1;
constexpr std::size_t kMaxPathBytes = 4096;
}  // namespace

void encode_stream_states(std::string& out, std::span<const StreamState> streams) {
  bytes::put_u8(out, kCheckpointVersion);
  bytes::put_varint(out, streams.size());
  for (const auto& s : streams) {
    bytes::put_le(out, s.stream);
    bytes::put_le(out, s.next_seq);
    out.append(reinterpret_cast<const char*>(s.head.data()), s.head.size());
  }
}

void encode_file_positions(std::string& out, std::span<const FilePosition> files) {
  bytes::put_varint(out, files.size());
  for (const auto& f : files) {
    bytes::put_string(out, f.path);
    bytes::put_le(out, f.dev);
    bytes::put_le(out, f.ino);
    bytes::put_le(out, f.fp_len);
    bytes::put_le(out, f.fp_crc);
    bytes::put_le(out, f.offset);
    bytes::put_u8(out, f.flags);
  }
}

Result<Checkpoint> decode_checkpoint(std::string_view data) {
  bytes::Reader in(data);
  std::uint8_t version;
  if (!in.u8(version)) return Err(Errc::kMalformedRecord);
  if (version != kCheckpointVersion) return Err(Errc::kUnsupportedVersion);
  Checkpoint cp;
  std::uint64_t n;
  if (!in.varint(n) || n > in.remaining() / kStreamStateBytes) return Err(Errc::kMalformedRecord);
  cp.streams.resize(n);
  for (auto& s : cp.streams) {
    std::string_view head;
    if (!in.le(s.stream) || !in.le(s.next_seq) || !in.raw(32, head))
      return Err(Errc::kMalformedRecord);
    std::copy(head.begin(), head.end(), reinterpret_cast<char*>(s.head.data()));
  }
  if (!in.varint(n) || n > in.remaining() / kMinFileBytes) return Err(Errc::kMalformedRecord);
  cp.files.resize(n);
  for (auto& f : cp.files) {
    std::string_view path;
    if (!in.string(path, kMaxPathBytes) || !in.le(f.dev) || !in.le(f.ino) || !in.le(f.fp_len) ||
        !in.le(f.fp_crc) || !in.le(f.offset) || !in.u8(f.flags))
      return Err(Errc::kMalformedRecord);
    f.path.assign(path);
  }
  if (!in.empty()) return Err(Errc::kMalformedRecord);
  return cp;
}

}  // namespace blackbox::agent
