// Frames: the agent↔collector protocol over TCP (spec: schemas/PROTOCOL.md).
//
// Every frame is a 16-byte header and a payload (little-endian):
//   0  u32  magic "BBOX" (0x584F4242)
//   4  u8   protocol version (1)
//   5  u8   type (FrameType)
//   6  u16  flags (0; reserved, must be 0)
//   8  u32  payload length (> 0; <= Limits::max_frame_bytes, plus the 120-byte batch header
//           for BATCH)
//  12  u32  CRC32C of header bytes [4,12) followed by the payload
// A reader reads the 16 bytes, calls parse_frame_header() (which rejects a bad magic,
// version, type or length before any payload buffer is allocated), reads `length` bytes,
// then calls verify_frame_payload().
#pragma once

#include "schemas/hash_chain.h"
#include "schemas/limits.h"
#include "schemas/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace blackbox {

inline constexpr std::uint32_t kFrameMagic = 0x584F4242;  // "BBOX"
inline constexpr std::uint8_t kProtocolVersion = 1;
// HELLO.protocol_version 2: HELLO carries `auth` and `public_key`, and auth "key" runs the
// CHALLENGE → PROOF exchange before WELCOME (PROTOCOL.md §5.1). Frame headers stay version 1.
inline constexpr std::uint16_t kHelloVersionKeyAuth = 2;
inline constexpr std::size_t kFrameHeaderBytes = 16;

enum class FrameType : std::uint8_t {
  kHello = 1,      // agent → collector: identity; must be first
  kWelcome = 2,    // collector → agent: accepted; per-stream resume points
  kBatch = 3,      // agent → collector: one encoded batch (batch.h), bytes as spooled
  kAck = 4,        // collector → agent: highest durable sequence per stream
  kHeartbeat = 5,  // agent → collector: still alive
  kGoodbye = 6,    // agent → collector: clean end; collector answers with a GOODBYE too
  kError = 7,      // either way: machine-readable code + human message; then close
  kChallenge = 8,  // collector → agent: a fresh nonce, after a HELLO with auth "key"
  kProof = 9,      // agent → collector: the nonce signed with the instance key (key_auth.h)
};
inline constexpr std::uint8_t kMaxFrameType = 9;
const char* frame_type_name(FrameType t) noexcept;

struct FrameHeader {
  FrameType type = FrameType::kHello;
  std::uint32_t length = 0;
  std::uint32_t crc = 0;
};

[[nodiscard]] Result<FrameHeader> parse_frame_header(std::string_view header16,
                                                     const Limits& limits = {});
[[nodiscard]] Result<void> verify_frame_payload(const FrameHeader& h, std::string_view payload);

// Appends a whole frame (header + payload) to `out`.
void append_frame(std::string& out, FrameType type, std::string_view payload);

// Parses one whole frame from the front of `buf` (header + payload): for tests, fuzzers and
// simple readers. `consumed` is set to the frame's total size on success; kTruncated when
// `buf` holds less than a whole frame.
[[nodiscard]] Result<std::string_view> parse_frame(std::string_view buf, const Limits& limits,
                                                   FrameType& type, std::size_t& consumed);

// ---- Payloads -------------------------------------------------------------------------------
// Strings are varint length + bytes, capped at kMaxFrameStringBytes.
inline constexpr std::size_t kMaxFrameStringBytes = 64 * 1024;

struct Hello {
  std::uint16_t protocol_version = kProtocolVersion;
  std::string instance_id;  // required, 1..256 bytes, printable ASCII
  std::string image_id;
  std::string boot_id;
  std::string hostname;
  std::string agent_version;
  std::string token;  // credential: HMAC-SHA256(fleet secret, instance_id) hex, or empty
  // Version 2 only (encoded and decoded when protocol_version >= kHelloVersionKeyAuth):
  std::string auth{};        // "key" (CHALLENGE/PROOF follow), "token" or "none"
  std::string public_key{};  // auth "key": the instance's raw 32-byte Ed25519 public key
  bool operator==(const Hello&) const = default;
};

inline constexpr std::size_t kNonceBytes = 32;

// CHALLENGE: the collector's fresh random nonce for this connection (never reused).
struct Challenge {
  std::string nonce;  // exactly kNonceBytes bytes
  bool operator==(const Challenge&) const = default;
};

// PROOF: the instance key's signature of key_auth_message() (key_auth.h) and, when the agent
// holds an enrollment secret, HMAC-SHA256(secret, the same message) — needed only to enroll.
struct Proof {
  std::string signature;       // exactly 64 bytes (Ed25519)
  std::string enrollment_mac;  // empty or exactly 32 bytes
  bool operator==(const Proof&) const = default;
};

struct StreamPosition {
  std::uint32_t stream = 0;
  std::uint64_t next_seq = 0;  // first sequence the collector has not stored
  ChainHash head{};            // hash of the last stored batch (zeros if none)
  bool operator==(const StreamPosition&) const = default;
};

struct Welcome {
  std::vector<StreamPosition> streams;
  bool operator==(const Welcome&) const = default;
};

struct AckEntry {
  std::uint32_t stream = 0;
  std::uint64_t highest_seq = 0;  // every record of this stream up to here is durable
  bool operator==(const AckEntry&) const = default;
};
struct Ack {
  std::vector<AckEntry> entries;
  bool operator==(const Ack&) const = default;
};

struct Heartbeat {
  std::int64_t time_ns = 0;
  std::uint64_t spool_bytes = 0;      // unacknowledged bytes in the agent's spool
  std::uint64_t interval_ms = 0;      // the agent's heartbeat period
  bool operator==(const Heartbeat&) const = default;
};

struct Goodbye {
  std::string reason;                 // "sigterm", "termination notice: ...", ...
  bool after_termination_notice = false;
  bool operator==(const Goodbye&) const = default;
};

struct ErrorFrame {
  Errc code = Errc::kInternal;
  std::string message;                // for a person: what went wrong, what to do
  bool operator==(const ErrorFrame&) const = default;
};

std::string encode_hello(const Hello& m);
std::string encode_welcome(const Welcome& m);
std::string encode_ack(const Ack& m);
std::string encode_heartbeat(const Heartbeat& m);
std::string encode_goodbye(const Goodbye& m);
std::string encode_error(const ErrorFrame& m);
std::string encode_challenge(const Challenge& m);
std::string encode_proof(const Proof& m);

// Decoders reject trailing bytes, over-long strings and impossible counts (kMalformedFrame).
[[nodiscard]] Result<Hello> decode_hello(std::string_view payload);
[[nodiscard]] Result<Welcome> decode_welcome(std::string_view payload);
[[nodiscard]] Result<Ack> decode_ack(std::string_view payload);
[[nodiscard]] Result<Heartbeat> decode_heartbeat(std::string_view payload);
[[nodiscard]] Result<Goodbye> decode_goodbye(std::string_view payload);
[[nodiscard]] Result<ErrorFrame> decode_error(std::string_view payload);
[[nodiscard]] Result<Challenge> decode_challenge(std::string_view payload);
[[nodiscard]] Result<Proof> decode_proof(std::string_view payload);

}  // namespace blackbox
