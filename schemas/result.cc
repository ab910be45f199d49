#include "schemas/result.h"

namespace blackbox {

namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "blackbox"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kOk: return "ok";
      case Errc::kTruncated: return "input ends before the format says it should";
      case Errc::kBadMagic: return "bad magic: not a Blackbox frame, batch or segment";
      case Errc::kUnsupportedVersion: return "unsupported format version";
      case Errc::kUnknownFrameType: return "unknown frame type";
      case Errc::kChecksumMismatch: return "CRC32C checksum mismatch (data corrupted)";
      case Errc::kFrameTooLarge: return "frame length over the configured cap";
      case Errc::kEmptyFrame: return "empty frame or batch";
      case Errc::kBatchTooLarge: return "decompressed batch over the configured cap";
      case Errc::kTooManyRecords: return "too many records in one batch";
      case Errc::kLineTooLong: return "record line over the configured cap";
      case Errc::kMalformedRecord: return "malformed record framing";
      case Errc::kMalformedFrame: return "malformed frame payload";
      case Errc::kDecompressFailed: return "zstd decompression failed";
      case Errc::kChainMismatch: return "hash chain mismatch";
      case Errc::kIdentityMismatch: return "connection may not write as this instance";
      case Errc::kUnauthorized: return "bad or missing credentials";
      case Errc::kProtocolViolation: return "protocol violation";
      case Errc::kTimeout: return "timed out";
      case Errc::kConnectionClosed: return "connection closed by peer";
      case Errc::kBusy: return "peer busy, retry later";
      case Errc::kUnavailable: return "peer unavailable";
      case Errc::kIo: return "I/O error";
      case Errc::kDiskFull: return "disk full or size cap reached";
      case Errc::kCorrupt: return "stored data is corrupt";
      case Errc::kFsyncFailed: return "fsync failed: durability unknown";
      case Errc::kInvalidArgument: return "invalid argument";
      case Errc::kNotFound: return "not found";
      case Errc::kInternal: return "internal error (a bug)";
      case Errc::kCompressFailed: return "zstd compression failed";
    }
    return "unknown blackbox error " + std::to_string(ev);
  }
};

}  // namespace

const boost::system::error_category& blackbox_category() noexcept {
  static const Category category;
  return category;
}

const char* errc_name(Errc e) noexcept {
  switch (e) {
    case Errc::kOk: return "ok";
    case Errc::kTruncated: return "truncated";
    case Errc::kBadMagic: return "bad_magic";
    case Errc::kUnsupportedVersion: return "unsupported_version";
    case Errc::kUnknownFrameType: return "unknown_frame_type";
    case Errc::kChecksumMismatch: return "checksum_mismatch";
    case Errc::kFrameTooLarge: return "frame_too_large";
    case Errc::kEmptyFrame: return "empty_frame";
    case Errc::kBatchTooLarge: return "batch_too_large";
    case Errc::kTooManyRecords: return "too_many_records";
    case Errc::kLineTooLong: return "line_too_long";
    case Errc::kMalformedRecord: return "malformed_record";
    case Errc::kMalformedFrame: return "malformed_frame";
    case Errc::kDecompressFailed: return "decompress_failed";
    case Errc::kChainMismatch: return "chain_mismatch";
    case Errc::kIdentityMismatch: return "identity_mismatch";
    case Errc::kUnauthorized: return "unauthorized";
    case Errc::kProtocolViolation: return "protocol_violation";
    case Errc::kTimeout: return "timeout";
    case Errc::kConnectionClosed: return "connection_closed";
    case Errc::kBusy: return "busy";
    case Errc::kUnavailable: return "unavailable";
    case Errc::kIo: return "io";
    case Errc::kDiskFull: return "disk_full";
    case Errc::kCorrupt: return "corrupt";
    case Errc::kFsyncFailed: return "fsync_failed";
    case Errc::kInvalidArgument: return "invalid_argument";
    case Errc::kNotFound: return "not_found";
    case Errc::kInternal: return "internal";
    case Errc::kCompressFailed: return "compress_failed";
  }
  return "unknown";
}

ErrorClass classify(Errc e) noexcept {
  switch (e) {
    case Errc::kOk: return ErrorClass::kNone;
    case Errc::kTimeout:
    case Errc::kConnectionClosed:
    case Errc::kBusy:
    case Errc::kUnavailable:
    case Errc::kIo:
    case Errc::kDiskFull: return ErrorClass::kRetryable;
    case Errc::kCorrupt: return ErrorClass::kDataLoss;
    case Errc::kFsyncFailed:
    case Errc::kInternal: return ErrorClass::kFatal;
    default: return ErrorClass::kRejected;
  }
}

Errc to_errc(const boost::system::error_code& ec) noexcept {
  if (!ec) return Errc::kOk;
  if (ec.category() == blackbox_category()) return static_cast<Errc>(ec.value());
  return Errc::kIo;
}

}  // namespace blackbox
