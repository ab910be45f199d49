// Signed chain heads (issue 12 item 5): the record body round-trips and matches
// signed_heads_body.schema.json; the signature covers every signed field (PROTOCOL.md §7.1) and
// nothing verifies with another key; malformed bodies are refused.
#include "schemas/signed_heads.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/schemas/body_test_support.h"

namespace blackbox {
namespace {

using nlohmann::json;

Ed25519Key key() {
  auto k = Ed25519Key::generate();
  EXPECT_TRUE(k.has_value());
  return std::move(*k);
}

SignedHeadsBody body(const Ed25519Key& k) {
  SignedHeadsBody b;
  b.instance = "i-0abc";
  b.signed_ns = 1'700'000'000'123'456'789;
  ChainHash h1{}, h2{};
  h1.fill(0x11);
  h2.fill(0xee);
  b.heads = {{2, 7, h2}, {1, 1200, h1}};
  sign_heads(b, k);
  return b;
}

TEST(SignedHeads, RoundTripsAndMatchesTheSchema) {
  const auto k = key();
  const auto b = body(k);
  EXPECT_EQ(b.heads[0].stream, 1u);  // sorted by stream before signing
  EXPECT_TRUE(signed_heads_valid(b));
  const std::string line = encode_signed_heads_body(b);
  EXPECT_TRUE(is_signed_heads_line(line));
  auto back = decode_signed_heads_body(line);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, b);
  EXPECT_TRUE(signed_heads_valid(*back));
  const json schema = testing::load_schema("signed_heads_body.schema.json");
  EXPECT_TRUE(testing::validate(schema, json::parse(line)).empty()) << line;
  EXPECT_EQ(json::parse(line)["fingerprint"], ed25519_fingerprint(k.public_key()));
}

TEST(SignedHeads, EverySignedFieldIsCovered) {
  const auto k = key();
  const auto good = body(k);
  std::vector<std::function<void(SignedHeadsBody&)>> edits = {
      [](SignedHeadsBody& b) { b.instance = "i-0abd"; },
      [](SignedHeadsBody& b) { b.signed_ns += 1; },
      [](SignedHeadsBody& b) { b.heads[0].stream = 3; },
      [](SignedHeadsBody& b) { b.heads[1].next_seq -= 1; },
      [](SignedHeadsBody& b) { b.heads[1].head[31] ^= 1; },
      [](SignedHeadsBody& b) { b.heads.pop_back(); },
      [](SignedHeadsBody& b) { b.signature[0] ^= 1; },
      [](SignedHeadsBody& b) { b.public_key = key().public_key(); },
  };
  for (std::size_t i = 0; i < edits.size(); ++i) {
    auto b = good;
    edits[i](b);
    EXPECT_FALSE(signed_heads_valid(b)) << "edit " << i;
  }
  // The message starts with its domain, so no other message signed by the key can pass.
  EXPECT_EQ(signed_heads_message(good).substr(0, kSignedHeadsDomain.size()), kSignedHeadsDomain);
}

TEST(SignedHeads, MalformedBodiesAreRefused) {
  const auto k = key();
  json good = json::parse(encode_signed_heads_body(body(k)));
  std::vector<std::function<void(json&)>> edits = {
      [](json& j) { j["event"] = "goodbye"; },
      [](json& j) { j.erase("signature"); },
      [](json& j) { j["signature"] = "abcd"; },
      [](json& j) { j["public_key"] = std::string(64, 'z'); },
      [](json& j) { j["fingerprint"] = "SHA256:AAAA"; },
      [](json& j) { j["heads"] = "none"; },
      [](json& j) { j["heads"][0]["stream"] = -1; },
      [](json& j) { j["heads"][0]["stream"] = 1ull << 40; },
      [](json& j) { j["heads"][0].erase("head"); },
      [](json& j) { j["signed_ns"] = "yesterday"; },
  };
  for (std::size_t i = 0; i < edits.size(); ++i) {
    json j = good;
    edits[i](j);
    EXPECT_FALSE(decode_signed_heads_body(j.dump()).has_value()) << "edit " << i << j.dump();
  }
  EXPECT_FALSE(decode_signed_heads_body("[]").has_value());
}

}  // namespace
}  // namespace blackbox
