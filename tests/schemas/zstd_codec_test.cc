#include "schemas/zstd_codec.h"

#include "schemas/batch.h"
#include "schemas/frame.h"
#include "tests/schemas/generators.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader, to check what a test built
#include <zstd.h>

#include <fstream>
#include <memory>
#include <string>

namespace blackbox {
namespace {

using testing::SeededRng;
using testing::SpecBatch;

constexpr std::uint64_t kGiB = 1ull << 30;

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

// 1 GiB of zeros through zstd's streaming API (never held in memory): a few tens of KiB.
// With `declare_size`, the frame header carries the 1 GiB content size.
std::string zero_bomb(bool declare_size) {
  std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx(ZSTD_createCCtx());
  EXPECT_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, 1)));
  EXPECT_FALSE(ZSTD_isError(
      ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, declare_size ? 1 : 0)));
  if (declare_size) {
    EXPECT_FALSE(ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx.get(), kGiB)));
  }
  const std::string zeros(1 << 20, '\0');
  std::string out;
  std::string buf(ZSTD_CStreamOutSize(), '\0');
  for (std::uint64_t fed = 0; fed <= kGiB; fed += zeros.size()) {
    const bool last = fed == kGiB;
    ZSTD_inBuffer in{zeros.data(), last ? 0 : zeros.size(), 0};
    for (;;) {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      const std::size_t left =
          ZSTD_compressStream2(cctx.get(), &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
      EXPECT_FALSE(ZSTD_isError(left)) << ZSTD_getErrorName(left);
      if (ZSTD_isError(left)) return out;
      out.append(buf.data(), o.pos);
      if (last ? left == 0 : in.pos == in.size) break;
    }
  }
  return out;
}

const std::string& cached_bomb(bool declare_size) {
  static const std::string with = zero_bomb(true);
  static const std::string without = zero_bomb(false);
  return declare_size ? with : without;
}

// Resets the peak RSS (VmHWM, which getrusage reports) so a test can measure its own peak.
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// ---- Round trips and size rules --------------------------------------------------------------

TEST(Zstd, RoundTripsRandomPayloads) {
  SeededRng rng;
  SCOPED_TRACE(rng.trace());
  ZstdCompressor c(1);
  ZstdDecompressor d;
  for (int i = 0; i < 100; ++i) {
    std::string in = rng.coin(3) ? std::string(rng.range(0, 200'000), 'a') : rng.nasty_bytes(5000);
    std::string z = "keep";
    ASSERT_TRUE(c.compress(in, z));
    EXPECT_EQ(z.substr(0, 4), "keep");  // compress appends
    std::string out = "replaced";
    auto ok = d.decompress(std::string_view(z).substr(4), in.size(), out);
    ASSERT_TRUE(ok) << ok.error().message() << " size " << in.size();
    ASSERT_EQ(out, in);
  }
}

TEST(Zstd, HigherLevelsStayWithinTheReceiversWindow) {
  ZstdCompressor c(22);
  ZstdDecompressor d;
  std::string in(3 << 20, '\0');
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<char>((i * 2654435761u) >> 13);
  std::string z, out;
  ASSERT_TRUE(c.compress(in, z));
  ASSERT_TRUE(d.decompress(z, in.size(), out));
  EXPECT_EQ(out, in);
}

TEST(Zstd, ConcatenatedFramesDecodeAsOne) {
  ZstdCompressor c(1);
  ZstdDecompressor d;
  std::string z, out;
  ASSERT_TRUE(c.compress("hello ", z));
  ASSERT_TRUE(c.compress("world", z));
  ASSERT_TRUE(d.decompress(z, 11, out));
  EXPECT_EQ(out, "hello world");
}

TEST(Zstd, OutputLargerThanExpectedIsBatchTooLarge) {
  ZstdCompressor c(1);
  ZstdDecompressor d;
  std::string z, out;
  ASSERT_TRUE(c.compress(std::string(1000, 'x'), z));
  auto r = d.decompress(z, 999, out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kBatchTooLarge);
  r = d.decompress(z, 0, out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kBatchTooLarge);
}

TEST(Zstd, OutputSmallerThanExpectedIsMalformed) {
  ZstdCompressor c(1);
  ZstdDecompressor d;
  std::string z, out;
  ASSERT_TRUE(c.compress(std::string(1000, 'x'), z));
  auto r = d.decompress(z, 1001, out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kMalformedRecord);
}

TEST(Zstd, GarbageTruncatedOrEmptyInputFails) {
  ZstdCompressor c(1);
  ZstdDecompressor d;
  std::string z, out;
  ASSERT_TRUE(c.compress(std::string(5000, 'q') + "tail", z));
  for (std::size_t n = 0; n < z.size(); ++n) {
    auto r = d.decompress(std::string_view(z).substr(0, n), 5004, out);
    EXPECT_FALSE(r) << "prefix " << n;
  }
  EXPECT_EQ(d.decompress("definitely not zstd", 10, out).error(), Errc::kDecompressFailed);
  EXPECT_FALSE(d.decompress(z + "x", 5004, out));  // trailing garbage after the frame
  // The decompressor is still usable after errors.
  ASSERT_TRUE(d.decompress(z, 5004, out));
}

// A frame asking for a 2^27 window is refused, not allocated for.
TEST(Zstd, WindowOverTheLimitIsRefused) {
  std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx(ZSTD_createCCtx());
  ASSERT_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_windowLog, 27)));
  ASSERT_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 0)));
  const std::string in(100'000, 'w');
  std::string z(ZSTD_compressBound(in.size()) + 64, '\0');
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  ZSTD_outBuffer dst{z.data(), z.size(), 0};
  ASSERT_FALSE(ZSTD_isError(ZSTD_compressStream2(cctx.get(), &dst, &src, ZSTD_e_continue)));
  ZSTD_inBuffer none{nullptr, 0, 0};
  ASSERT_EQ(ZSTD_compressStream2(cctx.get(), &dst, &none, ZSTD_e_end), 0u);
  z.resize(dst.pos);
  ZSTD_frameHeader fh;
  ASSERT_EQ(ZSTD_getFrameHeader(&fh, z.data(), z.size()), 0u);
  ASSERT_EQ(fh.windowSize, 1ull << 27);  // the test built what it meant to

  // A decompressor that has already been used (its context reset between calls) keeps the cap.
  ZstdDecompressor d;
  ZstdCompressor c(1);
  std::string small, out;
  ASSERT_TRUE(c.compress("warm up", small));
  ASSERT_TRUE(d.decompress(small, 7, out));
  auto r = d.decompress(z, in.size(), out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kDecompressFailed);
}

