#include "schemas/batch.h"

#include "schemas/streams.h"
#include "schemas/zstd_codec.h"
#include "tests/schemas/generators.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace blackbox {
namespace {

using testing::OwnedRecord;
using testing::refresh_header_crc;
using testing::SeededRng;
using testing::spec_encode_batch;
using testing::spec_record;
using testing::SpecBatch;
using testing::SpecRecord;

Errc decode_errc(std::string_view batch, const Limits& limits = {}) {
  ZstdDecompressor zstd;
  std::string scratch;
  auto h = decode_batch(batch, limits, zstd, scratch, [](const RecordView&) {});
  return h ? Errc::kOk : to_errc(h.error());
}

// A valid sealed batch of `n` small records.
std::string small_batch(std::uint32_t n = 3, bool compressed = false,
                        std::uint64_t first_seq = 10) {
  BatchBuilder b;
  OwnedRecord r;
  r.source = "/var/log/app.log";
  for (std::uint32_t i = 0; i < n; ++i) {
    r.line = "line " + std::to_string(i);
    r.event_time_ns = 1000 + i;
    b.add(r.view());
  }
  ZstdCompressor zc(1);
  std::string out;
  auto h = b.seal(1, first_seq, kZeroHash, compressed ? &zc : nullptr, out);
  EXPECT_TRUE(h);
  return out;
}

// ---- Round trips -----------------------------------------------------------------------------

TEST(Batch, RoundTripsRandomRecordsCompressedAndUncompressed) {
  SeededRng rng;
  SCOPED_TRACE(rng.trace());
  ZstdCompressor compressor(1);
  ZstdDecompressor decompressor;
  BatchBuilder builder;
  std::string scratch;
  for (int round = 0; round < 120; ++round) {
    const bool compressed = round % 2 == 1;
    const std::size_t n = rng.coin(4) ? 1 : rng.range(1, 400);
    std::vector<OwnedRecord> records;
    std::int64_t min_t = INT64_MAX, max_t = INT64_MIN;
    for (std::size_t i = 0; i < n; ++i) {
      records.push_back(testing::random_record(rng));
      min_t = std::min(min_t, records.back().event_time_ns);
      max_t = std::max(max_t, records.back().event_time_ns);
      builder.add(records.back().view());
    }
    ASSERT_EQ(builder.record_count(), n);
    const std::uint32_t stream = rng.edgy<std::uint32_t>();
    const std::uint64_t first_seq =
        rng.coin(4) ? UINT64_MAX - n : rng.edgy<std::uint32_t>();  // up to the last seq
    const ChainHash prev = rng.coin(3) ? kZeroHash : rng.hash();
    std::string batch = rng.coin(3) ? "prefix" : "";  // seal appends
    const std::size_t start = batch.size();
    auto sealed = builder.seal(stream, first_seq, prev, compressed ? &compressor : nullptr, batch);
    ASSERT_TRUE(sealed) << sealed.error().message();
    EXPECT_TRUE(builder.empty());
    const std::string_view view = std::string_view(batch).substr(start);

    std::size_t i = 0;
    auto h = decode_batch(view, Limits{}, decompressor, scratch, [&](const RecordView& r) {
      ASSERT_LT(i, records.size());
      EXPECT_EQ(r.seq, first_seq + i);
      testing::expect_record_eq(records[i], r);
      ++i;
    });
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ(i, n);
    EXPECT_EQ(h->compression, compressed ? Compression::kZstd : Compression::kNone);
    EXPECT_EQ(h->stream, stream);
    EXPECT_EQ(h->record_count, n);
    EXPECT_EQ(h->first_seq, first_seq);
    EXPECT_EQ(h->last_seq(), first_seq + n - 1);
    EXPECT_EQ(h->min_time_ns, min_t);
    EXPECT_EQ(h->max_time_ns, max_t);
    EXPECT_EQ(h->prev_hash, prev);
    EXPECT_EQ(h->hash, sealed->hash);
    EXPECT_EQ(h->stored_size, view.size() - kBatchHeaderBytes);
    EXPECT_EQ(h->raw_size, sealed->raw_size);
    EXPECT_EQ(h->payload_crc, sealed->payload_crc);
  }
}

TEST(Batch, SealMatchesTheSpecLayoutByteForByte) {
  SpecRecord s1, s2;
  s2.line = std::string("\xff\0\r", 3);
  s1.event_time_ns = 50;
  s2.event_time_ns = -7;
  const std::string raw = spec_record(s1) + spec_record(s2);
  SpecBatch b;
  b.stream = 3;
  b.record_count = 2;
  b.first_seq = 77;
  b.min_time_ns = -7;
  b.max_time_ns = 50;
  b.raw_size = static_cast<std::uint32_t>(raw.size());
  b.prev_hash[0] = 0xAA;

  BatchBuilder builder;
  for (const SpecRecord* s : {&s1, &s2}) {
    OwnedRecord o;
    o.kind = static_cast<RecordKind>(s->kind);
    o.severity = static_cast<Severity>(s->severity);
    o.event_time_ns = s->event_time_ns;
    o.read_time_ns = s->read_time_ns;
    o.source = s->source;
    o.line = s->line;
    builder.add(o.view());
  }
  std::string out;
  ASSERT_TRUE(builder.seal(3, 77, b.prev_hash, nullptr, out));
  EXPECT_EQ(out, spec_encode_batch(b, raw));
}

TEST(Batch, ResealingTheSameRecordsIsByteIdentical) {
  EXPECT_EQ(small_batch(5, false), small_batch(5, false));
  EXPECT_EQ(small_batch(5, true), small_batch(5, true));
}

TEST(Batch, EachBatchChainsToThePrevious) {
  BatchBuilder b;
  OwnedRecord r;
  ChainHash prev = kZeroHash;
  std::uint64_t seq = 0;
  for (int i = 0; i < 5; ++i) {
    r.line = "batch " + std::to_string(i);
    b.add(r.view());
    b.add(r.view());
    std::string out;
    auto h = b.seal(kStreamLogs, seq, prev, nullptr, out);
    ASSERT_TRUE(h);
    auto parsed = parse_batch_header(out);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->prev_hash, prev);
    EXPECT_TRUE(verify_batch_integrity(*parsed, out));
    prev = h->hash;
    seq = h->end_seq();
  }
  EXPECT_EQ(seq, 10u);
}

