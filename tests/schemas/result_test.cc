#include "schemas/result.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <system_error>

namespace blackbox {
namespace {

struct Expected {
  Errc code;
  int value;  // pinned: values travel in ERROR frames (PROTOCOL.md §9)
  const char* name;
  ErrorClass cls;
};

constexpr Expected kAll[] = {
    {Errc::kOk, 0, "ok", ErrorClass::kNone},
    {Errc::kTruncated, 1, "truncated", ErrorClass::kRejected},
    {Errc::kBadMagic, 2, "bad_magic", ErrorClass::kRejected},
    {Errc::kUnsupportedVersion, 3, "unsupported_version", ErrorClass::kRejected},
    {Errc::kUnknownFrameType, 4, "unknown_frame_type", ErrorClass::kRejected},
    {Errc::kChecksumMismatch, 5, "checksum_mismatch", ErrorClass::kRejected},
    {Errc::kFrameTooLarge, 6, "frame_too_large", ErrorClass::kRejected},
    {Errc::kEmptyFrame, 7, "empty_frame", ErrorClass::kRejected},
    {Errc::kBatchTooLarge, 8, "batch_too_large", ErrorClass::kRejected},
    {Errc::kTooManyRecords, 9, "too_many_records", ErrorClass::kRejected},
    {Errc::kLineTooLong, 10, "line_too_long", ErrorClass::kRejected},
    {Errc::kMalformedRecord, 11, "malformed_record", ErrorClass::kRejected},
    {Errc::kMalformedFrame, 12, "malformed_frame", ErrorClass::kRejected},
    {Errc::kDecompressFailed, 13, "decompress_failed", ErrorClass::kRejected},
    {Errc::kChainMismatch, 14, "chain_mismatch", ErrorClass::kRejected},
    {Errc::kIdentityMismatch, 15, "identity_mismatch", ErrorClass::kRejected},
    {Errc::kUnauthorized, 16, "unauthorized", ErrorClass::kRejected},
    {Errc::kProtocolViolation, 17, "protocol_violation", ErrorClass::kRejected},
    {Errc::kTimeout, 30, "timeout", ErrorClass::kRetryable},
    {Errc::kConnectionClosed, 31, "connection_closed", ErrorClass::kRetryable},
    {Errc::kBusy, 32, "busy", ErrorClass::kRetryable},
    {Errc::kUnavailable, 33, "unavailable", ErrorClass::kRetryable},
    {Errc::kIo, 50, "io", ErrorClass::kRetryable},
    {Errc::kDiskFull, 51, "disk_full", ErrorClass::kRetryable},
    {Errc::kCorrupt, 52, "corrupt", ErrorClass::kDataLoss},
    {Errc::kFsyncFailed, 53, "fsync_failed", ErrorClass::kFatal},
    {Errc::kInvalidArgument, 70, "invalid_argument", ErrorClass::kRejected},
    {Errc::kNotFound, 71, "not_found", ErrorClass::kRejected},
    {Errc::kInternal, 90, "internal", ErrorClass::kFatal},
    {Errc::kCompressFailed, 91, "compress_failed", ErrorClass::kRejected},
};

TEST(Errc, NumericValuesArePinned) {
  for (const auto& e : kAll) EXPECT_EQ(static_cast<int>(e.code), e.value) << e.name;
}

TEST(Errc, NamesAreStableAndUnique) {
  std::set<std::string> seen;
  for (const auto& e : kAll) {
    EXPECT_STREQ(errc_name(e.code), e.name);
    EXPECT_TRUE(seen.insert(errc_name(e.code)).second) << e.name;
  }
  EXPECT_STREQ(errc_name(static_cast<Errc>(999)), "unknown");
}

TEST(Errc, ClassifyTellsTheCallerWhatToDo) {
  for (const auto& e : kAll) EXPECT_EQ(classify(e.code), e.cls) << e.name;
}

TEST(Errc, ErrorCodesCarryTheCategoryAndRoundTrip) {
  EXPECT_STREQ(blackbox_category().name(), "blackbox");
  for (const auto& e : kAll) {
    const boost::system::error_code ec = make_error_code(e.code);
    EXPECT_EQ(&ec.category(), &blackbox_category());
    EXPECT_EQ(ec.value(), e.value);
    EXPECT_EQ(to_errc(ec), e.code) << e.name;
    EXPECT_FALSE(ec.message().empty()) << e.name;
    EXPECT_EQ(ec.message().find("unknown blackbox error"), std::string::npos) << e.name;
    // Implicit conversion through is_error_code_enum, as `return Errc::k...;` relies on.
    const boost::system::error_code implicit = e.code;
    EXPECT_EQ(implicit, ec);
  }
  EXPECT_FALSE(make_error_code(Errc::kOk).failed());
}

TEST(Errc, ForeignCodesMapToIo) {
  const boost::system::error_code ec(ENOSPC, boost::system::generic_category());
  EXPECT_EQ(to_errc(ec), Errc::kIo);
  EXPECT_EQ(to_errc(boost::system::error_code{}), Errc::kOk);
}

TEST(Result, HoldsAValueOrAnError) {
  auto ok = []() -> Result<int> { return 7; }();
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 7);
  auto bad = []() -> Result<int> { return Err(Errc::kTruncated); }();
  ASSERT_FALSE(bad);
  EXPECT_EQ(to_errc(bad.error()), Errc::kTruncated);
  EXPECT_EQ(bad.error(), Errc::kTruncated);
}

}  // namespace
}  // namespace blackbox
