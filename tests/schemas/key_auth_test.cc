// schemas/key_auth.h: the signed message binds nonce, instance and key; the enrollment MAC
// needs the secret; neither verifies under anything else.
#include "schemas/key_auth.h"

#include <gtest/gtest.h>

namespace blackbox {
namespace {

TEST(KeyAuth, AProofVerifiesOnlyForItsNonceInstanceAndKey) {
  auto key = Ed25519Key::generate().value();
  auto other = Ed25519Key::generate().value();
  const std::string nonce(kNonceBytes, 'n'), secret = "fleet";
  const Proof p = make_proof(key, nonce, "i-1", &secret);
  EXPECT_TRUE(proof_signature_valid(key.public_key(), nonce, "i-1", p));
  EXPECT_FALSE(proof_signature_valid(key.public_key(), std::string(kNonceBytes, 'm'), "i-1", p));
  EXPECT_FALSE(proof_signature_valid(key.public_key(), nonce, "i-2", p));
  EXPECT_FALSE(proof_signature_valid(other.public_key(), nonce, "i-1", p));
  const std::string msg = key_auth_message(nonce, "i-1", public_key_bytes(key.public_key()));
  EXPECT_EQ(msg.substr(0, kKeyAuthDomain.size()), kKeyAuthDomain);
  EXPECT_EQ(p.enrollment_mac.size(), kEnrollmentMacBytes);
  EXPECT_TRUE(enrollment_mac_valid(secret, msg, p.enrollment_mac));
  EXPECT_FALSE(enrollment_mac_valid("other", msg, p.enrollment_mac));
  EXPECT_TRUE(make_proof(key, nonce, "i-1", nullptr).enrollment_mac.empty());
}

TEST(KeyAuth, PublicKeysTravelAsTheir32RawBytes) {
  auto key = Ed25519Key::generate().value();
  EXPECT_EQ(parse_public_key(public_key_bytes(key.public_key())), key.public_key());
  EXPECT_FALSE(parse_public_key(std::string(31, 'k')));
  EXPECT_FALSE(parse_public_key(std::string(33, 'k')));
}

}  // namespace
}  // namespace blackbox