// ---- The zstd bomb: 1 GiB of zeros in one BATCH frame
// --------------------------------------------

struct BombCase {
  bool declare_size;
  std::uint32_t raw_size;  // what the batch header claims
  Errc want;
};

class ZstdBomb : public ::testing::TestWithParam<BombCase> {};

TEST_P(ZstdBomb, RejectedAtTheCapWithBoundedMemory) {
  const BombCase& c = GetParam();
  const std::string& bomb = cached_bomb(c.declare_size);
  ASSERT_LT(bomb.size(), 256u << 10) << "a bomb should be small";
  EXPECT_EQ(ZSTD_getFrameContentSize(bomb.data(), bomb.size()),
            c.declare_size ? kGiB : ZSTD_CONTENTSIZE_UNKNOWN);

  SpecBatch b;
  b.compression = 1;
  b.raw_size = c.raw_size;
  std::string frame;
  append_frame(frame, FrameType::kBatch, testing::spec_encode_batch(b, bomb));

  reset_peak_rss();
  const long before = peak_rss_kib();
  FrameType type;
  std::size_t consumed = 0;
  auto payload = parse_frame(frame, Limits{}, type, consumed);
  ASSERT_TRUE(payload) << payload.error().message();
  ASSERT_EQ(type, FrameType::kBatch);
  ZstdDecompressor zstd;
  std::string scratch;
  std::size_t records = 0;
  auto h = decode_batch(*payload, Limits{}, zstd, scratch, [&](const RecordView&) { ++records; });
  const long growth_kib = peak_rss_kib() - before;

  ASSERT_FALSE(h);
  EXPECT_EQ(h.error(), c.want) << h.error().message();
  EXPECT_EQ(records, 0u);
  // The cap is 64 MiB of output; 1 GiB would mean the cap did not hold.
  EXPECT_LT(growth_kib, 160 * 1024) << "peak RSS grew by " << growth_kib << " KiB";
  std::cout << "[   RSS    ] peak growth " << growth_kib << " KiB" << std::endl;
}

INSTANTIATE_TEST_SUITE_P(
    Zeros1GiB, ZstdBomb,
    ::testing::Values(
        // The header tells the truth (1 GiB): refused from the header, nothing decompressed.
        BombCase{true, 1u << 30, Errc::kBatchTooLarge},
        BombCase{false, 1u << 30, Errc::kBatchTooLarge},
        // The header claims exactly the cap: decompression stops when the cap is exceeded.
        BombCase{true, kDefaultMaxBatchRawBytes, Errc::kBatchTooLarge},
        BombCase{false, kDefaultMaxBatchRawBytes, Errc::kBatchTooLarge},
        // The header lies small: stops after raw_size + 1 bytes.
        BombCase{true, 4096, Errc::kBatchTooLarge}, BombCase{false, 4096, Errc::kBatchTooLarge}),
    [](const auto& info) {
      const BombCase& c = info.param;
      return std::string(c.declare_size ? "DeclaredSize" : "NoDeclaredSize") + "_RawSize" +
             std::to_string(c.raw_size);
    });

}  // namespace
}  // namespace blackbox