TEST(Batch, SealWithoutRecordsIsEmptyFrame) {
  BatchBuilder b;
  std::string out = "keep";
  auto h = b.seal(1, 0, kZeroHash, nullptr, out);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error(), Errc::kEmptyFrame);
  EXPECT_EQ(out, "keep");
}

TEST(Batch, UncompressedRecordsAreAViewOfTheBatch) {
  const std::string batch = small_batch(2, false);
  auto h = parse_batch_header(batch);
  ASSERT_TRUE(h);
  ZstdDecompressor zstd;
  std::string scratch;
  auto raw = batch_records(*h, batch, zstd, scratch);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->data(), batch.data() + kBatchHeaderBytes);
}

// ---- Malformed headers: one test per class -----------------------------------------------------

TEST(BatchMalformed, TruncatedAtEveryLength) {
  for (bool compressed : {false, true}) {
    const std::string batch = small_batch(3, compressed);
    for (std::size_t n = 0; n < batch.size(); ++n) {
      const Errc e = decode_errc(std::string_view(batch).substr(0, n));
      EXPECT_EQ(e, Errc::kTruncated) << "prefix " << n << " of " << batch.size();
    }
    EXPECT_EQ(decode_errc(batch), Errc::kOk);
  }
}

TEST(BatchMalformed, BadMagic) {
  SpecBatch b;
  b.magic_ok = 0;
  const std::string raw = spec_record(SpecRecord{});
  b.raw_size = static_cast<std::uint32_t>(raw.size());
  EXPECT_EQ(decode_errc(spec_encode_batch(b, raw)), Errc::kBadMagic);
}

