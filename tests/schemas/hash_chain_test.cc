#include "schemas/hash_chain.h"

#include "tests/schemas/generators.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <string>

namespace blackbox {
namespace {

using testing::SeededRng;

ChainHash openssl_sha256(const std::string& data) {
  ChainHash h;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), h.data());
  return h;
}

TEST(HashChain, ToHexIsLowerCaseSixtyFourDigits) {
  ChainHash h{};
  h[0] = 0xAB;
  h[31] = 0x0F;
  EXPECT_EQ(to_hex(h), "ab" + std::string(60, '0') + "0f");
  EXPECT_EQ(to_hex(kZeroHash), std::string(64, '0'));
}

TEST(HashChain, KnownAnswerForZeroPrevAndEmptyParts) {
  // SHA-256 of 32 zero bytes.
  EXPECT_EQ(to_hex(chain_hash(kZeroHash, "", "")),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
}

// hash = SHA-256(prev ‖ header part ‖ payload): the split between the parts does not matter,
// only the concatenation.
TEST(HashChain, IsSha256OfConcatenation) {
  SeededRng rng;
  SCOPED_TRACE(rng.trace());
  for (int i = 0; i < 200; ++i) {
    const ChainHash prev = rng.hash();
    const std::string a = rng.nasty_bytes(80), b = rng.nasty_bytes(300);
    const std::string all = std::string(reinterpret_cast<const char*>(prev.data()), 32) + a + b;
    ASSERT_EQ(chain_hash(prev, a, b), openssl_sha256(all));
  }
}

}  // namespace
}  // namespace blackbox
