#include "schemas/frame.h"

#include "schemas/batch.h"
#include "schemas/bytes.h"
#include "schemas/crc32c.h"

#include <cstring>

namespace blackbox {

namespace {

constexpr std::size_t kMaxListEntries = 4096;  // streams per WELCOME / ACK

std::uint32_t frame_crc(std::string_view header16, std::string_view payload) {
  return crc32c::extend(crc32c::value(header16.substr(4, 8)), payload);
}

bool get_str(bytes::Reader& in, std::string& out) {
  std::string_view v;
  if (!in.string(v, kMaxFrameStringBytes)) return false;
  out.assign(v);
  return true;
}

bool get_hash(bytes::Reader& in, ChainHash& out) {
  std::string_view v;
  if (!in.raw(out.size(), v)) return false;
  std::memcpy(out.data(), v.data(), out.size());
  return true;
}

template <class T>
Result<T> finish(bytes::Reader& in, bool ok, T&& value) {
  if (!ok || !in.empty()) return Err(Errc::kMalformedFrame);
  return std::move(value);
}

}  // namespace

const char* frame_type_name(FrameType t) noexcept {
  switch (t) {
    case FrameType::kHello: return "HELLO";
    case FrameType::kWelcome: return "WELCOME";
    case FrameType::kBatch: return "BATCH";
    case FrameType::kAck: return "ACK";
    case FrameType::kHeartbeat: return "HEARTBEAT";
    case FrameType::kGoodbye: return "GOODBYE";
    case FrameType::kError: return "ERROR";
    case FrameType::kChallenge: return "CHALLENGE";
    case FrameType::kProof: return "PROOF";
  }
  return "UNKNOWN";
}

Result<FrameHeader> parse_frame_header(std::string_view header16, const Limits& limits) {
  if (header16.size() < kFrameHeaderBytes) return Err(Errc::kTruncated);
  const char* p = header16.data();
  if (bytes::load_le<std::uint32_t>(p) != kFrameMagic) return Err(Errc::kBadMagic);
  if (static_cast<std::uint8_t>(p[4]) != kProtocolVersion) return Err(Errc::kUnsupportedVersion);
  const auto type = static_cast<std::uint8_t>(p[5]);
  if (type < 1 || type > kMaxFrameType) return Err(Errc::kUnknownFrameType);
  if (bytes::load_le<std::uint16_t>(p + 6) != 0) return Err(Errc::kMalformedFrame);
  FrameHeader h;
  h.type = static_cast<FrameType>(type);
  h.length = bytes::load_le<std::uint32_t>(p + 8);
  h.crc = bytes::load_le<std::uint32_t>(p + 12);
  if (h.length == 0) return Err(Errc::kEmptyFrame);
  // A BATCH frame is a batch header plus a payload of at most max_frame_bytes.
  const std::uint64_t cap = h.type == FrameType::kBatch
                                ? std::uint64_t{limits.max_frame_bytes} + kBatchHeaderBytes
                                : std::uint64_t{limits.max_frame_bytes};
  if (h.length > cap) return Err(Errc::kFrameTooLarge);
  return h;
}

Result<void> verify_frame_payload(const FrameHeader& h, std::string_view payload) {
  if (payload.size() != h.length) return Err(Errc::kTruncated);
  std::string header;
  header.reserve(kFrameHeaderBytes);
  bytes::put_le(header, kFrameMagic);
  bytes::put_u8(header, kProtocolVersion);
  bytes::put_u8(header, static_cast<std::uint8_t>(h.type));
  bytes::put_le<std::uint16_t>(header, 0);
  bytes::put_le(header, h.length);
  if (frame_crc(header, payload) != h.crc) return Err(Errc::kChecksumMismatch);
  return {};
}

void append_frame(std::string& out, FrameType type, std::string_view payload) {
  std::string header;
  header.reserve(kFrameHeaderBytes);
  bytes::put_le(header, kFrameMagic);
  bytes::put_u8(header, kProtocolVersion);
  bytes::put_u8(header, static_cast<std::uint8_t>(type));
  bytes::put_le<std::uint16_t>(header, 0);
  bytes::put_le(header, static_cast<std::uint32_t>(payload.size()));
  bytes::put_le(header, frame_crc(header, payload));
  out.append(header);
  out.append(payload);
}

Result<std::string_view> parse_frame(std::string_view buf, const Limits& limits, FrameType& type,
                                     std::size_t& consumed) {
  auto h = parse_frame_header(buf, limits);
  if (!h) return h.error();
  if (buf.size() - kFrameHeaderBytes < h->length) return Err(Errc::kTruncated);
  const std::string_view payload = buf.substr(kFrameHeaderBytes, h->length);
  if (auto ok = verify_frame_payload(*h, payload); !ok) return ok.error();
  type = h->type;
  consumed = kFrameHeaderBytes + h->length;
  return payload;
}

// ---- Payloads -------------------------------------------------------------------------------

std::string encode_hello(const Hello& m) {
  std::string out;
  bytes::put_le(out, m.protocol_version);
  for (const std::string* s :
       {&m.instance_id, &m.image_id, &m.boot_id, &m.hostname, &m.agent_version, &m.token})
    bytes::put_string(out, *s);
  if (m.protocol_version >= kHelloVersionKeyAuth) {
    bytes::put_string(out, m.auth);
    bytes::put_string(out, m.public_key);
  }
  return out;
}

Result<Hello> decode_hello(std::string_view payload) {
  bytes::Reader in(payload);
  Hello m;
  bool ok = in.le(m.protocol_version) && get_str(in, m.instance_id) && get_str(in, m.image_id) &&
            get_str(in, m.boot_id) && get_str(in, m.hostname) &&
            get_str(in, m.agent_version) && get_str(in, m.token);
  if (ok && m.protocol_version >= kHelloVersionKeyAuth)
    ok = get_str(in, m.auth) && get_str(in, m.public_key);
  return finish(in, ok, std::move(m));
}

std::string encode_welcome(const Welcome& m) {
  std::string out;
  bytes::put_varint(out, m.streams.size());
  for (const StreamPosition& s : m.streams) {
    bytes::put_le(out, s.stream);
    bytes::put_le(out, s.next_seq);
    out.append(reinterpret_cast<const char*>(s.head.data()), s.head.size());
  }
  return out;
}

Result<Welcome> decode_welcome(std::string_view payload) {
  bytes::Reader in(payload);
  Welcome m;
  std::uint64_t n;
  bool ok = in.varint(n) && n <= kMaxListEntries;
  for (std::uint64_t i = 0; ok && i < n; ++i) {
    StreamPosition s;
    ok = in.le(s.stream) && in.le(s.next_seq) && get_hash(in, s.head);
    m.streams.push_back(s);
  }
  return finish(in, ok, std::move(m));
}

std::string encode_ack(const Ack& m) {
  std::string out;
  bytes::put_varint(out, m.entries.size());
  for (const AckEntry& e : m.entries) {
    bytes::put_le(out, e.stream);
    bytes::put_le(out, e.highest_seq);
  }
  return out;
}

Result<Ack> decode_ack(std::string_view payload) {
  bytes::Reader in(payload);
  Ack m;
  std::uint64_t n;
  bool ok = in.varint(n) && n <= kMaxListEntries;
  for (std::uint64_t i = 0; ok && i < n; ++i) {
    AckEntry e;
    ok = in.le(e.stream) && in.le(e.highest_seq);
    m.entries.push_back(e);
  }
  return finish(in, ok, std::move(m));
}

std::string encode_heartbeat(const Heartbeat& m) {
  std::string out;
  bytes::put_le(out, m.time_ns);
  bytes::put_le(out, m.spool_bytes);
  bytes::put_le(out, m.interval_ms);
  return out;
}

Result<Heartbeat> decode_heartbeat(std::string_view payload) {
  bytes::Reader in(payload);
  Heartbeat m;
  bool ok = in.le(m.time_ns) && in.le(m.spool_bytes) && in.le(m.interval_ms);
  return finish(in, ok, std::move(m));
}

std::string encode_goodbye(const Goodbye& m) {
  std::string out;
  bytes::put_string(out, m.reason);
  bytes::put_u8(out, m.after_termination_notice ? 1 : 0);
  return out;
}

Result<Goodbye> decode_goodbye(std::string_view payload) {
  bytes::Reader in(payload);
  Goodbye m;
  std::uint8_t notice = 0;
  bool ok = get_str(in, m.reason) && in.u8(notice) && notice <= 1;
  m.after_termination_notice = notice == 1;
  return finish(in, ok, std::move(m));
}

std::string encode_error(const ErrorFrame& m) {
  std::string out;
  bytes::put_le(out, static_cast<std::uint16_t>(m.code));
  bytes::put_string(out, m.message);
  return out;
}

Result<ErrorFrame> decode_error(std::string_view payload) {
  bytes::Reader in(payload);
  ErrorFrame m;
  std::uint16_t code = 0;
  bool ok = in.le(code) && get_str(in, m.message);
  m.code = static_cast<Errc>(code);
  return finish(in, ok, std::move(m));
}

std::string encode_challenge(const Challenge& m) {
  std::string out;
  bytes::put_string(out, m.nonce);
  return out;
}

Result<Challenge> decode_challenge(std::string_view payload) {
  bytes::Reader in(payload);
  Challenge m;
  bool ok = get_str(in, m.nonce) && m.nonce.size() == kNonceBytes;
  return finish(in, ok, std::move(m));
}

std::string encode_proof(const Proof& m) {
  std::string out;
  bytes::put_string(out, m.signature);
  bytes::put_string(out, m.enrollment_mac);
  return out;
}

Result<Proof> decode_proof(std::string_view payload) {
  bytes::Reader in(payload);
  Proof m;
  bool ok = get_str(in, m.signature) && get_str(in, m.enrollment_mac) && m.signature.size() == 64 &&
            (m.enrollment_mac.empty() || m.enrollment_mac.size() == 32);
  return finish(in, ok, std::move(m));
}

}  // namespace blackbox
