#include "schemas/zstd_codec.h"

#include "schemas/limits.h"

#include <zstd.h>

namespace blackbox {

struct ZstdCompressor::Impl {
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  ~Impl() { ZSTD_freeCCtx(ctx); }
};

ZstdCompressor::ZstdCompressor(int level) : impl_(std::make_unique<Impl>()), level_(level) {
  // Only fails on invalid parameters, which `level` cannot make; checked on first use anyway.
  (void)ZSTD_CCtx_setParameter(impl_->ctx, ZSTD_c_compressionLevel, level);
  // Levels up to 19 use windows of at most 2^23; cap the ultra levels so that every
  // receiver (windowLogMax = kZstdWindowLogMax) can decode what we produce.
  if (level > 19) (void)ZSTD_CCtx_setParameter(impl_->ctx, ZSTD_c_windowLog, kZstdWindowLogMax);
}
ZstdCompressor::~ZstdCompressor() = default;
ZstdCompressor::ZstdCompressor(ZstdCompressor&&) noexcept = default;
ZstdCompressor& ZstdCompressor::operator=(ZstdCompressor&&) noexcept = default;

Result<void> ZstdCompressor::compress(std::string_view in, std::string& out) {
  if (!impl_->ctx) return Err(Errc::kCompressFailed);
  const std::size_t old = out.size();
  const std::size_t bound = ZSTD_compressBound(in.size());
  out.resize(old + bound);
  const std::size_t n = ZSTD_compress2(impl_->ctx, out.data() + old, bound, in.data(), in.size());
  if (ZSTD_isError(n)) {
    out.resize(old);
    return Err(Errc::kCompressFailed);
  }
  out.resize(old + n);
  return {};
}

struct ZstdDecompressor::Impl {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  ~Impl() { ZSTD_freeDCtx(ctx); }
};

ZstdDecompressor::ZstdDecompressor() : impl_(std::make_unique<Impl>()) {
  (void)ZSTD_DCtx_setParameter(impl_->ctx, ZSTD_d_windowLogMax, kZstdWindowLogMax);
}
ZstdDecompressor::~ZstdDecompressor() = default;
ZstdDecompressor::ZstdDecompressor(ZstdDecompressor&&) noexcept = default;
ZstdDecompressor& ZstdDecompressor::operator=(ZstdDecompressor&&) noexcept = default;

Result<void> ZstdDecompressor::decompress(std::string_view in, std::size_t expected_size,
                                          std::string& out) {
  if (!impl_->ctx) return Err(Errc::kDecompressFailed);
  ZSTD_DCtx_reset(impl_->ctx, ZSTD_reset_session_only);
  // One spare byte: producing it proves the payload is larger than declared.
  out.resize(expected_size + 1);
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  ZSTD_outBuffer dst{out.data(), out.size(), 0};
  for (;;) {
    const std::size_t in_before = src.pos, out_before = dst.pos;
    const std::size_t ret = ZSTD_decompressStream(impl_->ctx, &dst, &src);
    if (ZSTD_isError(ret)) {
      out.clear();
      return Err(Errc::kDecompressFailed);
    }
    if (dst.pos > expected_size) {
      out.clear();
      return Err(Errc::kBatchTooLarge);
    }
    if (src.pos == src.size && ret == 0) break;
    if (src.pos == in_before && dst.pos == out_before) {  // input ended mid-frame
      out.clear();
      return Err(Errc::kDecompressFailed);
    }
  }
  if (dst.pos != expected_size) {
    out.clear();
    return Err(Errc::kMalformedRecord);
  }
  out.resize(expected_size);
  return {};
}

}  // namespace blackbox