TEST(BatchMalformed, UnknownVersion) {
  const std::string raw = spec_record(SpecRecord{});
  for (int v : {0, 2, 255}) {
    SpecBatch b;
    b.version = static_cast<std::uint8_t>(v);
    b.raw_size = static_cast<std::uint32_t>(raw.size());
    EXPECT_EQ(decode_errc(spec_encode_batch(b, raw)), Errc::kUnsupportedVersion) << v;
  }
}

TEST(BatchMalformed, UnknownCompressionOrFlags) {
  const std::string raw = spec_record(SpecRecord{});
  SpecBatch b;
  b.raw_size = static_cast<std::uint32_t>(raw.size());
  b.compression = 2;
  EXPECT_NE(decode_errc(spec_encode_batch(b, raw)), Errc::kOk);
  b.compression = 0;
  b.flags = 1;
  EXPECT_NE(decode_errc(spec_encode_batch(b, raw)), Errc::kOk);
}

TEST(BatchMalformed, EveryBitFlipIsDetected) {
  for (bool compressed : {false, true}) {
    const std::string good = small_batch(4, compressed);
    for (std::size_t byte = 0; byte < good.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string bad = good;
        bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
        const Errc e = decode_errc(bad);
        ASSERT_NE(e, Errc::kOk) << "byte " << byte << " bit " << bit;
        const Errc want = byte < 4    ? Errc::kBadMagic
                          : byte == 4 ? Errc::kUnsupportedVersion
                                      : Errc::kChecksumMismatch;
        EXPECT_EQ(e, want) << "byte " << byte << " bit " << bit;
      }
    }
  }
}

TEST(BatchMalformed, ZeroRecords) {
  SpecBatch b;
  b.record_count = 0;
  EXPECT_EQ(decode_errc(spec_encode_batch(b, "")), Errc::kEmptyFrame);
}

TEST(BatchMalformed, TooManyRecordsRejectedFromTheHeader) {
  Limits limits;
  limits.max_records_per_batch = 2;
  const std::string raw =
      spec_record(SpecRecord{}) + spec_record(SpecRecord{}) + spec_record(SpecRecord{});
  SpecBatch b;
  b.raw_size = static_cast<std::uint32_t>(raw.size());
  b.record_count = 3;
  const std::string batch = spec_encode_batch(b, raw);
  EXPECT_EQ(decode_errc(batch, limits), Errc::kTooManyRecords);
  EXPECT_EQ(decode_errc(batch), Errc::kOk);
  b.record_count = UINT32_MAX;
  auto h = parse_batch_header(spec_encode_batch(b, raw));
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error(), Errc::kTooManyRecords);
}

TEST(BatchMalformed, RawSizeOverTheCapRejectedFromTheHeader) {
  Limits limits;
  limits.max_batch_raw_bytes = 1000;
  SpecBatch b;
  b.compression = 1;
  for (std::uint32_t raw_size : {1001u, 1u << 30, UINT32_MAX}) {
    b.raw_size = raw_size;
    auto h = parse_batch_header(spec_encode_batch(b, "not even zstd"), limits);
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error(), Errc::kBatchTooLarge) << raw_size;
  }
}

TEST(BatchMalformed, StoredSizeOverTheFrameCap) {
  Limits limits;
  limits.max_frame_bytes = 64;
  const std::string raw = spec_record(SpecRecord{}) + std::string(100, 'x');
  SpecBatch b;
  b.raw_size = static_cast<std::uint32_t>(raw.size());
  auto h = parse_batch_header(spec_encode_batch(b, raw), limits);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error(), Errc::kFrameTooLarge);
}

