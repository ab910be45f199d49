#include "agent/spool/segment_format.h"

#include <algorithm>
#include <cstdio>

#include "schemas/bytes.h"
#include "schemas/crc32c.h"

namespace blackbox::agent {

EntryHeaderBytes make_entry_header(EntryType type, std::string_view batch,
                                   std::string_view checkpoint) {
  EntryHeaderBytes h{};
  bytes::store_le<std::uint32_t>(h.data(), kEntryMagic);
  h[4] = static_cast<char>(type);
  bytes::store_le<std::uint32_t>(h.data() + 8, static_cast<std::uint32_t>(batch.size()));
  bytes::store_le<std::uint32_t>(h.data() + 12, static_cast<std::uint32_t>(checkpoint.size()));
  std::uint32_t crc = crc32c::extend(0, std::string_view(h.data() + 4, 12));
  crc = crc32c::extend(crc, batch);
  crc = crc32c::extend(crc, checkpoint);
  bytes::store_le<std::uint32_t>(h.data() + 16, crc);
  return h;
}

Result<EntryHeader> parse_entry_header(std::string_view header) {
  if (header.size() < kEntryHeaderBytes) return Err(Errc::kTruncated);
  const char* p = header.data();
  if (bytes::load_le<std::uint32_t>(p) != kEntryMagic) return Err(Errc::kBadMagic);
  auto type = static_cast<std::uint8_t>(p[4]);
  if (type < 1 || type > 3 || p[5] != 0 || p[6] != 0 || p[7] != 0)
    return Err(Errc::kMalformedRecord);
  EntryHeader h;
  h.type = static_cast<EntryType>(type);
  h.batch_len = bytes::load_le<std::uint32_t>(p + 8);
  h.checkpoint_len = bytes::load_le<std::uint32_t>(p + 12);
  h.crc = bytes::load_le<std::uint32_t>(p + 16);
  if (h.batch_len > kMaxSpoolBatchBytes || h.checkpoint_len > kMaxCheckpointBytes)
    return Err(Errc::kMalformedRecord);
  if (h.type != EntryType::kBatch && h.batch_len != 0) return Err(Errc::kMalformedRecord);
  if (h.type == EntryType::kBatch && h.batch_len == 0) return Err(Errc::kMalformedRecord);
  return h;
}

bool entry_crc_ok(const EntryHeader& h, std::string_view header, std::string_view body) {
  std::uint32_t crc = crc32c::extend(0, header.substr(4, 12));
  return crc32c::extend(crc, body) == h.crc;
}

std::string make_segment_header(std::uint64_t id) {
  std::string out;
  bytes::put_le<std::uint32_t>(out, kSegmentMagic);
  bytes::put_u8(out, kSegmentVersion);
  out.append(3, '\0');
  bytes::put_le<std::uint64_t>(out, id);
  bytes::put_le<std::uint32_t>(out, 0);
  bytes::put_le<std::uint32_t>(out, crc32c::value(out));
  return out;
}

Result<std::uint64_t> parse_segment_header(std::string_view header) {
  if (header.size() < kSegmentHeaderBytes) return Err(Errc::kTruncated);
  const char* p = header.data();
  if (bytes::load_le<std::uint32_t>(p) != kSegmentMagic) return Err(Errc::kBadMagic);
  if (crc32c::value(header.substr(0, 20)) != bytes::load_le<std::uint32_t>(p + 20))
    return Err(Errc::kChecksumMismatch);
  const auto version = static_cast<std::uint8_t>(p[4]);
  if (version < 1 || version > kSegmentVersion) return Err(Errc::kUnsupportedVersion);
  return bytes::load_le<std::uint64_t>(p + 8);
}

std::string encode_spool_identity(const SpoolIdentity& id) {
  std::string out;
  bytes::put_u8(out, kIdentityVersion);
  for (const std::string* s : {&id.instance_id, &id.boot_id}) {
    const std::size_t n = std::min<std::size_t>(s->size(), 0xffff);
    bytes::put_le<std::uint16_t>(out, static_cast<std::uint16_t>(n));
    out.append(*s, 0, n);
  }
  return out;
}

Result<SpoolIdentity> decode_spool_identity(std::string_view body) {
  if (body.empty()) return Err(Errc::kMalformedRecord);
  if (static_cast<std::uint8_t>(body[0]) != kIdentityVersion) return Err(Errc::kUnsupportedVersion);
  body.remove_prefix(1);
  SpoolIdentity id;
  for (std::string* s : {&id.instance_id, &id.boot_id}) {
    if (body.size() < 2) return Err(Errc::kMalformedRecord);
    const std::size_t n = bytes::load_le<std::uint16_t>(body.data());
    body.remove_prefix(2);
    if (body.size() < n) return Err(Errc::kMalformedRecord);
    s->assign(body.substr(0, n));
    body.remove_prefix(n);
  }
  if (!body.empty()) return Err(Errc::kMalformedRecord);
  return id;
}

std::string segment_file_name(std::uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu.seg", static_cast<unsigned long long>(id));
  return buf;
}

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != 24 || name.substr(20) != ".seg") return std::nullopt;
  std::uint64_t id = 0;
  for (char c : name.substr(0, 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    std::uint64_t next = id * 10 + static_cast<std::uint64_t>(c - '0');
    if (next < id) return std::nullopt;
    id = next;
  }
  return id;
}

}  // namespace blackbox::agent
