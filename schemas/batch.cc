#include "schemas/batch.h"

#include "schemas/bytes.h"
#include "schemas/crc32c.h"
#include "schemas/zstd_codec.h"

#include <algorithm>
#include <cstring>

namespace blackbox {

namespace {

constexpr std::size_t kPrevHashOffset = 52;
constexpr std::size_t kHashOffset = 84;
constexpr std::size_t kHeaderCrcOffset = 116;

}  // namespace

void BatchBuilder::add(const RecordData& r) {
  if (count_ == 0) {
    min_time_ = max_time_ = r.event_time_ns;
  } else {
    min_time_ = std::min(min_time_, r.event_time_ns);
    max_time_ = std::max(max_time_, r.event_time_ns);
  }
  append_record(raw_, r);
  ++count_;
}

void BatchBuilder::clear() {
  raw_.clear();
  count_ = 0;
  min_time_ = max_time_ = 0;
}

Result<BatchHeader> BatchBuilder::seal(std::uint32_t stream, std::uint64_t first_seq,
                                       const ChainHash& prev_hash, ZstdCompressor* compressor,
                                       std::string& out) {
  if (count_ == 0) return Err(Errc::kEmptyFrame);
  if (raw_.size() > UINT32_MAX) return Err(Errc::kBatchTooLarge);
  BatchHeader h;
  h.stream = stream;
  h.record_count = count_;
  h.first_seq = first_seq;
  h.min_time_ns = min_time_;
  h.max_time_ns = max_time_;
  h.raw_size = static_cast<std::uint32_t>(raw_.size());
  h.prev_hash = prev_hash;

  const std::size_t start = out.size();
  out.resize(start + kBatchHeaderBytes);
  if (compressor != nullptr) {
    h.compression = Compression::kZstd;
    if (auto ok = compressor->compress(raw_, out); !ok) {
      out.resize(start);
      return ok.error();
    }
  } else {
    out.append(raw_);
  }
  const std::string_view payload(out.data() + start + kBatchHeaderBytes,
                                 out.size() - start - kBatchHeaderBytes);
  if (payload.size() > UINT32_MAX) {
    out.resize(start);
    return Err(Errc::kBatchTooLarge);
  }
  h.stored_size = static_cast<std::uint32_t>(payload.size());
  h.payload_crc = crc32c::value(payload);

  std::string header;
  header.reserve(kBatchHeaderBytes);
  bytes::put_le(header, kBatchMagic);
  bytes::put_u8(header, kBatchVersion);
  bytes::put_u8(header, static_cast<std::uint8_t>(h.compression));
  bytes::put_le<std::uint16_t>(header, 0);
  bytes::put_le(header, h.stream);
  bytes::put_le(header, h.record_count);
  bytes::put_le(header, h.first_seq);
  bytes::put_le(header, h.min_time_ns);
  bytes::put_le(header, h.max_time_ns);
  bytes::put_le(header, h.raw_size);
  bytes::put_le(header, h.stored_size);
  bytes::put_le(header, h.payload_crc);
  h.hash = chain_hash(prev_hash, header, payload);
  header.append(reinterpret_cast<const char*>(h.prev_hash.data()), h.prev_hash.size());
  header.append(reinterpret_cast<const char*>(h.hash.data()), h.hash.size());
  bytes::put_le(header, crc32c::value(header));
  std::memcpy(out.data() + start, header.data(), kBatchHeaderBytes);
  clear();
  return h;
}

Result<ChainHash> batch_chain_hash(std::string_view batch) {
  if (batch.size() < kBatchHeaderBytes) return Err(Errc::kTruncated);
  ChainHash h;
  std::memcpy(h.data(), batch.data() + kHashOffset, h.size());
  return h;
}

Result<BatchHeader> parse_batch_header(std::string_view batch, const Limits& limits) {
  if (batch.size() < kBatchHeaderBytes) return Err(Errc::kTruncated);
  const char* p = batch.data();
  if (bytes::load_le<std::uint32_t>(p) != kBatchMagic) return Err(Errc::kBadMagic);
  if (static_cast<std::uint8_t>(p[4]) != kBatchVersion) return Err(Errc::kUnsupportedVersion);
  if (bytes::load_le<std::uint32_t>(p + kHeaderCrcOffset) !=
      crc32c::value(batch.substr(0, kHeaderCrcOffset)))
    return Err(Errc::kChecksumMismatch);
  BatchHeader h;
  const auto compression = static_cast<std::uint8_t>(p[5]);
  if (compression > 1 || bytes::load_le<std::uint16_t>(p + 6) != 0)
    return Err(Errc::kUnsupportedVersion);
  h.compression = static_cast<Compression>(compression);
  h.stream = bytes::load_le<std::uint32_t>(p + 8);
  h.record_count = bytes::load_le<std::uint32_t>(p + 12);
  h.first_seq = bytes::load_le<std::uint64_t>(p + 16);
  h.min_time_ns = bytes::load_le<std::int64_t>(p + 24);
  h.max_time_ns = bytes::load_le<std::int64_t>(p + 32);
  h.raw_size = bytes::load_le<std::uint32_t>(p + 40);
  h.stored_size = bytes::load_le<std::uint32_t>(p + 44);
  h.payload_crc = bytes::load_le<std::uint32_t>(p + 48);
  std::memcpy(h.prev_hash.data(), p + kPrevHashOffset, h.prev_hash.size());
  std::memcpy(h.hash.data(), p + kHashOffset, h.hash.size());

  if (h.record_count == 0) return Err(Errc::kEmptyFrame);
  if (h.record_count > limits.max_records_per_batch) return Err(Errc::kTooManyRecords);
  if (h.raw_size > limits.max_batch_raw_bytes) return Err(Errc::kBatchTooLarge);
  if (h.stored_size > limits.max_frame_bytes) return Err(Errc::kFrameTooLarge);
  if (h.first_seq > UINT64_MAX - h.record_count) return Err(Errc::kMalformedRecord);
  if (h.compression == Compression::kNone && h.raw_size != h.stored_size)
    return Err(Errc::kMalformedRecord);
  if (batch.size() - kBatchHeaderBytes < h.stored_size) return Err(Errc::kTruncated);
  if (batch.size() - kBatchHeaderBytes > h.stored_size) return Err(Errc::kMalformedRecord);
  return h;
}

Result<void> verify_batch_integrity(const BatchHeader& h, std::string_view batch,
                                    Verify verify) {
  const std::string_view payload = batch.substr(kBatchHeaderBytes, h.stored_size);
  if (crc32c::value(payload) != h.payload_crc) return Err(Errc::kChecksumMismatch);
  if (verify == Verify::kCrcAndHash &&
      chain_hash(h.prev_hash, batch.substr(0, kBatchHashedHeaderBytes), payload) != h.hash)
    return Err(Errc::kChainMismatch);
  return {};
}

Result<std::string_view> batch_records(const BatchHeader& h, std::string_view batch,
                                       ZstdDecompressor& zstd, std::string& scratch) {
  const std::string_view payload = batch.substr(kBatchHeaderBytes, h.stored_size);
  if (h.compression == Compression::kNone) return payload;
  if (auto ok = zstd.decompress(payload, h.raw_size, scratch); !ok) return ok.error();
  return std::string_view(scratch);
}

}  // namespace blackbox