TEST(BatchMalformed, SequenceRangeOverflows) {
  const std::string raw = spec_record(SpecRecord{}) + spec_record(SpecRecord{});
  SpecBatch b;
  b.raw_size = static_cast<std::uint32_t>(raw.size());
  b.record_count = 2;
  b.first_seq = UINT64_MAX - 2;  // last seq UINT64_MAX - 1, end UINT64_MAX: fine
  EXPECT_EQ(decode_errc(spec_encode_batch(b, raw)), Errc::kOk);
  b.first_seq = UINT64_MAX - 1;  // end_seq() would wrap
  EXPECT_NE(decode_errc(spec_encode_batch(b, raw)), Errc::kOk);
  b.first_seq = UINT64_MAX;
  EXPECT_NE(decode_errc(spec_encode_batch(b, raw)), Errc::kOk);
}

TEST(BatchMalformed, UncompressedRawSizeDisagreesWithStoredSize) {
  const std::string raw = spec_record(SpecRecord{});
  SpecBatch b;
  b.raw_size = static_cast<std::uint32_t>(raw.size()) + 1;
  EXPECT_NE(decode_errc(spec_encode_batch(b, raw)), Errc::kOk);
  b.raw_size = static_cast<std::uint32_t>(raw.size()) - 1;
  EXPECT_NE(decode_errc(spec_encode_batch(b, raw)), Errc::kOk);
}

TEST(BatchMalformed, TrailingBytesAfterThePayload) {
  EXPECT_EQ(decode_errc(small_batch(2) + "x"), Errc::kMalformedRecord);
}

TEST(BatchMalformed, CompressedPayloadThatIsNotZstd) {
  const std::string raw = spec_record(SpecRecord{});
  SpecBatch b;
  b.compression = 1;
  b.raw_size = static_cast<std::uint32_t>(raw.size());
  EXPECT_EQ(decode_errc(spec_encode_batch(b, raw)), Errc::kDecompressFailed);
}

// ---- Tampering: CRCs are not security; the chain hash is ----------------------------------------

// An attacker who edits any header byte or payload byte and recomputes both CRCs still breaks
// parse or verify_batch_integrity.
TEST(BatchTamper, AnyByteChangedWithCrcsRecomputedBreaksTheChain) {
  for (bool compressed : {false, true}) {
    const std::string good = small_batch(3, compressed);
    for (std::size_t byte = 0; byte < good.size(); ++byte) {
      // The CRC fields are what the attacker recomputes, not something to edit.
      if ((byte >= 48 && byte < 52) || (byte >= 116 && byte < kBatchHeaderBytes)) continue;
      std::string bad = good;
      bad[byte] = static_cast<char>(bad[byte] ^ 0x01);
      if (byte >= kBatchHeaderBytes) {
        bytes::store_le(bad.data() + 48,
                        crc32c::value(std::string_view(bad).substr(kBatchHeaderBytes)));
      }
      refresh_header_crc(bad);
      auto h = parse_batch_header(bad);
      if (!h) continue;  // the edit made the header invalid: rejected anyway
      auto ok = verify_batch_integrity(*h, bad);
      ASSERT_FALSE(ok) << "byte " << byte << " changed undetected";
      EXPECT_EQ(ok.error(), Errc::kChainMismatch) << "byte " << byte;
    }
  }
}

TEST(BatchTamper, PayloadChangedWithoutCrcFixIsChecksumMismatch) {
  std::string bad = small_batch(3);
  bad.back() = static_cast<char>(bad.back() ^ 0x40);
  auto h = parse_batch_header(bad);
  ASSERT_TRUE(h);
  auto ok = verify_batch_integrity(*h, bad);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error(), Errc::kChecksumMismatch);
}

TEST(BatchTamper, SwappingPrevHashBreaksTheChain) {
  std::string bad = small_batch(3);
  bad[52] = static_cast<char>(0x01);  // claims another predecessor
  refresh_header_crc(bad);
  auto h = parse_batch_header(bad);
  ASSERT_TRUE(h);
  EXPECT_EQ(verify_batch_integrity(*h, bad).error(), Errc::kChainMismatch);
}

// ---- Records that lie, inside a whole batch (uncompressed and zstd)
// ------------------------------

