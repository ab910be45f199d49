// Fuzz target for the batch codec. Two ways in:
//  1. the input as a whole encoded batch (header parsing, CRCs, hash, sizes);
//  2. the input as a control byte, a count byte (count - 1) and a payload that the target wraps in
//  a batch
//     with correct CRCs and chain hash, so that zstd and the record parser see fuzzed bytes
//     that got past the checksums:
//       ctl & 3 == 0: payload = raw records, uncompressed
//       ctl & 3 == 1: payload = raw records, compressed here with zstd
//       ctl & 3 == 2: payload = u16 raw_size, then zstd bytes as given
// Whatever decodes is rendered with record_to_json() (as the query API does), re-encoded record
// by record, and must decode to the same records.
#include "schemas/batch.h"
#include "schemas/bytes.h"
#include "schemas/crc32c.h"
#include "schemas/record_json.h"
#include "schemas/zstd_codec.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace blackbox;

struct Owned {
  RecordKind kind;
  Severity severity;
  std::uint8_t flags;
  std::int64_t event_time_ns, read_time_ns;
  std::string source, line;
  std::vector<std::pair<std::string, std::string>> fields;
};

Owned own(const RecordView& r) {
  Owned o{r.kind,
          r.severity,
          r.flags,
          r.event_time_ns,
          r.read_time_ns,
          std::string(r.source),
          std::string(r.line),
          {}};
  std::vector<Field> fs;
  r.fields(fs);
  if (fs.size() != r.field_count) std::abort();
  for (const Field& f : fs) o.fields.emplace_back(f.key, f.value);
  return o;
}

bool same(const Owned& a, const Owned& b) {
  return a.kind == b.kind && a.severity == b.severity && a.flags == b.flags &&
         a.event_time_ns == b.event_time_ns && a.read_time_ns == b.read_time_ns &&
         a.source == b.source && a.line == b.line && a.fields == b.fields;
}

// A batch header with valid CRCs and hash around `payload` (layout: schemas/PROTOCOL.md §3).
std::string wrap(std::uint8_t compression, std::uint32_t count, std::uint32_t raw_size,
                 std::string_view payload) {
  std::string h;
  bytes::put_le(h, kBatchMagic);
  bytes::put_u8(h, kBatchVersion);
  bytes::put_u8(h, compression);
  bytes::put_le<std::uint16_t>(h, 0);
  bytes::put_le<std::uint32_t>(h, 1);  // stream
  bytes::put_le(h, count);
  bytes::put_le<std::uint64_t>(h, 1000);  // first seq
  bytes::put_le<std::int64_t>(h, 0);
  bytes::put_le<std::int64_t>(h, 0);
  bytes::put_le(h, raw_size);
  bytes::put_le(h, static_cast<std::uint32_t>(payload.size()));
  bytes::put_le(h, crc32c::value(payload));
  const ChainHash hash = chain_hash(kZeroHash, h, payload);
  h.append(32, '\0');
  h.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  bytes::put_le(h, crc32c::value(h));
  h.append(payload);
  return h;
}

void decode_and_recheck(std::string_view batch, const Limits& limits) {
  static ZstdDecompressor zstd;
  static ZstdCompressor compressor(1);
  std::string scratch;
  std::vector<Owned> records;
  std::uint64_t expect_seq = 0;
  bool seq_ok = true;
  auto h = decode_batch(batch, limits, zstd, scratch, [&](const RecordView& r) {
    if (records.empty()) expect_seq = r.seq;
    seq_ok = seq_ok && r.seq == expect_seq++;
    records.push_back(own(r));
    // What the collector and the query tool do next with an agent's (untrusted) record.
    const nlohmann::json j = record_to_json("i-fuzz", 1, r);
    if (j.dump().empty()) std::abort();
  });
  if (!h) return;
  if (!seq_ok || records.size() != h->record_count) std::abort();
  for (const Owned& o : records)
    if (o.line.size() > limits.max_line_bytes) std::abort();

  BatchBuilder builder;
  std::vector<Field> fields;
  for (const Owned& o : records) {
    fields.clear();
    for (const auto& [k, v] : o.fields) fields.push_back({k, v});
    RecordData d{o.kind,         o.severity, o.flags, o.event_time_ns,
                 o.read_time_ns, o.source,   o.line,  fields};
    builder.add(d);
  }
  std::string again;
  auto sealed = builder.seal(h->stream, h->first_seq, h->prev_hash,
                             h->compression == Compression::kZstd ? &compressor : nullptr, again);
  if (!sealed) std::abort();
  std::size_t i = 0;
  auto h2 = decode_batch(again, limits, zstd, scratch, [&](const RecordView& r) {
    if (i >= records.size() || !same(own(r), records[i]) || r.seq != h->first_seq + i) std::abort();
    ++i;
  });
  if (!h2 || i != records.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Limits limits;
  limits.max_frame_bytes = 1 << 20;
  limits.max_batch_raw_bytes = 4 << 20;
  limits.max_records_per_batch = 4096;
  limits.max_line_bytes = 64 << 10;

  decode_and_recheck(in, limits);

  if (size < 2) return 0;
  const auto ctl = static_cast<std::uint8_t>(in[0]);
  const std::uint32_t count = static_cast<std::uint8_t>(in[1]) + 1u;
  const std::string_view payload = in.substr(2);
  switch (ctl & 3) {
    case 0:
      decode_and_recheck(wrap(0, count, static_cast<std::uint32_t>(payload.size()), payload),
                         limits);
      break;
    case 1: {
      static ZstdCompressor compressor(1);
      std::string z;
      if (!compressor.compress(payload, z)) std::abort();
      decode_and_recheck(wrap(1, count, static_cast<std::uint32_t>(payload.size()), z), limits);
      break;
    }
    case 2:
      if (payload.size() < 2) break;
      decode_and_recheck(
          wrap(1, count, bytes::load_le<std::uint16_t>(payload.data()), payload.substr(2)), limits);
      break;
    default:
      break;
  }
  return 0;
}
