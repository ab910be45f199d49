#include "schemas/frame.h"

#include "schemas/bytes.h"
#include "schemas/crc32c.h"
#include "tests/schemas/generators.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace blackbox {
namespace {

using testing::SeededRng;

// The frame header written from PROTOCOL.md §2, with every field under the test's control.
std::string spec_frame(std::uint8_t type, std::string_view payload,
                       std::uint32_t magic = kFrameMagic, std::uint8_t version = kProtocolVersion,
                       std::uint16_t flags = 0) {
  std::string h;
  bytes::put_le(h, magic);
  bytes::put_u8(h, version);
  bytes::put_u8(h, type);
  bytes::put_le(h, flags);
  bytes::put_le(h, static_cast<std::uint32_t>(payload.size()));
  bytes::put_le(h, crc32c::extend(crc32c::value(std::string_view(h).substr(4, 8)), payload));
  return h + std::string(payload);
}

std::string header_with_length(std::uint8_t type, std::uint32_t length) {
  std::string h;
  bytes::put_le(h, kFrameMagic);
  bytes::put_u8(h, kProtocolVersion);
  bytes::put_u8(h, type);
  bytes::put_le<std::uint16_t>(h, 0);
  bytes::put_le(h, length);
  bytes::put_le<std::uint32_t>(h, 0);
  return h;
}

Errc frame_errc(std::string_view buf, const Limits& limits = {}) {
  FrameType type;
  std::size_t consumed = 0;
  auto p = parse_frame(buf, limits, type, consumed);
  return p ? Errc::kOk : to_errc(p.error());
}

// ---- Generators for every payload type ---------------------------------------------------------

Hello random_hello(SeededRng& rng) {
  Hello m;
  m.protocol_version = rng.coin(2) ? kProtocolVersion : rng.edgy<std::uint16_t>();
  m.instance_id = rng.printable(1, 256);
  m.image_id = rng.nasty_bytes(40);
  m.boot_id = rng.nasty_bytes(40);
  m.hostname = rng.nasty_bytes(80);
  m.agent_version = rng.nasty_bytes(20);
  m.token = rng.coin(3) ? "" : rng.printable(64, 64);
  if (rng.coin(20)) m.hostname = std::string(kMaxFrameStringBytes, 'h');  // at the cap
  if (m.protocol_version >= kHelloVersionKeyAuth) {  // version 2 carries auth and public_key
    m.auth = rng.coin() ? "key" : rng.nasty_bytes(8);
    m.public_key = rng.nasty_bytes(40);
  }
  return m;
}

Challenge random_challenge(SeededRng& rng) {
  Challenge m{std::string(kNonceBytes, '\0')};
  for (char& c : m.nonce) c = static_cast<char>(rng.edgy<std::uint8_t>());
  return m;
}

Proof random_proof(SeededRng& rng) {
  Proof m{std::string(64, '\0'), rng.coin() ? "" : std::string(32, '\0')};
  for (char& c : m.signature) c = static_cast<char>(rng.edgy<std::uint8_t>());
  for (char& c : m.enrollment_mac) c = static_cast<char>(rng.edgy<std::uint8_t>());
  return m;
}

Welcome random_welcome(SeededRng& rng) {
  Welcome m;
  const std::size_t n = rng.coin(4) ? 0 : rng.range(1, 60);
  for (std::size_t i = 0; i < n; ++i)
    m.streams.push_back({rng.edgy<std::uint32_t>(), rng.edgy<std::uint64_t>(), rng.hash()});
  return m;
}

Ack random_ack(SeededRng& rng) {
  Ack m;
  const std::size_t n = rng.coin(4) ? 0 : rng.range(1, 60);
  for (std::size_t i = 0; i < n; ++i)
    m.entries.push_back({rng.edgy<std::uint32_t>(), rng.edgy<std::uint64_t>()});
  return m;
}

Heartbeat random_heartbeat(SeededRng& rng) {
  return {rng.edgy<std::int64_t>(), rng.edgy<std::uint64_t>(), rng.edgy<std::uint64_t>()};
}

Goodbye random_goodbye(SeededRng& rng) { return {rng.nasty_bytes(100), rng.coin()}; }

ErrorFrame random_error(SeededRng& rng) {
  static constexpr Errc kCodes[] = {Errc::kChecksumMismatch,
                                    Errc::kIdentityMismatch,
                                    Errc::kUnauthorized,
                                    Errc::kProtocolViolation,
                                    Errc::kBusy,
                                    Errc::kInternal,
                                    Errc::kFrameTooLarge,
                                    Errc::kOk};
  return {kCodes[rng.range(0, std::size(kCodes) - 1)], rng.nasty_bytes(200)};
}

// encode → frame → parse_frame → decode == original, for `rounds` generated values.
template <class T, class Gen, class Enc, class Dec>
void round_trip(FrameType type, Gen gen, Enc enc, Dec dec, int rounds = 300) {
  SeededRng rng;
  SCOPED_TRACE(rng.trace());
  for (int i = 0; i < rounds; ++i) {
    const T m = gen(rng);
    const std::string payload = enc(m);
    std::string wire;
    append_frame(wire, type, payload);
    wire += "next frame";  // parse_frame reads one frame from the front
    FrameType got_type;
    std::size_t consumed = 0;
    auto p = parse_frame(wire, Limits{}, got_type, consumed);
    ASSERT_TRUE(p) << p.error().message();
    ASSERT_EQ(got_type, type);
    ASSERT_EQ(consumed, kFrameHeaderBytes + payload.size());
    auto back = dec(*p);
    ASSERT_TRUE(back) << back.error().message();
    ASSERT_TRUE(*back == m) << "round " << i;
  }
}

TEST(FrameRoundTrip, Hello) {
  round_trip<Hello>(FrameType::kHello, random_hello, encode_hello, decode_hello);
}
TEST(FrameRoundTrip, Welcome) {
  round_trip<Welcome>(FrameType::kWelcome, random_welcome, encode_welcome, decode_welcome);
}
TEST(FrameRoundTrip, Ack) { round_trip<Ack>(FrameType::kAck, random_ack, encode_ack, decode_ack); }
TEST(FrameRoundTrip, Heartbeat) {
  round_trip<Heartbeat>(FrameType::kHeartbeat, random_heartbeat, encode_heartbeat,
                        decode_heartbeat);
}
TEST(FrameRoundTrip, Goodbye) {
  round_trip<Goodbye>(FrameType::kGoodbye, random_goodbye, encode_goodbye, decode_goodbye);
}
TEST(FrameRoundTrip, ErrorFrame) {
  round_trip<ErrorFrame>(FrameType::kError, random_error, encode_error, decode_error);
}

TEST(FrameRoundTrip, Challenge) {
  round_trip<Challenge>(FrameType::kChallenge, random_challenge, encode_challenge,
                        decode_challenge);
}
TEST(FrameRoundTrip, Proof) {
  round_trip<Proof>(FrameType::kProof, random_proof, encode_proof, decode_proof);
}

// Version 2 HELLO: the version-1 fields, then auth and public_key; a version-1 HELLO decodes as
// before (old agents keep working), and the key-auth frames refuse wrong sizes.
TEST(FrameSpec, KeyAuthLayouts) {
  Hello v2{2, "i-abc", "", "", "", "", "", "key", "PK"};
  EXPECT_EQ(encode_hello(v2), std::string("\x02\x00\x05i-abc\0\0\0\0\0\x03key\x02PK", 20));
  EXPECT_EQ(decode_hello(encode_hello(v2)).value(), v2);
  Hello v1{1, "i-abc", "", "", "", "", "tok"};
  EXPECT_EQ(encode_hello(v1), std::string("\x01\x00\x05i-abc\0\0\0\0\x03tok", 16));
  EXPECT_FALSE(decode_hello(encode_hello(v1) + std::string("\x03key\x02PK", 7)));
  EXPECT_EQ(encode_challenge({std::string(32, 'n')}), "\x20" + std::string(32, 'n'));
  EXPECT_FALSE(decode_challenge("\x1f" + std::string(31, 'n')));
  EXPECT_EQ(encode_proof({std::string(64, 's'), ""}), "\x40" + std::string(64, 's') + '\0');
  EXPECT_FALSE(decode_proof("\x3f" + std::string(63, 's') + '\0'));
  EXPECT_FALSE(decode_proof("\x40" + std::string(64, 's') + "\x10" + std::string(16, 'm')));
}

// Frames cut at random points arrive in pieces; a reader that follows the documented steps
// (16 bytes → parse_frame_header → length bytes → verify_frame_payload) gets every frame back.
TEST(FrameRoundTrip, StreamOfFramesSplitAnywhere) {
  SeededRng rng;
  SCOPED_TRACE(rng.trace());
  std::vector<std::pair<FrameType, std::string>> sent;
  std::string wire;
  for (int i = 0; i < 200; ++i) {
    const auto type = static_cast<FrameType>(rng.range(1, 7));
    std::string payload = rng.nasty_bytes(300);
    if (payload.empty()) payload = "x";
    append_frame(wire, type, payload);
    sent.emplace_back(type, payload);
  }
  std::string buffered;
  std::size_t next = 0, pos = 0;
  while (pos < wire.size()) {
    const std::size_t chunk = std::min<std::size_t>(rng.range(1, 100), wire.size() - pos);
    buffered.append(wire, pos, chunk);
    pos += chunk;
    while (buffered.size() >= kFrameHeaderBytes) {
      auto h = parse_frame_header(std::string_view(buffered).substr(0, kFrameHeaderBytes));
      ASSERT_TRUE(h) << h.error().message();
      if (buffered.size() < kFrameHeaderBytes + h->length) break;
      const std::string_view payload =
          std::string_view(buffered).substr(kFrameHeaderBytes, h->length);
      ASSERT_TRUE(verify_frame_payload(*h, payload));
      ASSERT_LT(next, sent.size());
      EXPECT_EQ(h->type, sent[next].first);
      EXPECT_EQ(payload, sent[next].second);
      ++next;
      buffered.erase(0, kFrameHeaderBytes + h->length);
    }
  }
  EXPECT_EQ(next, sent.size());
  EXPECT_TRUE(buffered.empty());
}

// ---- The bytes match the spec ----------------------------------------------------------------

TEST(FrameSpec, HeaderLayoutAndCrcCoverage) {
  std::string wire;
  append_frame(wire, FrameType::kAck, "payload");
  EXPECT_EQ(wire, spec_frame(4, "payload"));
  EXPECT_EQ(wire.substr(0, 4), "BBOX");
}

TEST(FrameSpec, PayloadLayouts) {
  Hello hello{1, "i-abc", "ami-1", "boot", "web-1", "0.1.0", ""};
  const std::string want_hello = std::string("\x01\x00", 2) + "\x05" + "i-abc" + "\x05" + "ami-1" +
                                 "\x04" + "boot" + "\x05" + "web-1" + "\x05" + "0.1.0" +
                                 std::string(1, '\0');
  EXPECT_EQ(encode_hello(hello), want_hello);

  Welcome welcome;
  welcome.streams.push_back({2, 0x0102030405060708ull, {}});
  welcome.streams[0].head[31] = 0xEE;
  std::string w = "\x01";
  w += std::string("\x02\x00\x00\x00", 4) + "\x08\x07\x06\x05\x04\x03\x02\x01";
  w += std::string(31, '\0') + "\xEE";
  EXPECT_EQ(encode_welcome(welcome), w);

  Ack ack{{{1, 300}, {3, 0}}};
  EXPECT_EQ(encode_ack(ack), std::string("\x02"
                                         "\x01\x00\x00\x00"
                                         "\x2c\x01\x00\x00\x00\x00\x00\x00"
                                         "\x03\x00\x00\x00"
                                         "\x00\x00\x00\x00\x00\x00\x00\x00",
                                         25));

  Heartbeat hb{-1, 5, 10'000};
  EXPECT_EQ(encode_heartbeat(hb), std::string(8, '\xff') + std::string("\x05\0\0\0\0\0\0\0", 8) +
                                      std::string("\x10\x27\0\0\0\0\0\0", 8));

  EXPECT_EQ(encode_goodbye({"sigterm", true}), std::string("\x07sigterm\x01", 9));
  EXPECT_EQ(encode_error({Errc::kChecksumMismatch, "crc"}), std::string("\x05\x00\x03"
                                                                        "crc",
                                                                        6));
}

// ---- Malformed frames: one test per class ------------------------------------------------------

TEST(FrameMalformed, TruncatedAtEveryLength) {
  std::string wire;
  append_frame(wire, FrameType::kGoodbye, encode_goodbye({"sigterm", false}));
  for (std::size_t n = 0; n < wire.size(); ++n)
    EXPECT_EQ(frame_errc(std::string_view(wire).substr(0, n)), Errc::kTruncated) << n;
  EXPECT_EQ(frame_errc(wire), Errc::kOk);
}

TEST(FrameMalformed, BadMagic) {
  EXPECT_EQ(frame_errc(spec_frame(1, "x", 0x584F4243)), Errc::kBadMagic);
  EXPECT_EQ(frame_errc(spec_frame(1, "x", 0)), Errc::kBadMagic);
  EXPECT_EQ(frame_errc("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Errc::kBadMagic);
}

TEST(FrameMalformed, UnknownVersion) {
  for (int v : {0, 2, 255})
    EXPECT_EQ(frame_errc(spec_frame(1, "x", kFrameMagic, static_cast<std::uint8_t>(v))),
              Errc::kUnsupportedVersion)
        << v;
}

TEST(FrameMalformed, UnknownFrameType) {
  for (int t : {0, 10, 42, 255})
    EXPECT_EQ(frame_errc(spec_frame(static_cast<std::uint8_t>(t), "x")), Errc::kUnknownFrameType)
        << t;
}

TEST(FrameMalformed, ReservedFlagsSet) {
  EXPECT_EQ(frame_errc(spec_frame(1, "x", kFrameMagic, kProtocolVersion, 1)),
            Errc::kMalformedFrame);
}

TEST(FrameMalformed, EveryBitFlipIsDetected) {
  std::string good;
  append_frame(good, FrameType::kHeartbeat, encode_heartbeat({123, 456, 789}));
  for (std::size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      const Errc e = frame_errc(bad);
      ASSERT_NE(e, Errc::kOk) << "byte " << byte << " bit " << bit;
      if (byte >= 12) {  // the CRC field and the payload
        EXPECT_EQ(e, Errc::kChecksumMismatch) << "byte " << byte << " bit " << bit;
      }
    }
  }
}

TEST(FrameMalformed, LengthZero) {
  for (std::uint8_t t = 1; t <= 7; ++t) {
    auto h = parse_frame_header(header_with_length(t, 0));
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error(), Errc::kEmptyFrame) << int(t);
  }
}

// Over-long lengths are refused from the 16 header bytes alone, before any payload buffer is
// allocated, and before the reader waits for bytes that will never fit.
TEST(FrameMalformed, LengthOverTheCapRejectedFromTheHeader) {
  Limits limits;
  limits.max_frame_bytes = 1000;
  for (std::uint8_t t = 1; t <= 7; ++t) {
    for (std::uint32_t len : {UINT32_MAX, 0x80000000u, kDefaultMaxFrameBytes + 1000u, 1121u}) {
      auto h = parse_frame_header(header_with_length(t, len), limits);
      ASSERT_FALSE(h) << int(t) << " " << len;
      EXPECT_EQ(h.error(), Errc::kFrameTooLarge) << int(t) << " " << len;
      // parse_frame says "too large", not "truncated: wait for more".
      EXPECT_EQ(frame_errc(header_with_length(t, len), limits), Errc::kFrameTooLarge);
    }
  }
  // Non-BATCH frames: the cap is max_frame_bytes.
  EXPECT_TRUE(parse_frame_header(header_with_length(1, 1000), limits));
  EXPECT_EQ(parse_frame_header(header_with_length(1, 1001), limits).error(), Errc::kFrameTooLarge);
  // A BATCH frame carries a 120-byte batch header plus at most max_frame_bytes of payload.
  EXPECT_TRUE(parse_frame_header(header_with_length(3, 1120), limits));
  EXPECT_EQ(parse_frame_header(header_with_length(3, 1121), limits).error(), Errc::kFrameTooLarge);
  // Defaults: 16 MiB.
  EXPECT_TRUE(parse_frame_header(header_with_length(4, kDefaultMaxFrameBytes)));
  EXPECT_FALSE(parse_frame_header(header_with_length(4, kDefaultMaxFrameBytes + 1)));
}

TEST(FrameMalformed, PayloadLengthDisagreesWithHeader) {
  std::string wire;
  append_frame(wire, FrameType::kHello, "abc");
  auto h = parse_frame_header(std::string_view(wire).substr(0, 16));
  ASSERT_TRUE(h);
  EXPECT_FALSE(verify_frame_payload(*h, "ab"));
  EXPECT_FALSE(verify_frame_payload(*h, "abcd"));
  EXPECT_TRUE(verify_frame_payload(*h, "abc"));
}

// ---- Payloads that lie -----------------------------------------------------------------------

template <class Dec>
void expect_every_prefix_malformed(const std::string& payload, Dec dec) {
  for (std::size_t n = 0; n < payload.size(); ++n) {
    auto r = dec(std::string_view(payload).substr(0, n));
    ASSERT_FALSE(r) << "prefix " << n << " of " << payload.size();
    EXPECT_EQ(r.error(), Errc::kMalformedFrame) << "prefix " << n;
  }
  auto r = dec(payload + "x");
  ASSERT_FALSE(r) << "trailing byte accepted";
  EXPECT_EQ(r.error(), Errc::kMalformedFrame);
  EXPECT_TRUE(dec(payload));
}

TEST(FramePayloadLies, TruncatedOrTrailingBytes) {
  expect_every_prefix_malformed(encode_hello({1, "i-1", "ami", "b", "h", "v", "t"}), decode_hello);
  Welcome w;
  w.streams.push_back({1, 2, {}});
  w.streams.push_back({3, 4, {}});
  expect_every_prefix_malformed(encode_welcome(w), decode_welcome);
  expect_every_prefix_malformed(encode_ack({{{1, 2}, {3, 4}}}), decode_ack);
  expect_every_prefix_malformed(encode_heartbeat({1, 2, 3}), decode_heartbeat);
  expect_every_prefix_malformed(encode_goodbye({"bye", true}), decode_goodbye);
  expect_every_prefix_malformed(encode_error({Errc::kBusy, "busy"}), decode_error);
}

TEST(FramePayloadLies, StringOverTheCap) {
  Goodbye g{std::string(kMaxFrameStringBytes, 'r'), false};
  EXPECT_TRUE(decode_goodbye(encode_goodbye(g)));
  g.reason.push_back('r');
  auto r = decode_goodbye(encode_goodbye(g));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kMalformedFrame);
  // A string length far beyond the payload, which must not be allocated.
  std::string p;
  bytes::put_varint(p, 1ull << 62);
  p += "short";
  EXPECT_EQ(decode_goodbye(p).error(), Errc::kMalformedFrame);
  Hello h;
  h.instance_id = std::string(kMaxFrameStringBytes + 1, 'i');
  EXPECT_EQ(decode_hello(encode_hello(h)).error(), Errc::kMalformedFrame);
}

TEST(FramePayloadLies, ImpossibleCounts) {
  for (std::uint64_t n : {1ull, 2ull, 4097ull, 1ull << 32, 1ull << 63, ~0ull}) {
    std::string p;
    bytes::put_varint(p, n);
    EXPECT_EQ(decode_welcome(p).error(), Errc::kMalformedFrame) << n;
    EXPECT_EQ(decode_ack(p).error(), Errc::kMalformedFrame) << n;
  }
  // A count that the bytes could hold but the spec caps (4096 streams).
  Ack big;
  big.entries.resize(4097);
  EXPECT_EQ(decode_ack(encode_ack(big)).error(), Errc::kMalformedFrame);
  big.entries.resize(4096);
  EXPECT_TRUE(decode_ack(encode_ack(big)));
}

TEST(FramePayloadLies, GoodbyeBooleanMustBeZeroOrOne) {
  std::string p = encode_goodbye({"x", false});
  p.back() = 2;
  EXPECT_EQ(decode_goodbye(p).error(), Errc::kMalformedFrame);
}

TEST(FrameNames, EveryTypeHasAName) {
  EXPECT_STREQ(frame_type_name(FrameType::kHello), "HELLO");
  EXPECT_STREQ(frame_type_name(FrameType::kWelcome), "WELCOME");
  EXPECT_STREQ(frame_type_name(FrameType::kBatch), "BATCH");
  EXPECT_STREQ(frame_type_name(FrameType::kAck), "ACK");
  EXPECT_STREQ(frame_type_name(FrameType::kHeartbeat), "HEARTBEAT");
  EXPECT_STREQ(frame_type_name(FrameType::kGoodbye), "GOODBYE");
  EXPECT_STREQ(frame_type_name(FrameType::kError), "ERROR");
  EXPECT_STREQ(frame_type_name(FrameType::kChallenge), "CHALLENGE");
  EXPECT_STREQ(frame_type_name(FrameType::kProof), "PROOF");
}

}  // namespace
}  // namespace blackbox
