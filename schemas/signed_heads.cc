#include "schemas/signed_heads.h"

#include <algorithm>
#include <cstring>

#include "schemas/body_json.h"
#include "schemas/hex.h"

namespace blackbox {

namespace {

template <class T>
void put_be(std::string& out, T v) {
  for (int i = sizeof(T) - 1; i >= 0; --i)
    out.push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff));
}

template <std::size_t N>
std::string_view raw(const std::array<std::uint8_t, N>& a) {
  return {reinterpret_cast<const char*>(a.data()), N};
}

template <std::size_t N>
bool from_hex(const nlohmann::json& j, const char* key, std::array<std::uint8_t, N>& out) {
  std::string text;
  if (!body_json::require(j, key, text)) return false;
  auto bytes = unhex(text);
  if (!bytes || bytes->size() != N) return false;
  std::memcpy(out.data(), bytes->data(), N);
  return true;
}

}  // namespace

std::string signed_heads_message(const SignedHeadsBody& b) {
  std::string m(kSignedHeadsDomain);
  put_be(m, static_cast<std::uint16_t>(std::min<std::size_t>(b.instance.size(), 0xffff)));
  m.append(b.instance.substr(0, 0xffff));
  put_be(m, b.signed_ns);
  m.append(raw(b.public_key));
  put_be(m, static_cast<std::uint32_t>(b.heads.size()));
  for (const auto& h : b.heads) {
    put_be(m, h.stream);
    put_be(m, h.next_seq);
    m.append(raw(h.head));
  }
  return m;
}

void sign_heads(SignedHeadsBody& b, const Ed25519Key& key) {
  std::sort(b.heads.begin(), b.heads.end(),
            [](const SignedHead& x, const SignedHead& y) { return x.stream < y.stream; });
  b.public_key = key.public_key();
  b.signature = key.sign(signed_heads_message(b));
}

bool signed_heads_valid(const SignedHeadsBody& b) {
  return ed25519_verify(b.public_key, signed_heads_message(b), b.signature);
}

std::string encode_signed_heads_body(const SignedHeadsBody& b) {
  nlohmann::json heads = nlohmann::json::array();
  for (const auto& h : b.heads)
    heads.push_back({{"head", to_hex(h.head)}, {"next_seq", h.next_seq}, {"stream", h.stream}});
  nlohmann::json j = {{"event", kSignedHeadsEvent},
                      {"fingerprint", ed25519_fingerprint(b.public_key)},
                      {"heads", std::move(heads)},
                      {"instance", b.instance},
                      {"public_key", hex_lower(raw(b.public_key))},
                      {"signature", hex_lower(raw(b.signature))},
                      {"signed_ns", b.signed_ns}};
  return body_json::dump(j);
}

bool is_signed_heads_line(std::string_view line) {
  return line.find("\"event\":\"signed_heads\"") != std::string_view::npos;
}

Result<SignedHeadsBody> decode_signed_heads_body(std::string_view line) {
  auto parsed = body_json::parse_object(line);
  if (!parsed) return parsed.error();
  const nlohmann::json& j = *parsed;
  SignedHeadsBody b;
  std::string event, fingerprint;
  if (!body_json::require(j, "event", event) || event != kSignedHeadsEvent ||
      !body_json::require(j, "instance", b.instance) ||
      !body_json::require(j, "fingerprint", fingerprint) ||
      !from_hex(j, "public_key", b.public_key) || !from_hex(j, "signature", b.signature))
    return Err(Errc::kMalformedRecord);
  const auto t = j.find("signed_ns");
  if (t == j.end() || !t->is_number_integer()) return Err(Errc::kMalformedRecord);
  b.signed_ns = t->get<std::int64_t>();
  if (fingerprint != ed25519_fingerprint(b.public_key)) return Err(Errc::kMalformedRecord);
  const auto heads = j.find("heads");
  if (heads == j.end() || !heads->is_array()) return Err(Errc::kMalformedRecord);
  for (const auto& h : *heads) {
    if (!h.is_object()) return Err(Errc::kMalformedRecord);
    SignedHead s;
    std::uint64_t stream = 0;
    const auto st = h.find("stream");
    const auto ns = h.find("next_seq");
    if (st == h.end() || !st->is_number_unsigned() || ns == h.end() || !ns->is_number_unsigned() ||
        !from_hex(h, "head", s.head))
      return Err(Errc::kMalformedRecord);
    stream = st->get<std::uint64_t>();
    if (stream > UINT32_MAX) return Err(Errc::kMalformedRecord);
    s.stream = static_cast<std::uint32_t>(stream);
    s.next_seq = ns->get<std::uint64_t>();
    b.heads.push_back(s);
  }
  return b;
}

}  // namespace blackbox