class BatchLies : public ::testing::TestWithParam<bool> {
 protected:
  // A batch around `raw` claiming `count` records; compressed when GetParam().
  std::string make(const std::string& raw, std::uint32_t count) {
    SpecBatch b;
    b.record_count = count;
    b.raw_size = static_cast<std::uint32_t>(raw.size());
    if (!GetParam()) return spec_encode_batch(b, raw);
    b.compression = 1;
    ZstdCompressor zc(1);
    std::string z;
    EXPECT_TRUE(zc.compress(raw, z));
    return spec_encode_batch(b, z);
  }
};

TEST_P(BatchLies, RecordLenPastTheEnd) {
  std::string raw;
  const std::string body = testing::spec_record_body(SpecRecord{});
  bytes::put_varint(raw, body.size() + 1);
  EXPECT_EQ(decode_errc(make(raw + body, 1)), Errc::kMalformedRecord);
}

TEST_P(BatchLies, LineLenPastRecordLen) {
  std::string body = testing::spec_record_body(SpecRecord{});
  body[23] = 100;  // line length: "line" is 4 bytes
  std::string raw;
  bytes::put_varint(raw, body.size());
  EXPECT_EQ(decode_errc(make(raw + body, 1)), Errc::kMalformedRecord);
}

TEST_P(BatchLies, FieldCountTooLarge) {
  std::string body = testing::spec_record_body(SpecRecord{});
  body.pop_back();  // field count 0
  bytes::put_varint(body, 1ull << 40);
  std::string raw;
  bytes::put_varint(raw, body.size());
  EXPECT_EQ(decode_errc(make(raw + body, 1)), Errc::kMalformedRecord);
}

TEST_P(BatchLies, TrailingBytes) {
  EXPECT_EQ(decode_errc(make(spec_record(SpecRecord{}) + "zz", 1)), Errc::kMalformedRecord);
}

TEST_P(BatchLies, CountMismatchWithTheHeader) {
  const std::string two = spec_record(SpecRecord{}) + spec_record(SpecRecord{});
  EXPECT_EQ(decode_errc(make(two, 2)), Errc::kOk);
  EXPECT_EQ(decode_errc(make(two, 3)), Errc::kMalformedRecord);
  EXPECT_EQ(decode_errc(make(two, 1)), Errc::kMalformedRecord);
}

TEST_P(BatchLies, LineOverTheCap) {
  Limits limits;
  limits.max_line_bytes = 10;
  SpecRecord s;
  s.line = std::string(11, 'x');
  EXPECT_EQ(decode_errc(make(spec_record(s), 1), limits), Errc::kLineTooLong);
}

INSTANTIATE_TEST_SUITE_P(Compression, BatchLies, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Zstd" : "None"; });

// raw_size is what the decompressor trusts; the zstd frame's own content size is not.
TEST(BatchLiesZstd, DecompressesToMoreThanRawSize) {
  const std::string raw = spec_record(SpecRecord{}) + spec_record(SpecRecord{});
  ZstdCompressor zc(1);
  std::string z;
  ASSERT_TRUE(zc.compress(raw, z));
  SpecBatch b;
  b.compression = 1;
  b.record_count = 1;
  b.raw_size = static_cast<std::uint32_t>(raw.size() / 2);
  EXPECT_EQ(decode_errc(spec_encode_batch(b, z)), Errc::kBatchTooLarge);
}

TEST(BatchLiesZstd, DecompressesToLessThanRawSize) {
  const std::string raw = spec_record(SpecRecord{});
  ZstdCompressor zc(1);
  std::string z;
  ASSERT_TRUE(zc.compress(raw, z));
  SpecBatch b;
  b.compression = 1;
  b.raw_size = static_cast<std::uint32_t>(raw.size() + 1);
  EXPECT_EQ(decode_errc(spec_encode_batch(b, z)), Errc::kMalformedRecord);
}

}  // namespace
}  // namespace blackbox
