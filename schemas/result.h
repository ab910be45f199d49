// Result<T> and the error codes every Blackbox component shares (wire, spool, storage, query).
// Errors are values, not exceptions: functions that can fail return Result<T>, and each
// code says what the caller should do about it (see ErrorClass).
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <system_error>

namespace blackbox {

// Numeric values travel in ERROR frames: never renumber, only append.
enum class Errc : std::uint16_t {
  kOk = 0,
  // Malformed input (the peer or file sent garbage). Reject it; retrying won't help.
  kTruncated = 1,            // fewer bytes than the format requires
  kBadMagic = 2,             // not a Blackbox frame / batch / segment
  kUnsupportedVersion = 3,   // a version this build does not speak
  kUnknownFrameType = 4,
  kChecksumMismatch = 5,     // CRC32C does not match: corrupted in flight or on disk
  kFrameTooLarge = 6,        // declared length over the configured frame cap
  kEmptyFrame = 7,           // a length of 0 where content is required
  kBatchTooLarge = 8,        // decompressed size over the cap
  kTooManyRecords = 9,
  kLineTooLong = 10,
  kMalformedRecord = 11,     // record framing inconsistent (lengths lie, trailing bytes, ...)
  kMalformedFrame = 12,      // frame payload does not decode
  kDecompressFailed = 13,
  kChainMismatch = 14,       // hash chain broken: prev hash not the stored head, or bad hash
  kIdentityMismatch = 15,    // a connection tried to write as another instance
  kUnauthorized = 16,        // bad or missing credentials
  kProtocolViolation = 17,   // a valid frame at the wrong moment (BATCH before HELLO, ...)
  // Retryable: back off and try again.
  kTimeout = 30,
  kConnectionClosed = 31,
  kBusy = 32,                // peer overloaded / backpressure
  kUnavailable = 33,         // peer not reachable
  // Local resources.
  kIo = 50,                  // an I/O call failed; see the log line for errno
  kDiskFull = 51,            // ENOSPC or a configured cap reached
  kCorrupt = 52,             // data at rest is damaged: quarantine, report a gap
  kFsyncFailed = 53,         // fatal: durability unknown, never acknowledge
  // Usage.
  kInvalidArgument = 70,
  kNotFound = 71,
  kInternal = 90,            // a bug
  kCompressFailed = 91,
};

// What the caller should do with an error (STYLE.md §4).
enum class ErrorClass {
  kNone,       // not an error
  kRejected,   // the input is bad: reject it, count it, never retry the same bytes
  kRetryable,  // transient: back off and retry
  kDataLoss,   // stored data is damaged: quarantine, make the gap visible, carry on
  kFatal,      // going on could lose or corrupt evidence: stop
};

ErrorClass classify(Errc e) noexcept;

// A short stable name ("checksum_mismatch") for logs, metrics labels and JSON.
const char* errc_name(Errc e) noexcept;

const boost::system::error_category& blackbox_category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), blackbox_category()};
}

// Maps an error_code back to our Errc; codes of other categories become kIo.
Errc to_errc(const boost::system::error_code& ec) noexcept;

template <class T>
using Result = boost::system::result<T, boost::system::error_code>;

// Usage: `return Err(Errc::kTruncated);` from a function returning Result<T>. For Result<bool>
// (bool is constructible from error_code) write `return {boost::system::in_place_error, Err(e)};`.
inline boost::system::error_code Err(Errc e) noexcept { return make_error_code(e); }

}  // namespace blackbox

namespace boost::system {
template <>
struct is_error_code_enum<blackbox::Errc> : std::true_type {};
}  // namespace boost::system
